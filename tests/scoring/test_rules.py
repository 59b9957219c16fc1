"""Validation of the [scoring] section: what an admin gets wrong must not pass."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from scoring import ScoringRules, Tier
from tests.scoring.helpers import fit, rules


def rejects(match: str, **sections: Any) -> None:
    with pytest.raises(ValidationError, match=match):
        rules(**sections)


def test_defaults_match_the_playbook_tiers() -> None:
    model = rules()
    assert (model.tiers.mql, model.tiers.sql, model.tiers.high_priority) == (40, 70, 90)
    assert model.routing.min_tier is Tier.MQL


def test_tiers_must_increase() -> None:
    rejects("thresholds must increase", tiers={"mql": 70, "sql": 70})


def test_field_rule_needs_exactly_one_matcher() -> None:
    rejects("needs one matcher", fit=[fit("a", "f", 1)])
    rejects("one matcher per rule, found 2", fit=[fit("a", "f", 1, equals="x", present=True)])


def test_between_must_be_ordered_pair() -> None:
    rejects("low bound 10 is above the high bound 5", fit=[fit("a", "f", 1, between=[10, 5])])
    rejects("between", fit=[fit("a", "f", 1, between=[1])])


def test_bad_regex_is_reported() -> None:
    rejects("not a valid regular expression", fit=[fit("a", "f", 1, matches="(")])


def test_unknown_keys_are_errors() -> None:
    rejects("betwen", fit=[{"label": "a", "field": "f", "points": 1, "betwen": [1, 2]}])


def test_intent_rule_needs_activity_or_field() -> None:
    rejects("either `activity`", intent=[{"label": "a", "points": 1}])
    rejects(
        "matchers .* go with `field`",
        intent=[{"label": "a", "activity": "x", "points": 1, "equals": "y"}],
    )
    rejects(
        "need `activity`",
        intent=[{"label": "a", "field": "f", "equals": "y", "points": 1, "within_days": 3}],
    )


def test_intent_numbers_must_be_positive() -> None:
    for key in ("cap", "within_days", "half_life_days"):
        rejects(key, intent=[{"label": "a", "activity": "x", "points": 1, key: 0}])
    rejects("min_count", intent=[{"label": "a", "activity": "x", "points": 1, "min_count": 0}])


def test_disqualify_needs_negative_points_or_block() -> None:
    rejects("needs negative points, block", disqualify=[fit("a", "f", 0, equals="x")])
    rejects("less than or equal to 0", disqualify=[fit("a", "f", 10, equals="x")])
    model = rules(disqualify=[{"label": "a", "field": "f", "equals": "x", "block": True}])
    assert model.disqualify[0].points == 0


def test_activity_accepts_a_string_or_a_list() -> None:
    model = rules(
        intent=[
            {"label": "a", "activity": "x", "points": 1},
            {"label": "b", "activity": ["x", "y"], "points": 1},
        ]
    )
    assert [r.activity for r in model.intent] == [["x"], ["x", "y"]]


def test_fields_used() -> None:
    model = rules(
        fit=[fit("a", "employees", 1, present=True)],
        intent=[
            {"label": "b", "field": "visits", "between": [1, 2], "points": 1},
            {"label": "c", "activity": "x", "points": 1},
        ],
        disqualify=[{"label": "d", "field": "country", "equals": "x", "block": True}],
    )
    assert model.fields_used() == {"employees", "visits", "country"}


def test_version_is_required() -> None:
    with pytest.raises(ValidationError, match="version"):
        ScoringRules.model_validate({})
