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
from bot.cli.demo_leads import read_own_leads
from bot.cli.scoring import LeadInputs, run_score
from bot.config import Config, ConfigError, load_config
from bot.resources import example_path
from bot.sandbox.live import DEFAULT_APP_URL, can_open_browser, run_live, run_sandbox
from bot.sandbox.samples import SampleLead
from bot.sandbox.script import run_scripted
from bot.sandbox.stack import DEMO_START

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
    dm.add_argument(
        "--leads",
        default="40",
        metavar="N|FILE",
        help="how many sample leads to feed in (default 40), or your own leads (CSV or JSON "
        "Lines, as `handoff import` reads them)",
    )
    dm.add_argument(
        "--activities", type=Path, metavar="FILE", help="with --leads FILE: their activities"
    )
    dm.add_argument(
        "--id-column",
        default="external_id",
        metavar="NAME",
        help="with --leads FILE: the leads' id column (default: external_id)",
    )
    dm.add_argument(
        "--every", type=float, default=20.0, metavar="SECONDS", help="seconds between leads"
    )
    dm.add_argument("--no-browser", action="store_true", help="do not open the page")

    sandbox = command(
        commands, "sandbox", sandbox_command, help="run a local Slack (no workspace needed)"
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=3210)
    config_option(sandbox)
    sandbox.add_argument(
        "--app-url",
        default=DEFAULT_APP_URL,
        metavar="URL",
        help=f"with --config: where the page's clicks go (`handoff serve`; {DEFAULT_APP_URL})",
    )


def demo_command(args: argparse.Namespace) -> int:
    """`handoff demo [--scripted | --scores]`."""
    if args.scores:
        return run_scores(args.config)
    if args.scripted:
        return run_scripted(sys.stdout)
    count, own_leads = 40, None
    if not str(args.leads).isdigit():
        own_leads = _own_leads(Path(args.leads), args.activities, args.id_column)
        if not own_leads:
            print(f"handoff demo: no lead to show in {args.leads}", file=sys.stderr)
            return 2
    elif args.config:  # your rules read your fields: the example leads, not Olist's
        with example_path("leads.csv") as leads, example_path("activities.csv") as acts:
            own_leads = _own_leads(leads, acts, "external_id")
        print(
            "handoff demo: feeding in the example leads (examples/leads.csv); "
            "give your own with --leads FILE [--activities FILE]",
            file=sys.stderr,
        )
    else:
        count = int(args.leads)
    own = Path(args.config) if args.config else None
    return run_live(
        port=args.port,
        leads=count,
        every=args.every,
        open_browser=not args.no_browser and can_open_browser(),
        own=own,
        own_leads=own_leads,
    )


def _own_leads(leads: Path, activities: Path | None, id_column: str) -> list[SampleLead]:
    found, errors = read_own_leads(leads, activities, id_column=id_column, now=DEMO_START)
    for error in errors:
        print(error, file=sys.stderr)
    return found


def sandbox_command(args: argparse.Namespace) -> int:
    """`handoff sandbox`."""
    config = Path(args.config) if args.config else None
    return run_sandbox(host=args.host, port=args.port, config=config, app_url=args.app_url)


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
