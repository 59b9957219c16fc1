"""The `handoff` command line: one entry point, one subcommand per job.

Exit codes: 0 done; 1 done, but some input rows were bad (each reported as FILE:LINE);
2 nothing done: bad usage, config or file (the message says what to fix).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot import demo
from bot.config import ConfigError, load_config
from bot.leadfiles import FileProblem, parse_instant
from bot.scorecmd import LeadInputs, run_backtest, run_score


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

    dm = commands.add_parser("demo", help="score and explain the example leads")
    _config_option(dm)
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
        return demo.run(args.config)
    rules = load_config(args.config).scoring
    now = args.now or datetime.now(UTC)
    inputs = LeadInputs(args.leads, args.activities, now, args.id_column)
    if args.command == "score":
        return run_score(rules, inputs, fmt=args.format, out=sys.stdout)
    return run_backtest(
        rules, inputs, outcome_column=args.outcome_column, fmt=args.format, out=sys.stdout
    )


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
