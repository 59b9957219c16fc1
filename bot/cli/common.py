"""What every command module shares: the `--config` option, ISO instants, the database
opened for one command, and sending what a command queued."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from bot.cli.leadfiles import parse_instant
from bot.config import Config, Settings
from bot.handoffs.team import sync_team
from bot.runtime.database import database as open_engine
from bot.runtime.serve import slack_deliverer

Subcommands = Any  # argparse's `_SubParsersAction`, which it does not export
Handler = Callable[[argparse.Namespace], int]


def command(
    commands: Subcommands, name: str, handler: Handler, **kwargs: Any
) -> argparse.ArgumentParser:
    """Adds a subcommand run by `handler(args)` (which gets the exit code)."""
    parser: argparse.ArgumentParser = commands.add_parser(name, **kwargs)
    parser.set_defaults(handler=handler)
    return parser


def instant(text: str) -> datetime:
    """An argparse type: an ISO 8601 date-time."""
    try:
        return parse_instant(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date-time (e.g. 2026-11-23T09:00:00Z)"
        ) from None


def config_option(parser: argparse.ArgumentParser) -> None:
    """Adds `--config FILE`."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="config file (default: $HANDOFF_CONFIG, else ./handoff.toml)",
    )


@contextmanager
def database(
    settings: Settings, config: Config | None = None, *, migrate: bool = True
) -> Iterator[Engine]:
    """The database for one command ($DATABASE_URL, migrations applied unless `migrate`
    is off), with the config's reps in sync when a config is given; disposed of at the end."""
    with open_engine(settings.database_url, migrate=migrate) as engine:
        if config is not None:
            sync_team(engine=engine, team=config.team)
        yield engine


def send_queued(settings: Settings, config: Config, engine: Engine) -> None:
    """Sends what the command queued, now, when Slack is configured."""
    if settings.missing_for_slack():
        return
    deliverer = slack_deliverer(settings, engine, config.settings)
    assert deliverer is not None
    report = deliverer.deliver_due()
    print(
        f"Sent to Slack: {report.sent}; waiting for a retry: {report.rescheduled}; "
        f"given up: {report.dead}."
    )
