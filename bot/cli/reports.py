"""`handoff digest` and `handoff report revenue`: the week's numbers and score to
revenue, printed or posted."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from sqlmodel import Session

from bot.cli.common import Subcommands, command, config_option, database, send_queued
from bot.config import Config, Settings, load_config, report_channel
from bot.reports.digest import digest_channel, queue_digest, week_period, weekly_numbers
from bot.reports.format import FORMATTERS, terminal
from bot.reports.numbers import DigestNumbers
from bot.reports.revenue import last_months, queue_revenue_report, revenue_report


def register(commands: Subcommands) -> None:
    """Adds `digest` and `report revenue`."""
    digest = command(
        commands, "digest", digest_command, help="the week's numbers (leads, decisions, SLA)"
    )
    config_option(digest)
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

    report = commands.add_parser("report", help="reports")
    reports = report.add_subparsers(dest="report", required=True, metavar="REPORT")
    revenue = command(
        reports,
        "revenue",
        revenue_command,
        help="score to revenue: per month of hand-off and tier, what they became",
    )
    config_option(revenue)
    revenue.add_argument("--months", type=int, default=6, metavar="N", help="how many months (6)")
    revenue.add_argument("--format", choices=["text", "json"], default="text")
    revenue.add_argument(
        "--post",
        action="store_true",
        help="post it to [calibration] channel (else sla.escalation_channel)",
    )


def digest_command(args: argparse.Namespace) -> int:
    """`handoff digest`."""
    return run_digest(
        settings=Settings(),
        config=load_config(args.config),
        week=args.week,
        fmt=args.format,
        post=args.post,
    )


def run_digest(
    *, settings: Settings, config: Config, week: str | None, fmt: str, post: bool = False
) -> int:
    """Prints a week's digest (with its change from the week before), or posts it."""
    team = config.team
    now = datetime.now(UTC)
    try:
        label, _ = week_period(week, team=team, now=now)
    except ValueError as exc:
        print(f"handoff digest: {exc}", file=sys.stderr)
        return 2
    with database(settings) as engine:
        with Session(engine) as session:
            numbers = weekly_numbers(
                session=session,
                team=team,
                reasons=config.settings.reject_reasons,
                week=label,
                now=now,
            )
            if post:
                queue_digest(
                    session=session,
                    team=team,
                    digest=config.settings.digest,
                    numbers=numbers,
                    now=now,
                )
                session.commit()
        if post:
            where = digest_channel(team=team, digest=config.settings.digest)
            print(f"Digest of {label} queued for {where}.")
            send_queued(settings, config, engine)
            return 0
    print(numbers.model_dump_json(indent=2) if fmt == "json" else digest_text(numbers))
    return 0


def digest_text(numbers: DigestNumbers) -> str:
    """Gets the digest as text."""
    return terminal("digest.txt.j2", m=numbers, **FORMATTERS)


def revenue_command(args: argparse.Namespace) -> int:
    """`handoff report revenue`."""
    return run_revenue_report(
        settings=Settings(),
        config=load_config(args.config),
        months=args.months,
        fmt=args.format,
        post=args.post,
        now=datetime.now(UTC),
    )


def run_revenue_report(
    *, settings: Settings, config: Config, months: int, fmt: str, post: bool, now: datetime
) -> int:
    """Prints (or posts) the score-to-revenue report of the last `months` months."""
    if months < 1:
        print("handoff report revenue: --months must be 1 or more", file=sys.stderr)
        return 2
    team, channel = config.team, report_channel(config.settings)
    if post and channel is None:
        print(
            f"handoff report revenue: {config.path}: set [calibration] channel or "
            "sla.escalation_channel to post the report",
            file=sys.stderr,
        )
        return 2
    with database(settings) as engine, Session(engine) as session:
        report = revenue_report(
            session=session,
            team=team,
            reasons=config.settings.reject_reasons,
            months=last_months(months, now=now, timezone=team.timezone),
        )
        if post:
            assert channel is not None
            queue_revenue_report(session=session, channel=channel, report=report, now=now)
            session.commit()
    if post:
        print(f"Revenue report queued for {channel}; the worker sends it.")
    elif fmt == "json":
        print(report.model_dump_json(indent=2))
    else:
        print(terminal("revenue.txt.j2", r=report, **FORMATTERS))
    return 0
