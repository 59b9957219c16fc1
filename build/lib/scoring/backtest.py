"""Backtest: how well a rule set's scores separate leads that converted from those that did not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scoring.engine import Score
from scoring.rules import TIER_ORDER, Tier, Tiers


@dataclass(frozen=True)
class TierRow:
    """Leads of one tier and how many of them converted."""

    count: int
    converted: int

    @property
    def rate(self) -> float | None:
        """Gets the tier's conversion rate (None for an empty tier)."""
        return self.converted / self.count if self.count else None


@dataclass(frozen=True)
class BacktestReport:
    """What a rule set would have done on history with known outcomes."""

    n: int
    positives: int
    auc: float | None
    tiers: dict[Tier, TierRow]
    precision: float | None
    recall: float | None
    converted_at_or_above: dict[Tier, float | None]
    routable: int = 0
    thresholds: dict[Tier, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Gets the report as printed by `handoff backtest --format json`."""
        return {
            "n": self.n,
            "positives": self.positives,
            "auc": _r(self.auc),
            "tiers": {
                tier.value: {"count": row.count, "converted": row.converted, "rate": _r(row.rate)}
                for tier, row in self.tiers.items()
            },
            "routable": {
                "count": self.routable,
                "precision": _r(self.precision),
                "recall": _r(self.recall),
            },
            "converted_at_or_above": {
                tier.value: _r(share) for tier, share in self.converted_at_or_above.items()
            },
        }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def backtest(scores: Sequence[Score], outcomes: Sequence[bool], tiers: Tiers) -> BacktestReport:
    """Compares scores with known outcomes (one outcome per score, same order)."""
    if len(scores) != len(outcomes):
        raise ValueError(f"{len(scores)} scores but {len(outcomes)} outcomes")
    positives = sum(outcomes)
    rows = {
        tier: TierRow(
            count=sum(1 for s in scores if s.tier is tier),
            converted=sum(
                1 for s, won in zip(scores, outcomes, strict=True) if won and s.tier is tier
            ),
        )
        for tier in TIER_ORDER
    }
    routed = [won for s, won in zip(scores, outcomes, strict=True) if s.routable]
    won_totals = [s.total for s, won in zip(scores, outcomes, strict=True) if won]
    above = {
        tier: (sum(1 for t in won_totals if t >= tiers.threshold(tier)) / positives)
        if positives
        else None
        for tier in TIER_ORDER[1:]
    }
    return BacktestReport(
        n=len(scores),
        positives=positives,
        auc=auc([s.total for s in scores], outcomes),
        tiers=rows,
        precision=sum(routed) / len(routed) if routed else None,
        recall=sum(routed) / positives if positives else None,
        converted_at_or_above=above,
        routable=len(routed),
        thresholds={tier: tiers.threshold(tier) for tier in TIER_ORDER[1:]},
    )


def auc(values: Sequence[float], outcomes: Sequence[bool]) -> float | None:
    """Gets the ROC AUC of `values` for `outcomes` (ties count one half), or None
    when either class is empty.

    This is the Mann-Whitney U statistic over average ranks: the chance that a random
    positive scores above a random negative.
    """
    positives = sum(outcomes)
    negatives = len(outcomes) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(values)), key=values.__getitem__)
    rank_sum = 0.0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        average_rank = (start + end) / 2 + 1
        rank_sum += average_rank * sum(1 for i in order[start : end + 1] if outcomes[i])
        start = end + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
