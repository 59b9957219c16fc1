"""`handoff check-config`: the config file validated, every problem with file, line and
key; `handoff init`: the documented example config written out to start from."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.common import Subcommands, command, config_option
from bot.config import DEFAULT_PATH, load_config
from bot.resources import example_file


def register(commands: Subcommands) -> None:
    """Adds `check-config` and `init`."""
    config_option(command(commands, "check-config", check_config, help="validate the config file"))
    register_init(commands)


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


def register_init(commands: Subcommands) -> None:
    """Adds `init`."""
    init = command(
        commands,
        "init",
        init_config,
        help="write the documented example config to start from (handoff.example.toml)",
    )
    init.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_PATH,
        metavar="FILE",
        help="where to write it (default: ./handoff.toml; never overwritten)",
    )


def init_config(args: argparse.Namespace) -> int:
    """Writes the example config where the admin asked, unless a file is already there."""
    out: Path = args.out
    if out.exists():
        print(
            f"{out}: already exists; not overwritten (choose another with --out)", file=sys.stderr
        )
        return 2
    out.write_text(example_file("handoff.example.toml").read_text(encoding="utf-8"))
    print(f"Wrote {out}: edit the rules, channel and reps, then run `handoff check-config`.")
    return 0
