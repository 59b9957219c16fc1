"""What calibration works on and gives back: leads with a known outcome, the options,
each rule's statistics and the result (see scoring/calibrate.py for how it is computed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scoring.engine import Activity
from scoring.rules import DisqualifyRule, FieldRule, IntentRule, ScoringRules

Rule = FieldRule | IntentRule | DisqualifyRule


@dataclass(frozen=True)
class KnownLead:
    """A lead with its known outcome."""

    fields: Mapping[str, Any]
    activities: Sequence[Activity]
    converted: bool
    line: int = 0  # its line in the file (its id in the database): a held-out split's key


@dataclass(frozen=True)
class Options:
    """How much to change, and how much evidence a change needs."""

    max_changes: int = 5
    min_support: int = 30
    exclude: frozenset[str] = frozenset()


@dataclass
class RuleStats:
    """What the data says about one rule."""

    axis: str  # fit, intent or disqualify
    rule: Rule
    existing: bool
    support: int
    converted_with: int
    conversion_with: float | None
    conversion_without: float | None
    lift: float | None
    interval: tuple[float, float] | None  # Wilson 95% of conversion_with
    odds_ratio: float
    current_points: float
    suggested_points: float
    verdict: str  # "change", "no change: …", "add", "too small: …"
    effect: float = 0.0
    fires: frozenset[int] = field(default_factory=frozenset, repr=False)

    @property
    def label(self) -> str:
        """Gets the rule's label."""
        return self.rule.label

    def to_dict(self) -> dict[str, Any]:
        """Gets the statistics as reported by `handoff calibrate --format json`."""
        return {
            "label": self.label,
            "axis": self.axis,
            "existing": self.existing,
            "support": self.support,
            "conversion_with": _r(self.conversion_with),
            "conversion_without": _r(self.conversion_without),
            "lift": _r(self.lift),
            "interval": None if self.interval is None else [_r(v) for v in self.interval],
            "odds_ratio": _r(self.odds_ratio),
            "current_points": self.current_points,
            "suggested_points": self.suggested_points,
            "verdict": self.verdict,
            "effect": _r(self.effect),
            "rule": rule_dict(self.rule),
        }


@dataclass
class Calibration:
    """The result: statistics, the chosen changes, the suggested rules and thresholds."""

    n: int
    positives: int
    rules: list[RuleStats]
    candidates: list[RuleStats]
    changes: list[RuleStats]
    suggested: ScoringRules
    auc_before: float | None
    auc_after: float | None
    thresholds: dict[str, float]

    @property
    def baseline(self) -> float | None:
        """Gets the overall conversion rate."""
        return self.positives / self.n if self.n else None


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def rule_dict(rule: Rule) -> dict[str, Any]:
    """Gets a rule as the config file writes it."""
    return rule.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True) | {
        "points": rule.points
    }
