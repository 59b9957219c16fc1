"""The `handoff` command line: one entry point, one subcommand per job.

Exit codes: 0 done; 1 done, but some input rows were bad (each reported as FILE:LINE);
2 nothing done: bad usage, config or file (the message says what to fix).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot import demo
from bot.calibratecmd import (
    CalibrationInputs,
    known_leads_from_db,
    known_leads_from_file,
    run_calibration,
)
from bot.config import ConfigError, load_config
from bot.demo_script import run_scripted
from bot.importcmd import ImportOptions, run_import
from bot.intake import Context
from bot.leadfiles import FileProblem, RowError, parse_instant
from bot.outcomes import import_outcomes, print_import
from bot.revenue import run_revenue_report
from bot.runtime import open_database, sync_team
from bot.scorecmd import LeadInputs, run_backtest, run_score
from bot.server import database_command, run_sandbox, run_worker, serve
from bot.settings import Settings
from bot.sweepcmd import run_digest, run_out_of_office, run_sweep
from scoring.calibrate import Options


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date-time (e.g. 2026-11-23T09:00:00Z)"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    """Builds the argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="handoff",
        description="Lead hand-off from marketing to sales, in Slack.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check-config", help="validate the config file")
    _config_option(check)

    score = commands.add_parser("score", help="score leads from a CSV or JSON Lines file")
    _scoring_options(score)
    score.add_argument("--format", choices=["table", "json"], default="table")

    bt = commands.add_parser("backtest", help="replay leads with known outcomes through the rules")
    _scoring_options(bt)
    bt.add_argument(
        "--outcome-column",
        required=True,
        metavar="COL",
        help="column holding the outcome (1/0, true/false, yes/no, won/lost)",
    )
    bt.add_argument("--format", choices=["table", "json"], default="table")
    bt.add_argument(
        "--compare",
        metavar="OTHER.toml",
        help="also replay through this config's [scoring] and show both side by side",
    )

    cal = commands.add_parser(
        "calibrate", help="suggest points from leads with known outcomes (closed-won data)"
    )
    _config_option(cal)
    source = cal.add_mutually_exclusive_group(required=True)
    source.add_argument("--leads", type=Path, metavar="FILE", help="leads, CSV or JSON Lines")
    source.add_argument(
        "--from-db",
        action="store_true",
        help="the database's leads ($DATABASE_URL); converted = has a closed_won outcome",
    )
    cal.add_argument("--outcome-column", metavar="COL", help="with --leads: the outcome column")
    cal.add_argument("--activities", type=Path, metavar="FILE", help="activities of the leads")
    cal.add_argument("--id-column", default="external_id", metavar="NAME")
    cal.add_argument(
        "--max-changes", type=int, default=5, metavar="N", help="at most N rule changes (5)"
    )
    cal.add_argument(
        "--min-support",
        type=int,
        default=30,
        metavar="N",
        help="a rule must fire on at least N leads to change (30)",
    )
    cal.add_argument(
        "--exclude-column",
        action="append",
        default=[],
        metavar="COL",
        help="never suggest rules on this field (e.g. one written after sales talked to the "
        "lead); repeatable",
    )
    cal.add_argument("--out", type=Path, metavar="FILE", help="write the suggested config here")
    cal.add_argument("--format", choices=["table", "json"], default="table")
    cal.add_argument(
        "--now", type=_instant, metavar="ISO", help="measure activity ages as of (default: now)"
    )

    dm = commands.add_parser(
        "demo", help="the whole hand-off in a local Slack sandbox you can click (no account)"
    )
    _config_option(dm)
    mode = dm.add_mutually_exclusive_group()
    mode.add_argument(
        "--scripted",
        action="store_true",
        help="run a fixed scenario end to end and print what happens (no browser)",
    )
    mode.add_argument(
        "--scores", action="store_true", help="score and explain the example leads, then exit"
    )
    dm.add_argument(
        "--port", type=int, default=3210, help="the sandbox page's port (default 3210; 0 picks one)"
    )
    dm.add_argument("--leads", type=int, default=40, help="how many leads to feed in (default 40)")
    dm.add_argument(
        "--every", type=float, default=20.0, metavar="SECONDS", help="seconds between leads"
    )
    dm.add_argument("--no-browser", action="store_true", help="do not open the page")

    serve = commands.add_parser("serve", help="run the HTTP app (intake API, health)")
    _config_option(serve)
    serve.add_argument("--host", help="address to listen on (default: $HOST, else 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: $PORT, else 8080; 0 picks one)")
    serve.add_argument(
        "--web-only",
        action="store_true",
        help="no background jobs: for extra web processes beside a `handoff worker`",
    )

    worker = commands.add_parser("worker", help="run the SLA sweep and the Slack sender")
    _config_option(worker)

    sweep = commands.add_parser("sweep", help="send the reminders and escalations due now")
    _config_option(sweep)
    sweep.add_argument(
        "--now", type=_instant, metavar="ISO", help="sweep as of this instant (default: now)"
    )

    digest = commands.add_parser("digest", help="the week's numbers (leads, decisions, SLA)")
    _config_option(digest)
    digest.add_argument(
        "--week",
        metavar="YYYY-Www",
        help="ISO week, e.g. 2026-W47 (default: the current week so far)",
    )
    digest.add_argument("--format", choices=["text", "json"], default="text")
    where = digest.add_mutually_exclusive_group()
    where.add_argument("--print", action="store_true", help="show it here (the default)")
    where.add_argument(
        "--post",
        action="store_true",
        help="post it to the digest channel ([digest] channel, else team.digest_channel)",
    )

    rep = commands.add_parser("rep", help="manage reps")
    rep_commands = rep.add_subparsers(dest="rep_command", required=True, metavar="ACTION")
    ooo = rep_commands.add_parser("ooo", help="mark a rep out of office (on) or back (off)")
    _config_option(ooo)
    ooo.add_argument("slack_id", metavar="SLACK_ID")
    ooo.add_argument("state", choices=["on", "off"])

    sandbox = commands.add_parser("sandbox", help="run a local Slack (no workspace needed)")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=3210)

    imo = commands.add_parser(
        "import-outcomes", help="record opportunities and wins from a CSV or JSON Lines file"
    )
    imo.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="columns: lead_external_id, stage (opportunity|closed_won|closed_lost), "
        "amount, occurred_at[, source_system]",
    )
    imo.add_argument(
        "--source-system",
        default="csv",
        metavar="NAME",
        help="the leads' source system where the file has no source_system column (csv)",
    )
    imo.add_argument(
        "--id-column",
        default="lead_external_id",
        metavar="NAME",
        help="the column with the lead's id (default: lead_external_id)",
    )

    report = commands.add_parser("report", help="reports")
    reports = report.add_subparsers(dest="report", required=True, metavar="REPORT")
    revenue = reports.add_parser(
        "revenue", help="score to revenue: per month of hand-off and tier, what they became"
    )
    _config_option(revenue)
    revenue.add_argument("--months", type=int, default=6, metavar="N", help="how many months (6)")
    revenue.add_argument("--format", choices=["text", "json"], default="text")
    revenue.add_argument(
        "--post",
        action="store_true",
        help="post it to [calibration] channel (else sla.escalation_channel)",
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply pending migrations ($DATABASE_URL)")
    db_commands.add_parser("current", help="show the database's migration revision")

    imp = commands.add_parser("import", help="take in leads from a CSV or JSON Lines file")
    _config_option(imp)
    imp.add_argument("file", type=Path, metavar="FILE", help="leads, CSV or JSON Lines")
    imp.add_argument(
        "--activities",
        type=Path,
        metavar="FILE",
        help="activities, CSV or JSON Lines: lead_id, kind, occurred_at[, id]",
    )
    imp.add_argument(
        "--source-system",
        default="csv",
        metavar="NAME",
        help="where these leads come from (part of a lead's identity; default: csv)",
    )
    imp.add_argument(
        "--id-column",
        default="external_id",
        metavar="NAME",
        help="the leads' id column (default: external_id)",
    )
    imp.add_argument(
        "--dry-run", action="store_true", help="score and route everything, then save nothing"
    )
    return parser


def _has_display() -> bool:
    """Tells whether a browser could open here (not over SSH, not in CI)."""
    import os

    if os.environ.get("CI"):
        return False
    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="config file (default: $HANDOFF_CONFIG, else ./handoff.toml)",
    )


