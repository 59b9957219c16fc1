"""The scoring engine: a lead and its activities in, an explained two-axis score out.

`score(lead, activities, rules, now)` is the whole public surface. Rules are compiled
into plain closures once per `ScoringRules` object (kept on the object), so scoring
many leads with the same rules costs only the matching.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scoring.matchers import Matcher, compile_matcher
from scoring.rules import (
    DisqualifyRule,
    FieldRule,
    IntentRule,
    ScoringRules,
    Tier,
)

FIT = "fit"
INTENT = "intent"
TOTAL = "total"  # the axis of the cut total_max makes
_DAY = 86400.0
_MEMO_SIZE = 4096  # per field rule: the distinct values whose result is kept


@dataclass(frozen=True, slots=True)
class Activity:
    """One engagement event of a lead, as the scoring engine sees it."""

    kind: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Factor:
    """One reason behind a score: a label, the axis it counts on and its signed points."""

    label: str
    axis: str
    points: float
    # For a cut made by a rule's `cap`: that rule's label; for a cut made by an axis limit:
    # the axis. None for the points of a rule.
    cuts: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Gets the factor as reported (points rounded to one decimal)."""
        return {"label": self.label, "axis": self.axis, "points": rounded(self.points)}


@dataclass(frozen=True, slots=True)
class Score:
    """A lead's score: both axes, the tier, whether sales gets it, and why."""

    fit: float
    intent: float
    total: float
    tier: Tier
    routable: bool
    blocked: str | None
    factors: tuple[Factor, ...]
    rules_version: str

    def to_dict(self, *, external_id: str | None = None) -> dict[str, Any]:
        """Gets the score as reported by `handoff score --format json`."""
        out: dict[str, Any] = {} if external_id is None else {"external_id": external_id}
        out.update(
            fit=rounded(self.fit),
            intent=rounded(self.intent),
            total=rounded(self.total),
            tier=self.tier.value,
            routable=self.routable,
            blocked=self.blocked,
            factors=[factor.to_dict() for factor in self.factors],
            rules_version=self.rules_version,
        )
        return out


def top_factors(factors: Sequence[Factor], count: int) -> list[Factor]:
    """Gets the `count` largest rule factors, each followed by the cut its cap made,
    then any axis-limit cuts: a short explanation that still adds up."""
    rules = [f for f in factors if f.cuts is None][:count]
    shown = {f.label for f in rules}
    out: list[Factor] = []
    for factor in rules:
        out.append(factor)
        out.extend(f for f in factors if f.cuts == factor.label)
    out.extend(f for f in factors if f.cuts in (FIT, INTENT, TOTAL) and f.cuts not in shown)
    return out


def rounded(value: float) -> float:
    """Rounds a reported number to one decimal (and never prints -0.0)."""
    return round(value, 1) + 0.0


def score(
    lead: Mapping[str, Any],
    activities: Iterable[Activity],
    rules: ScoringRules,
    now: datetime,
) -> Score:
    """Scores one lead against the rules at the instant `now` (timezone-aware)."""
    return compiled(rules).score(lead, activities, now)


def compiled(rules: ScoringRules) -> CompiledRules:
    """Gets the compiled form of a rules object, compiling it on first use."""
    return rules.cached(CompiledRules)


class _FieldCheck:
    __slots__ = ("block", "factor", "field", "label", "memo", "points", "test")

    def __init__(self, rule: FieldRule | DisqualifyRule | IntentRule, axis: str) -> None:
        assert rule.field is not None
        self.label = rule.label
        self.field = rule.field
        self.points = rule.points
        self.block = isinstance(rule, DisqualifyRule) and rule.block
        self.factor = Factor(rule.label, axis, rule.points)  # the same whenever it fires
        name = rule.matcher_name()
        assert name is not None
        self.test: Matcher = compile_matcher(name, rule.matcher_value())
        # Results for values already seen: most fields take few distinct values. Only
        # str and int values (exactly those types): no two of them are equal, whereas
        # 1 == 1.0 == True, which the matchers tell apart.
        self.memo: dict[str | int, bool] = {}

    def matches(self, value: Any) -> bool:
        """Tells whether a lead's value for the field fires the rule."""
        kind = type(value)
        if kind is not str and kind is not int:
            return self.test(value)
        hit = self.memo.get(value)
        if hit is None:
            hit = self.test(value)
            if len(self.memo) < _MEMO_SIZE:
                self.memo[value] = hit
        return hit


