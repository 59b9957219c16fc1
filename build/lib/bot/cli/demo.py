"""`handoff demo` and `handoff sandbox`: the whole hand-off on this machine, in a Slack
sandbox you can click; `--scripted` runs a fixed scenario and prints it (no browser);
`--scores` scores and explains the example leads as of a fixed instant (the same output
on every machine and every day)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.cli.common import Subcommands, command, config_option
from bot.cli.scoring import LeadInputs, run_score
from bot.config import Config, ConfigError, load_config
from bot.resources import example_path
from bot.sandbox.live import can_open_browser, run_live, run_sandbox
from bot.sandbox.script import run_scripted

DEMO_NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def register(commands: Subcommands) -> None:
    """Adds `demo` and `sandbox`."""
    dm = command(
        commands,
        "demo",
        demo_command,
        help="the whole hand-off in a local Slack sandbox you can click (no account)",
    )
    config_option(dm)
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

    sandbox = command(
        commands, "sandbox", sandbox_command, help="run a local Slack (no workspace needed)"
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=3210)


def demo_command(args: argparse.Namespace) -> int:
    """`handoff demo [--scripted | --scores]`."""
    if args.scores:
        return run_scores(args.config)
    if args.scripted:
        return run_scripted(sys.stdout)
    return run_live(
        port=args.port,
        leads=args.leads,
        every=args.every,
        open_browser=not args.no_browser and can_open_browser(),
    )


def sandbox_command(args: argparse.Namespace) -> int:
    """`handoff sandbox`."""
    return run_sandbox(host=args.host, port=args.port)


INTRO = """\
Scoring the example leads ({leads}) and their activities ({activities})
with the rules in {config}, as of {now:%Y-%m-%d %H:%M} UTC.

Each lead gets a fit score (who they are) and an intent score (what they did); the total
sets the tier, and "-> sales" marks the leads that would be handed to a rep. Below each
lead are the top factors behind its score, with their signed points.
"""

OUTRO = """
Next: copy handoff.example.toml to handoff.toml, edit the rules, and run
  handoff check-config
  handoff score --leads YOUR_LEADS.csv [--activities YOUR_ACTIVITIES.csv]
  handoff backtest --config examples/xeducation.toml \\
      --leads ../shared/data/xeducation/Leads.csv --outcome-column Converted
"""


def run_scores(config_path: str | None) -> int:
    """Prints the explained scores of the example leads."""
    with (
        example_path("leads.csv") as leads,
        example_path("activities.csv") as activities,
        example_path("handoff.example.toml") as example,
    ):
        return _explain(load_config(config_path or example), leads, activities)


def _explain(config: Config, leads: Path, activities: Path) -> int:
    if config.settings.scoring is None:
        raise ConfigError([f"{config.path}: the demo needs a [scoring] section"])
    print(
        INTRO.format(
            leads=_short(leads),
            activities=_short(activities),
            config=_short(config.path),
            now=DEMO_NOW,
        )
    )
    code = run_score(
        config.scoring, LeadInputs(leads, activities, DEMO_NOW), fmt="table", out=sys.stdout
    )
    print(OUTRO)
    return code


def _short(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
