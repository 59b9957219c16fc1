"""The held-out split shared by `handoff backtest` and `handoff calibrate`: its options,
which rows fall on each side, and the features the logistic regression they compare the
rules with is fitted on (scoring/evaluation.py does the fitting)."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.cli.leadfiles import RowError, parse_instant
from scoring.engine import Activity
from scoring.evaluation import Split, held_out_by_date, held_out_by_seed


def add_split_options(parser: argparse.ArgumentParser) -> None:
    """Adds --holdout, --seed and --split-by-date."""
    parser.add_argument(
        "--holdout",
        type=_share,
        metavar="SHARE",
        help="hold out this share of the leads (e.g. 0.3): the ROC AUC is measured on them, "
        "beside a logistic regression fitted on the rest",
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="with --holdout: which rows (0)"
    )
    parser.add_argument(
        "--split-by-date",
        metavar="COLUMN",
        help="hold out the latest leads by this date column (the --holdout share, else 0.3)",
    )


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share like 0.3") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1 (a share like 0.3)")
    return value


def split_of(args: argparse.Namespace) -> Split | None:
    """Gets the split the options ask for, or None (no held-out evaluation)."""
    if args.holdout is None and args.split_by_date is None:
        return None
    return Split(holdout=args.holdout or 0.3, seed=args.seed, date_column=args.split_by_date)


@dataclass
class Sides:
    """For each row: held out (True), fitted on (False), or left out (None: no date in
    the split's column), with an error for each row left out."""

    held_out: list[bool | None]
    errors: list[RowError]

    def pick(self, items: Sequence[Any], *, held: bool) -> list[Any]:
        """Gets the items of one side, in order."""
        return [item for item, side in zip(items, self.held_out, strict=True) if side is held]


def sides(
    split: Split, lines: Sequence[int], fields: Sequence[Mapping[str, Any]], path: Path | str
) -> Sides:
    """Places each row: by a hash of the seed and its line, or by its date."""
    if split.date_column is None:
        return Sides([held_out_by_seed(line, split) for line in lines], [])
    column = split.date_column
    dates = [_date(f.get(column)) for f in fields]
    errors = [
        RowError(
            Path(path),
            line,
            f"`{column}`: {f.get(column)!r} is not a date (ISO 8601, e.g. 2026-11-20); "
            "the lead is left out of the split",
        )
        for line, f, date in zip(lines, fields, dates, strict=True)
        if date is None
    ]
    flags = iter(held_out_by_date([d for d in dates if d is not None], split))
    return Sides([None if d is None else next(flags) for d in dates], errors)


def _date(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return parse_instant(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def features(fields: Mapping[str, Any], activities: Sequence[Activity]) -> dict[str, Any]:
    """Gets what the regression sees of a lead: its fields, and how many activities of
    each kind it has (the columns the rules can read)."""
    counts = Counter(activity.kind for activity in activities)
    return {**fields, **{f"activities: {kind}": n for kind, n in counts.items()}}
