"""Candidate rules found in leads with known outcomes, for calibration: a categorical
field's common values, a numeric field's readable thresholds ("at least X" near its
deciles), a field left empty, an activity kind no rule counts yet. Fields that are ids
(a different value for every lead) are skipped.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from scoring.engine import Activity
from scoring.matchers import as_number, is_missing, normal
from scoring.rules import FieldRule, IntentRule, ScoringRules

MAX_CATEGORIES = 40
READABLE_STEPS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8)


class Known(Protocol):
    """A lead as calibration sees it."""

    @property
    def fields(self) -> Mapping[str, Any]: ...

    @property
    def activities(self) -> Sequence[Activity]: ...


def candidate_rules(
    rules: ScoringRules, leads: Sequence[Known], *, exclude: frozenset[str] = frozenset()
) -> list[tuple[str, FieldRule | IntentRule]]:
    """Finds rules the data suggests that the rules do not have yet: common values of
    categorical fields, thresholds of numeric fields, empty fields, activity kinds."""
    covered = _covered(rules)
    found: list[tuple[str, FieldRule | IntentRule]] = []
    names = sorted({name for lead in leads for name in lead.fields} - exclude)
    for name in names:
        values = [lead.fields.get(name) for lead in leads]
        present = [v for v in values if not is_missing(v)]
        if not present or _is_identifier(present):
            continue
        numbers = [n for v in present if (n := as_number(v)) is not None]
        if len(numbers) >= 0.9 * len(present) and len(set(numbers)) > 6:
            found += [("fit", rule) for rule in _threshold_rules(name, numbers)]
        else:
            found += [("fit", rule) for rule in _category_rules(name, present, covered)]
        if len(present) < len(values) and (name, "present") not in covered:
            found.append(
                ("fit", FieldRule(label=f"{name} not given", field=name, present=False, points=0))
            )
    kinds = Counter(a.kind for lead in leads for a in lead.activities)
    for kind in sorted(kinds):
        if ("activity", kind) not in covered:
            found.append(("intent", IntentRule(label=f"Did: {kind}", activity=[kind], points=0)))
    return found


def _is_identifier(present: list[Any]) -> bool:
    """Tells whether a field is an id (a different value for every lead): no rule to find."""
    return len(present) > 50 and len({normal(v) for v in present}) == len(present)


def _covered(rules: ScoringRules) -> set[tuple[str, str]]:
    """Gets (field, value) pairs and (activity, kind) pairs the rules already test."""
    covered: set[tuple[str, str]] = set()
    for rule in (*rules.fit, *rules.intent, *rules.disqualify):
        if isinstance(rule, IntentRule) and rule.activity:
            covered.update(("activity", kind) for kind in rule.activity)
            continue
        name, value = rule.matcher_name(), rule.matcher_value()
        if rule.field is None:
            continue
        if name == "equals":
            covered.add((rule.field, normal(value)))
        elif name in ("in", "not_in"):
            covered.update((rule.field, normal(v)) for v in value)
        elif name == "present":
            covered.add((rule.field, "present"))
    return covered


def _category_rules(
    name: str, present: list[Any], covered: set[tuple[str, str]]
) -> list[FieldRule]:
    counts = Counter(str(v).strip() for v in present)
    if len(counts) > MAX_CATEGORIES:
        counts = Counter(dict(counts.most_common(MAX_CATEGORIES)))
    return [
        FieldRule(label=f"{name} is {value}", field=name, equals=value, points=0)
        for value, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if (name, normal(value)) not in covered
    ]


def _threshold_rules(name: str, numbers: list[float]) -> list[FieldRule]:
    """Rules "at least X" at readable cut points near the deciles: stacked, their points
    follow a numeric field's effect as it grows (more time on the site, more points),
    which a few quartile bands cannot."""
    ordered = sorted(numbers)
    top = ordered[-1]
    upper = _readable(top * 10) if top > 0 else 0.0  # far above any value seen
    cuts = sorted({_readable(ordered[int(q / 10 * (len(ordered) - 1))]) for q in range(1, 10)})
    return [
        FieldRule(label=f"{name} at least {cut:g}", field=name, between=(cut, upper), points=0)
        for cut in cuts
        if ordered[0] < cut <= top
    ]


def _readable(value: float) -> float:
    """Rounds a positive number up to a readable one (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times
    a power of ten), within 5% below it; 0 or less stays 0."""
    if value <= 0:
        return 0.0
    power = 10 ** math.floor(math.log10(value))
    for step in READABLE_STEPS:
        if step * power >= value * 0.95:
            return float(round(step * power, 12))
    return float(10 * power)
