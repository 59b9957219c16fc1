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

from bot import demo
from bot.calibratecmd import (
    CalibrationInputs,
    known_leads_from_db,
    known_leads_from_file,
    run_calibration,
)
from bot.cli_parser import build_parser
from bot.config import ConfigError, load_config
from bot.demo_script import run_scripted
from bot.importcmd import ImportOptions, run_import
from bot.intake import Context
from bot.leadfiles import FileProblem, RowError
from bot.outcomes import import_outcomes, print_import
from bot.revenue import run_revenue_report
from bot.runtime import open_database, sync_team
from bot.scorecmd import LeadInputs, run_backtest, run_score
from bot.server import database_command, run_sandbox, run_worker, serve
from bot.settings import Settings
from bot.sweepcmd import run_digest, run_out_of_office, run_sweep
from scoring.calibrate import Options


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
            open_browser=not args.no_browser and demo.can_open_browser(),
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
