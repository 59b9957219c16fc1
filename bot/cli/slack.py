"""`handoff slack check`: the token, every configured channel, and the outbox."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from sqlmodel import Session

from bot.cli.common import Subcommands, command, config_option, database
from bot.config import Settings, load_config
from bot.slack.checks import check_slack
from bot.slack.surface import web_client
from store.dead_letters import health


def register(commands: Subcommands) -> None:
    """Adds `slack check`."""
    slack = commands.add_parser("slack", help="the Slack workspace")
    actions = slack.add_subparsers(dest="slack_command", required=True, metavar="ACTION")
    config_option(
        command(
            actions,
            "check",
            check_command,
            help="check the token and each channel (joining public ones), and the outbox",
        )
    )


def check_command(args: argparse.Namespace) -> int:
    """`handoff slack check`: exit 0 when all is well, 1 when something needs fixing."""
    config = load_config(args.config).settings
    settings = Settings()
    missing = settings.missing_for_slack()
    if missing:
        print(f"handoff slack check: {', '.join(missing)} not set", file=sys.stderr)
        return 2
    assert settings.slack_bot_token is not None
    client = web_client(
        token=settings.slack_bot_token.get_secret_value(), api_url=settings.slack_api_url
    )
    check = check_slack(client, config)
    for fine, said in check.found:
        print(("ok    " if fine else "FIX   ") + said, flush=True)
    with database(settings) as engine, Session(engine) as session:
        counts = health(session=session, now=datetime.now(UTC))
    stuck = counts["dead"] + counts["overdue"]
    print(
        ("ok    " if not stuck else "FIX   ")
        + f"outbox: {counts['dead']} dead, {counts['overdue']} overdue, {counts['pending']} pending"
        + (" (see `handoff outbox list`)" if stuck else "")
    )
    wrong = len(check.problems) + bool(stuck)
    print(f"{wrong} thing(s) to fix." if wrong else "All set.")
    return 1 if wrong else 0
