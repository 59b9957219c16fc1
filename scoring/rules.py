"""The scoring rules: the `[scoring]` section of the config file, validated.

These models only describe rules; `scoring.engine` compiles them into matchers.
Every model forbids unknown keys so that a typo (`betwen = [1, 2]`) is an error that
names the key, not a rule that silently never fires.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Self, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

Scalar = str | int | float | bool
T = TypeVar("T")


class Tier(StrEnum):
    """A lead's tier, lowest first."""

    NURTURE = "nurture"
    MQL = "mql"
    SQL = "sql"
    HIGH_PRIORITY = "high_priority"

    @property
    def rank(self) -> int:
        """Position in the order nurture < mql < sql < high_priority."""
        return TIER_ORDER.index(self)


TIER_ORDER: tuple[Tier, ...] = (Tier.NURTURE, Tier.MQL, Tier.SQL, Tier.HIGH_PRIORITY)

MATCHERS = ("equals", "in", "not_in", "between", "contains", "matches", "present")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Tiers(_Strict):
    """Lower bounds of the total score (fit + intent) for each tier above nurture."""

    mql: float = 40
    sql: float = 70
    high_priority: float = 90

    @model_validator(mode="after")
    def _increasing(self) -> Self:
        if not self.mql < self.sql < self.high_priority:
            raise ValueError(
                "thresholds must increase: mql < sql < high_priority "
                f"(got mql={self.mql:g}, sql={self.sql:g}, high_priority={self.high_priority:g})"
            )
        return self

    def threshold(self, tier: Tier) -> float:
        """Gets the lower bound of a tier (nurture has none: minus infinity)."""
        return float("-inf") if tier is Tier.NURTURE else float(getattr(self, tier.value))

    def tier_of(self, total: float) -> Tier:
        """Gets the tier of an exact total score."""
        if total >= self.high_priority:
            return Tier.HIGH_PRIORITY
        if total >= self.sql:
            return Tier.SQL
        if total >= self.mql:
            return Tier.MQL
        return Tier.NURTURE


class Routing(_Strict):
    """What is handed to sales: a minimum tier and an optional gate on each axis."""

    min_tier: Tier = Tier.MQL
    fit_min: float = 0
    intent_min: float = 0


class Limits(_Strict):
    """Caps: optional ones on each axis, and on the total (100 by default: a 0-100 score,
    as the tiers read it; a cut shows as a factor like the other caps)."""

    fit_max: float | None = Field(default=None, gt=0)
    intent_max: float | None = Field(default=None, gt=0)
    total_max: float | None = Field(default=100, gt=0)