def _scoring_options(parser: argparse.ArgumentParser) -> None:
    _config_option(parser)
    parser.add_argument(
        "--leads",
        required=True,
        type=Path,
        metavar="FILE",
        help="leads, CSV or JSON Lines, one column/key per field",
    )
    parser.add_argument(
        "--activities",
        type=Path,
        metavar="FILE",
        help="activities, CSV or JSON Lines: lead_id, kind, occurred_at",
    )
    parser.add_argument(
        "--id-column",
        default="external_id",
        metavar="NAME",
        help="the leads' id column (default: external_id)",
    )
    parser.add_argument(
        "--now", type=_instant, metavar="ISO", help="score as of this instant (default: now)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; gets the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except FileProblem as exc:
        print(exc, file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "check-config":
        config = load_config(args.config)
        rules = config.settings.scoring
        detail = (
            f"scoring {rules.version}: {len(rules.fit)} fit, {len(rules.intent)} intent, "
            f"{len(rules.disqualify)} disqualify rule(s)"
            if rules
            else "no [scoring] section"
        )
        print(f"{config.path}: OK ({detail})")
        return 0
    if args.command == "demo":
        if args.scores:
            return demo.run_scores(args.config)
        if args.scripted:
            return run_scripted(sys.stdout)
        return demo.run_live(
            port=args.port,
            leads=args.leads,
            every=args.every,
            open_browser=not args.no_browser and _has_display(),
        )
    if args.command == "calibrate":
        return _calibrate(args)
    if args.command == "sandbox":
        return run_sandbox(host=args.host, port=args.port)
    if args.command == "sweep":
        return run_sweep(settings=Settings(), config=load_config(args.config), now=args.now)
    if args.command == "digest":
        return run_digest(
            settings=Settings(),
            config=load_config(args.config),
            week=args.week,
            fmt=args.format,
            post=args.post,
        )
    if args.command == "rep":
        return run_out_of_office(
            settings=Settings(),
            config=load_config(args.config),
            slack_id=args.slack_id,
            away=args.state == "on",
        )
    if args.command == "report":
        return run_revenue_report(
            settings=Settings(),
            config=load_config(args.config),
            months=args.months,
            fmt=args.format,
            post=args.post,
            now=datetime.now(UTC),
        )
    if args.command == "import-outcomes":
        return _import_outcomes(args)
    if args.command in ("serve", "db", "import", "worker"):
        return _service_command(args)
    rules = load_config(args.config).scoring
    now = args.now or datetime.now(UTC)
    inputs = LeadInputs(args.leads, args.activities, now, args.id_column)
    if args.command == "score":
        return run_score(rules, inputs, fmt=args.format, out=sys.stdout)
    compare = load_config(args.compare).scoring if args.compare else None
    return run_backtest(
        rules,
        inputs,
        outcome_column=args.outcome_column,
        fmt=args.format,
        out=sys.stdout,
        compare=compare,
    )


def _calibrate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if config.settings.scoring is None:
        raise ConfigError([f"{config.path}: calibrate needs a [scoring] section to start from"])
    if args.max_changes < 1 or args.min_support < 1:
        print(
            "handoff calibrate: --max-changes and --min-support must be 1 or more", file=sys.stderr
        )
        return 2
    now = args.now or datetime.now(UTC)
    if args.from_db:
        leads, source = known_leads_from_db(Settings()), "the database"
        errors: list[RowError] = []
    else:
        if not args.outcome_column:
            print("handoff calibrate: --leads needs --outcome-column COL", file=sys.stderr)
            return 2
        inputs = CalibrationInputs(
            leads=args.leads,
            outcome_column=args.outcome_column,
            activities=args.activities,
            id_column=args.id_column,
            exclude=frozenset(args.exclude_column),
        )
        leads, errors = known_leads_from_file(inputs)
        source = str(args.leads)
    options = Options(
        max_changes=args.max_changes,
        min_support=args.min_support,
        exclude=frozenset(args.exclude_column),
    )
    code = run_calibration(
        config,
        leads,
        options=options,
        now=now,
        out_path=args.out,
        fmt=args.format,
        out=sys.stdout,
        source=source,
    )
    for error in errors:
        print(error, file=sys.stderr)
    return code if code or not errors else 1


def _import_outcomes(args: argparse.Namespace) -> int:
    engine, _ = open_database(Settings().database_url)
    try:
        report = import_outcomes(
            engine=engine,
            path=args.file,
            source_system=args.source_system,
            id_column=args.id_column,
            now=datetime.now(UTC),
        )
    finally:
        engine.dispose()
    return print_import(report, args.file)


def _service_command(args: argparse.Namespace) -> int:
    if args.command in ("serve", "worker"):
        # Long-running processes say what their background jobs do (lease, sweep, sender).
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        for noisy in ("apscheduler", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings()
    if args.command == "db":
        return database_command(args.db_command, settings)
    config = load_config(args.config)
    rules, team = config.scoring, config.team
    if args.command == "serve":
        return serve(
            settings, config=config.settings, host=args.host, port=args.port, web_only=args.web_only
        )
    if args.command == "worker":
        return run_worker(settings, config=config.settings)
    options = ImportOptions(
        leads=args.file,
        activities=args.activities,
        source_system=args.source_system,
        id_column=args.id_column,
        dry_run=args.dry_run,
    )
    engine, _ = open_database(settings.database_url)
    try:
        sync_team(engine=engine, team=team)
        context = Context(rules=rules, team=team, now=datetime.now(UTC), sla=config.settings.sla)
        return run_import(engine=engine, options=options, context=context)
    finally:
        engine.dispose()


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