class _ActivityCheck:
    __slots__ = (
        "cap",
        "half",
        "kind",
        "kinds",
        "label",
        "min_count",
        "per_occurrence",
        "points",
        "window",
    )

    def __init__(self, rule: IntentRule) -> None:
        assert rule.activity is not None
        self.label = rule.label
        self.kinds = frozenset(rule.activity)
        # The one kind the rule counts, if it counts one (found without scanning them all).
        self.kind = next(iter(self.kinds)) if len(self.kinds) == 1 else None
        self.points = rule.points
        self.min_count = rule.min_count
        self.per_occurrence = rule.per_occurrence
        self.cap = rule.cap
        self.window = math.inf if rule.within_days is None else rule.within_days
        self.half = rule.half_life_days

    def raw_points(
        self, ages: Sequence[tuple[str, float]], by_kind: Mapping[str, list[float]]
    ) -> float | None:
        """Gets the rule's points before its cap, or None when it does not fire.

        `by_kind` holds the same ages as `ages`, by kind, each list in the order of `ages`.
        """
        if self.kind is None:
            matching = [age for kind, age in ages if kind in self.kinds and age <= self.window]
        elif self.kind not in by_kind:
            return None
        elif self.window == math.inf:
            matching = by_kind[self.kind]
        else:
            matching = [age for age in by_kind[self.kind] if age <= self.window]
        if len(matching) < self.min_count:
            return None
        if self.per_occurrence:
            return sum(self.points * self.decay(age) for age in matching)
        return self.points * self.decay(min(matching))

    def decay(self, age_days: float) -> float:
        """Gets the decay factor of an activity this many days old."""
        return 1.0 if self.half is None else 0.5 ** (age_days / self.half)


class CompiledRules:
    """Rules turned into matchers, ready to score many leads."""

    def __init__(self, rules: ScoringRules) -> None:
        self.rules = rules
        self.version = rules.version
        self.tiers = rules.tiers
        self.routing = rules.routing
        self.min_rank = rules.routing.min_tier.rank
        fit_rules: list[FieldRule | DisqualifyRule] = [*rules.fit, *rules.disqualify]
        self.fit_checks = [_FieldCheck(rule, FIT) for rule in fit_rules]
        self.intent_fields = [_FieldCheck(r, INTENT) for r in rules.intent if r.field is not None]
        self.intent_activities = [_ActivityCheck(r) for r in rules.intent if r.activity]

    def score(
        self, lead: Mapping[str, Any], activities: Iterable[Activity], now: datetime
    ) -> Score:
        """Scores one lead at the instant `now`."""
        factors: list[Factor] = []
        blocks: list[str] = []
        fit = self._field_points(lead, self.fit_checks, factors, blocks)
        fit = _limit(fit, self.rules.limits.fit_max, "Fit", FIT, factors)
        intent = self._field_points(lead, self.intent_fields, factors, blocks)
        intent += self._activity_points(activities, now, factors)
        intent = _limit(intent, self.rules.limits.intent_max, "Intent", INTENT, factors)
        total = _limit(fit + intent, self.rules.limits.total_max, "Total", TOTAL, factors)
        tier = self.tiers.tier_of(total)
        blocked = "; ".join(blocks) if blocks else None
        routable = (
            blocked is None
            and tier.rank >= self.min_rank
            and fit >= self.routing.fit_min
            and intent >= self.routing.intent_min
        )
        factors.sort(key=lambda factor: -abs(factor.points))
        return Score(fit, intent, total, tier, routable, blocked, tuple(factors), self.version)

    @staticmethod
    def _field_points(
        lead: Mapping[str, Any],
        checks: list[_FieldCheck],
        factors: list[Factor],
        blocks: list[str],
    ) -> float:
        points = 0.0
        for check in checks:
            if check.matches(lead.get(check.field)):
                points += check.points
                factors.append(check.factor)
                if check.block:
                    blocks.append(check.label)
        return points

    def _activity_points(
        self, activities: Iterable[Activity], now: datetime, factors: list[Factor]
    ) -> float:
        if not self.intent_activities:
            return 0.0
        # Activities after `now` have not happened yet at that instant (backtests replay
        # history with an earlier `now`), so they never count.
        ages = [
            (a.kind, age)
            for a in activities
            if (age := (now - a.occurred_at).total_seconds() / _DAY) >= 0
        ]
        by_kind: dict[str, list[float]] = {}
        for kind, age in ages:
            by_kind.setdefault(kind, []).append(age)
        points = 0.0
        for check in self.intent_activities:
            raw = check.raw_points(ages, by_kind)
            if raw is None:
                continue
            factors.append(Factor(check.label, INTENT, raw))
            points += raw
            if check.cap is not None and abs(raw) > check.cap:
                cut = math.copysign(check.cap, raw) - raw
                label = f"{check.label}: capped at {check.cap:g}"
                factors.append(Factor(label, INTENT, cut, cuts=check.label))
                points += cut
        return points


def _limit(
    points: float, maximum: float | None, name: str, axis: str, factors: list[Factor]
) -> float:
    if maximum is None or points <= maximum:
        return points
    factors.append(Factor(f"{name} score capped at {maximum:g}", axis, maximum - points, cuts=axis))
    return float(maximum)
