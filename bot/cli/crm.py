"""`handoff crm check`: calls each configured CRM once and says what is wrong."""

from __future__ import annotations

import argparse

from bot.cli.common import Subcommands, command, config_option
from bot.config import Settings, load_config
from bot.crm.check import check_crms


def register(commands: Subcommands) -> None:
    """Adds `crm check`."""
    crm = commands.add_parser("crm", help="HubSpot, Salesforce and webhooks")
    actions = crm.add_subparsers(dest="crm_command", required=True, metavar="ACTION")
    config_option(
        command(
            actions,
            "check",
            check_command,
            help="call each configured CRM once and say what is wrong",
        )
    )


def check_command(args: argparse.Namespace) -> int:
    """`handoff crm check`: exit 0 when all is well, 1 when something needs fixing."""
    config = load_config(args.config).settings
    wrong = 0
    for fine, said in check_crms(Settings(), config):
        print(("ok    " if fine else "FIX   ") + said, flush=True)
        wrong += not fine
    print(f"{wrong} thing(s) to fix." if wrong else "All set.")
    return 1 if wrong else 0
