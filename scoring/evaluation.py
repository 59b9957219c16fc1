"""Honest evaluation: which leads are held out from fitting, and a logistic regression on
the same rows and columns to compare a rule set with.

A rule set is only as good as its scores on leads it was not written or fitted for. Both
`handoff backtest` and `handoff calibrate` take the same split, so rules calibrated on the
training rows of a file can be backtested on its held-out rows:

- `--holdout 0.3 --seed N`: each row is held out or not by a hash of the seed and the row's
  line in the file, so the split does not depend on the other rows or their order of
  reading, and the same seed always holds out the same rows;
- `--split-by-date COLUMN`: the latest 30% of the rows by that column are held out (rules
  learnt from the past, scored on what came after).

Pure: no I/O. scikit-learn is optional: without it the regression is skipped with a note.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scoring.backtest import auc
from scoring.matchers import as_number, is_missing

MIN_CATEGORY_ROWS = 10  # a category seen less often is grouped with the other rare ones


@dataclass(frozen=True)
class Split:
    """How leads are split into rows to fit on and rows held out."""

    holdout: float = 0.3
    seed: int = 0
    date_column: str | None = None

    def describe(self, held: int, total: int) -> str:
        """Says which rows were held out, for the report."""
        how = (
            f"the latest {self.holdout:.0%} by `{self.date_column}`"
            if self.date_column
            else f"{self.holdout:.0%} at random, seed {self.seed}"
        )
        return f"{held:,} of {total:,} leads ({how})"


def held_out_by_seed(line: int, split: Split) -> bool:
    """Tells whether the row on `line` is held out: a hash of the seed and the line, read
    as a number in [0, 1), below the held-out share."""
    digest = hashlib.blake2b(f"{split.seed}:{line}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < split.holdout


def held_out_by_date(dates: Sequence[datetime], split: Split) -> list[bool]:
    """Gets, for each row, whether it is among the latest `holdout` share by date (rows of
    the same instant as the cut go together, to the held-out side)."""
    if not dates:
        return []
    ordered = sorted(dates)
    cut = ordered[min(len(ordered) - 1, math.floor(len(ordered) * (1 - split.holdout)))]
    return [date >= cut for date in dates]


@dataclass(frozen=True)
class Baseline:
    """A logistic regression's held-out ROC AUC, or why there is none."""

    auc: float | None
    note: str


@dataclass(frozen=True)
class HeldOut:
    """A held-out evaluation: the split, how many leads fell on each side, and the
    regression fitted on the leads not held out."""

    split: Split
    held: int
    total: int
    baseline: Baseline

    def to_dict(self) -> dict[str, Any]:
        """Gets it as `--format json` prints it."""
        auc_found = self.baseline.auc
        return {
            "split": {
                "holdout": self.split.holdout,
                "seed": None if self.split.date_column else self.split.seed,
                "date_column": self.split.date_column,
            },
            "held_out": self.held,
            "fitted_on": self.total - self.held,
            "logistic_regression": {
                "auc": None if auc_found is None else round(auc_found, 4),
                "note": self.baseline.note,
            },
        }

    def describe(self) -> str:
        """Says which leads were held out."""
        return self.split.describe(self.held, self.total)


def logistic_baseline(
    train: Sequence[Mapping[str, Any]],
    train_outcomes: Sequence[bool],
    test: Sequence[Mapping[str, Any]],
    test_outcomes: Sequence[bool],
) -> Baseline:
    """Fits a logistic regression on the training rows (numeric columns scaled with a
    missing flag, other columns one-hot, rare values grouped) and gets its ROC AUC on the
    held-out rows. Needs scikit-learn (the `evaluate` extra)."""
    try:
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler
    except ImportError:
        return Baseline(
            None,
            "no logistic regression to compare with: scikit-learn is not installed "
            "(pip install 'lead-handoff[evaluate]')",
        )
    if len(set(train_outcomes)) < 2:
        return Baseline(None, "no logistic regression: the training rows have one outcome")
    numeric, categorical = _column_kinds(train)
    if not numeric and not categorical:
        return Baseline(None, "no logistic regression: the leads have no columns to fit on")

    def matrix(rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
        return [
            [_number(row.get(c)) for c in numeric] + [_category(row.get(c)) for c in categorical]
            for row in rows
        ]

    parts: list[tuple[str, Any, list[int]]] = []
    if numeric:
        scaled = make_pipeline(SimpleImputer(add_indicator=True), StandardScaler())
        parts.append(("numbers", scaled, list(range(len(numeric)))))
    if categorical:
        one_hot = OneHotEncoder(
            handle_unknown="infrequent_if_exist", min_frequency=MIN_CATEGORY_ROWS
        )
        parts.append(
            ("categories", one_hot, list(range(len(numeric), len(numeric) + len(categorical))))
        )
    model = make_pipeline(ColumnTransformer(parts), LogisticRegression(max_iter=5000))
    model.fit(matrix(train), list(train_outcomes))
    chances = [float(p) for p in model.predict_proba(matrix(test))[:, 1]]
    found = auc(chances, list(test_outcomes))
    columns = len(numeric) + len(categorical)
    return Baseline(
        found,
        f"logistic regression fitted on the other {len(train):,} leads, same {columns} columns "
        f"({len(numeric)} numeric, {len(categorical)} categorical; scikit-learn)",
    )


def _column_kinds(rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """Sorts the columns into numeric ones (90% of the values given are numbers) and
    categorical ones; a column that is an id (a different value on every row) is neither."""
    numeric, categorical = [], []
    for name in sorted({name for row in rows for name in row}):
        present = [v for row in rows if not is_missing(v := row.get(name))]
        if not present or (len(present) > 50 and len({str(v) for v in present}) == len(present)):
            continue  # empty, or an id
        numbers = [n for v in present if (n := as_number(v)) is not None]
        if len(numbers) >= 0.9 * len(present) and len(set(numbers)) > 2:
            numeric.append(name)
        else:
            categorical.append(name)
    return numeric, categorical


def _number(value: Any) -> float:
    found = None if is_missing(value) else as_number(value)
    return math.nan if found is None else float(found)


def _category(value: Any) -> str:
    return "(not given)" if is_missing(value) else str(value).strip().casefold()
