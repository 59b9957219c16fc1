"""Calibration: the statistics, the rubric, the choice of changes, on data with a known
answer (and a property: whatever the data, the suggestion is a valid rule set)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import Activity, ScoringRules
from scoring.calibrate import calibrate, suggest_thresholds
from scoring.calibration import KnownLead, Options
from scoring.rubric import implied_ratio, odds_ratio, rubric, wilson

NOW = datetime(2026, 11, 20, tzinfo=UTC)
EMPTY = ScoringRules.model_validate({"version": "empty"})


def test_wilson_interval_matches_the_textbook() -> None:
    low, high = wilson(8, 10)  # type: ignore[misc]
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    low, high = wilson(0, 20)  # type: ignore[misc]
    assert low == 0.0
    assert round(high, 4) == 0.1611
    assert wilson(0, 0) is None


def test_rubric_is_ten_points_per_doubling_of_the_odds() -> None:
    assert rubric(2.0) == 10
    assert rubric(0.5) == -10
    assert rubric(8.0) == 30
    assert rubric(1000.0) == 40  # capped
    assert rubric(1 / 1000) == -40
    assert implied_ratio(20) == pytest.approx(4.0)
    assert odds_ratio(30, 10, 10, 30) == pytest.approx((30.5 / 10.5) / (10.5 / 30.5))


def synthetic(n: int = 1200, seed: int = 3) -> list[KnownLead]:
    """Plan A converts 60%, plan B 20%; a demo request doubles the odds; colour is noise."""
    rng = random.Random(seed)
    leads = []
    for _ in range(n):
        plan = rng.choice(["A", "B"])
        demo = rng.random() < 0.4
        odds = (0.6 / 0.4 if plan == "A" else 0.2 / 0.8) * (3.0 if demo else 1.0)
        converted = rng.random() < odds / (1 + odds)
        activities = [Activity("demo_request", NOW - timedelta(days=2))] if demo else []
        fields = {"plan": plan, "colour": rng.choice(["red", "blue", "green"])}
        leads.append(KnownLead(fields, activities, converted))
    return leads


def test_calibration_finds_the_signals_and_leaves_the_noise() -> None:
    result = calibrate(EMPTY, synthetic(), now=NOW, options=Options(max_changes=3))
    chosen = {c.label: c.suggested_points for c in result.changes}
    assert chosen["plan is A"] > 0 or chosen.get("plan is B", 0) < 0
    assert chosen["Did: demo_request"] > 0
    assert not any(label.startswith("colour") for label in chosen)
    noise = [c for c in result.candidates if c.label.startswith("colour")]
    assert all(not c.verdict.startswith("add") for c in noise), [c.verdict for c in noise]
    assert result.auc_before == 0.5
    assert result.auc_after is not None
    assert result.auc_after > 0.7
    tiers = result.suggested.tiers
    assert tiers.mql < tiers.sql < tiers.high_priority


def test_existing_rules_keep_points_the_data_supports() -> None:
    leads = synthetic()
    fitted = calibrate(EMPTY, leads, now=NOW, options=Options(max_changes=2))
    again = calibrate(fitted.suggested, leads, now=NOW, options=Options(max_changes=2))
    demo = next(s for s in again.rules if s.label == "Did: demo_request")
    assert demo.verdict.startswith("no change"), demo.verdict
    assert demo.current_points == demo.suggested_points or "agrees" in demo.verdict


def test_too_little_support_changes_nothing() -> None:
    rules = ScoringRules.model_validate(
        {
            "version": "v1",
            "fit": [{"label": "Plan A", "field": "plan", "equals": "A", "points": -30}],
        }
    )
    few = synthetic(n=40)
    result = calibrate(rules, few, now=NOW, options=Options(min_support=30))
    (plan,) = result.rules
    assert plan.verdict.startswith("too small")
    assert result.changes == []


def test_at_most_max_changes_and_exclusions_are_respected() -> None:
    result = calibrate(
        EMPTY, synthetic(), now=NOW, options=Options(max_changes=1, exclude=frozenset({"plan"}))
    )
    assert len(result.changes) == 1
    assert result.changes[0].label == "Did: demo_request"
    assert not any(c.label.startswith("plan") for c in result.candidates)


@settings(max_examples=25, deadline=None)
@given(
    outcomes=st.lists(st.booleans(), min_size=60, max_size=120),
    values=st.lists(st.sampled_from(["x", "y", "z", ""]), min_size=120, max_size=120),
    numbers=st.lists(st.integers(min_value=0, max_value=50), min_size=120, max_size=120),
    max_changes=st.integers(min_value=1, max_value=6),
)
def test_any_data_gives_a_valid_rule_set(
    outcomes: list[bool], values: list[str], numbers: list[int], max_changes: int
) -> None:
    leads = [
        KnownLead({"kind": values[i], "size": numbers[i]}, [], outcome)
        for i, outcome in enumerate(outcomes)
    ]
    result = calibrate(
        EMPTY, leads, now=NOW, options=Options(max_changes=max_changes, min_support=10)
    )
    assert len(result.changes) <= max_changes
    ScoringRules.model_validate(result.suggested.model_dump(by_alias=True))
    assert all(abs(c.suggested_points) <= 40 for c in result.changes)


def test_suggested_tiers_stay_under_the_score_cap() -> None:
    rules = ScoringRules.model_validate(
        {"version": "v", "fit": [{"label": "Big", "field": "n", "equals": "1", "points": 150}]}
    )
    leads = [KnownLead({"n": "1"}, [], True) for _ in range(10)]  # all capped at 100
    found = suggest_thresholds(rules, leads, NOW)
    assert found == {"mql": 90.0, "sql": 95.0, "high_priority": 100.0}
    ScoringRules.model_validate({"version": "v", "tiers": found})  # a valid config
