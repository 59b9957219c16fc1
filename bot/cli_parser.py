"""The `handoff` command line's arguments: one parser, one subcommand per job."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from bot.leadfiles import parse_instant


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
