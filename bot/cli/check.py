"""`handoff check-config`: the config file validated, every problem with file, line and key."""

from __future__ import annotations

import argparse

from bot.cli.common import Subcommands, command, config_option
from bot.config import load_config


def register(commands: Subcommands) -> None:
    """Adds `check-config`."""
    config_option(command(commands, "check-config", check_config, help="validate the config file"))


def check_config(args: argparse.Namespace) -> int:
    """Validates the config file; says what it holds."""
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
