"""The `handoff` command line: one entry point, one module per command group.

Each module declares its own arguments beside its code, in a `register(commands)` that
adds its subcommands with the function that runs them:

- `check`: check-config;
- `scoring`: score; `backtest`: backtest; `calibrate`: calibrate;
- `intake`: import; `outcomes`: import-outcomes;
- `sla`: sweep, rep ooo; `reports`: digest, report revenue;
- `service`: serve, worker, db; `demo`: demo, sandbox.

`common` holds what they share (`--config`, ISO instants, `database()` for one command),
`leadfiles` reads lead and activity files, `progress` draws the progress line.

Exit codes: 0 done; 1 done, but some input rows were bad (each reported as FILE:LINE);
2 nothing done: bad usage, config, file or database (the message says what to fix).

May import every other package: it is the top layer.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from bot.cli import (
    backtest,
    calibrate,
    check,
    crm,
    demo,
    intake,
    outbox,
    outcomes,
    reports,
    scoring,
    service,
    sla,
    slack,
)
from bot.cli.leadfiles import FileProblem
from bot.config import ConfigError
from bot.runtime.database import DatabaseUnavailable

GROUPS = (
    check,
    scoring,
    backtest,
    calibrate,
    demo,
    service,
    sla,
    reports,
    outcomes,
    intake,
    outbox,
    crm,
    slack,
)


def build_parser() -> argparse.ArgumentParser:
    """Builds the argument parser: every command group adds its subcommands."""
    parser = argparse.ArgumentParser(
        prog="handoff",
        description="Lead hand-off from marketing to sales, in Slack.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; gets the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except (FileProblem, DatabaseUnavailable) as exc:
        print(exc, file=sys.stderr)
        return 2
    return code


def entry() -> None:
    """Console-script entry point. Piped into `head`, a command ends quietly when the
    reader closes the pipe (as `cat` does), instead of with a BrokenPipeError."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null so that fails silently.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0  # the reader had what it wanted
    sys.exit(code)