class _FieldMatch(_Strict):
    """A test on one lead field; exactly one matcher is set."""

    label: Annotated[str, Field(min_length=1)]
    field: Annotated[str | None, Field(min_length=1)] = None
    equals: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in", min_length=1)
    not_in: list[Scalar] | None = Field(default=None, min_length=1)
    between: tuple[float, float] | None = None
    contains: Annotated[str | None, Field(min_length=1)] = None
    matches: str | None = None
    present: bool | None = None

    @field_validator("between")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and value[0] > value[1]:
            raise ValueError(f"the low bound {value[0]:g} is above the high bound {value[1]:g}")
        return value

    @field_validator("matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    def matcher_name(self) -> str | None:
        """Gets which matcher this rule uses (`in`, `between`…), or None."""
        found = [name for name in MATCHERS if self._matcher_value(name) is not None]
        return found[0] if len(found) == 1 else None

    def matcher_value(self) -> Any:
        """Gets the value of the rule's matcher."""
        name = self.matcher_name()
        return None if name is None else self._matcher_value(name)

    def _matcher_value(self, name: str) -> Any:
        return self.in_ if name == "in" else getattr(self, name)

    def _check_one_matcher(self, *, required: bool) -> None:
        found = [name for name in MATCHERS if self._matcher_value(name) is not None]
        if len(found) > 1:
            raise ValueError(f"use one matcher per rule, found {len(found)}: {', '.join(found)}")
        if required and not found:
            raise ValueError(f"a field rule needs one matcher: {', '.join(MATCHERS)}")


class FieldRule(_FieldMatch):
    """A fit rule: points when a lead field matches."""

    field: Annotated[str, Field(min_length=1)]
    points: float

    @model_validator(mode="after")
    def _one_matcher(self) -> Self:
        self._check_one_matcher(required=True)
        return self


class DisqualifyRule(_FieldMatch):
    """Negative points (on the fit axis) and/or a hard block when a lead field matches."""

    field: Annotated[str, Field(min_length=1)]
    points: float = Field(default=0, le=0)
    block: bool = False

    @model_validator(mode="after")
    def _one_matcher(self) -> Self:
        self._check_one_matcher(required=True)
        if self.points == 0 and not self.block:
            raise ValueError("a disqualify rule needs negative points, block = true, or both")
        return self


class IntentRule(_FieldMatch):
    """An intent rule: points for activities of some kinds (or, for CRM exports that
    summarise behaviour in columns, for a lead field that matches)."""

    activity: list[Annotated[str, Field(min_length=1)]] | None = None
    points: float
    min_count: int = Field(default=1, ge=1)
    per_occurrence: bool = False
    cap: float | None = Field(default=None, gt=0)
    within_days: float | None = Field(default=None, gt=0)
    half_life_days: float | None = Field(default=None, gt=0)

    @field_validator("activity", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _activity_or_field(self) -> Self:
        if (self.activity is None) == (self.field is None):
            raise ValueError("an intent rule needs either `activity` (kinds) or `field`, not both")
        if self.activity is not None:
            if self.matcher_name() is not None:
                raise ValueError("matchers (equals, in, …) go with `field`, not with `activity`")
            if not self.activity:
                raise ValueError("`activity` needs at least one activity kind")
            return self
        self._check_one_matcher(required=True)
        timed = [k for k in ("per_occurrence", "within_days", "half_life_days") if getattr(self, k)]
        if timed or self.min_count != 1:
            raise ValueError(
                "min_count, per_occurrence, within_days and half_life_days need `activity`; "
                "a field rule has no activities to count"
            )
        return self


class ScoringRules(_Strict):
    """The whole `[scoring]` section."""

    version: Annotated[str, Field(min_length=1)]
    tiers: Tiers = Tiers()
    routing: Routing = Routing()
    limits: Limits = Limits()
    fit: list[FieldRule] = []
    intent: list[IntentRule] = []
    disqualify: list[DisqualifyRule] = []
    # A candidate rule set (a config file's path) that scores every new lead beside these
    # rules without routing anything: its tiers are compared with the live ones.
    shadow: Annotated[str | None, Field(min_length=1)] = None
    # The engine's compiled matchers, built on first use (see scoring.engine.compiled).
    _compiled: Any = PrivateAttr(default=None)
    # The shadow file's rules, once the config loader has read them.
    _shadow_rules: ScoringRules | None = PrivateAttr(default=None)

    @property
    def shadow_rules(self) -> ScoringRules | None:
        """Gets the shadow rules, when `shadow` names a file and it was loaded."""
        return self._shadow_rules

    def with_shadow(self, rules: ScoringRules) -> ScoringRules:
        """Gets these rules with the shadow file's rules attached (as the loader read them)."""
        self._shadow_rules = rules
        return self

    def cached(self, build: Callable[[ScoringRules], T]) -> T:
        """Gets what `build` makes of these rules, building it on first use only."""
        if self._compiled is None:
            self._compiled = build(self)
        return cast(T, self._compiled)

    @model_validator(mode="after")
    def _reachable_tiers(self) -> Self:
        cap = self.limits.total_max
        top = self.tiers.high_priority
        if cap is not None and top > cap:
            raise ValueError(
                f"tiers.high_priority = {top:g} is above limits.total_max = {cap:g} (the "
                "score's cap, 100 unless set): no lead could reach it; lower the threshold "
                "or raise total_max"
            )
        return self

    def fields_used(self) -> set[str]:
        """Gets every lead field a rule reads."""
        rules: list[_FieldMatch] = [*self.fit, *self.disqualify, *self.intent]
        return {rule.field for rule in rules if rule.field is not None}
