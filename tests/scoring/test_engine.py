"""The scoring engine on hand-computed cases: matchers, intent options, tiers, routing."""

from __future__ import annotations

import math
from typing import Any

import pytest

from scoring import ScoringRules, Tier, score
from scoring.engine import top_factors
from tests.scoring.helpers import NOW, days_ago, fit, rules


def fires(field_value: Any, **matcher: Any) -> bool:
    """Tells whether a one-rule fit model gives points to a lead with this field value."""
    model = rules(fit=[fit("r", "f", 10, **matcher)])
    lead = {} if field_value is ... else {"f": field_value}
    return score(lead, [], model, NOW).fit == 10


@pytest.mark.parametrize(
    ("value", "matcher", "expected"),
    [
        ("US", {"equals": "us"}, True),
        ("  us ", {"equals": "US"}, True),
        ("USA", {"equals": "US"}, False),
        ("15", {"equals": 15}, True),
        ("15.0", {"equals": "15"}, True),
        (15, {"equals": "15"}, True),
        ("Yes", {"equals": True}, True),
        ("no", {"equals": True}, False),
        (True, {"equals": True}, True),
        ("0", {"equals": False}, True),
        ("CA", {"in": ["US", "CA"]}, True),
        ("FR", {"in": ["US", "CA"]}, False),
        ("FR", {"not_in": ["US", "CA"]}, True),
        ("us", {"not_in": ["US", "CA"]}, False),
        ("50", {"between": [50, 1000]}, True),
        ("1000", {"between": [50, 1000]}, True),
        ("1000.5", {"between": [50, 1000]}, False),
        (" 120 ", {"between": [50, 1000]}, True),
        ("lots", {"between": [50, 1000]}, False),
        ("nan", {"between": [-math.inf, math.inf]}, False),
        (True, {"between": [0, 5]}, False),
        ("VP of Sales", {"contains": "vp"}, True),
        ("Director", {"contains": "vp"}, False),
        ("Head of Growth", {"matches": r"\bhead of\b"}, True),
        ("Headhunter", {"matches": r"\bhead of\b"}, False),
        ("x", {"present": True}, True),
        (["salesforce", "zendesk"], {"in": ["HubSpot", "Salesforce"]}, True),
        (["zendesk"], {"in": ["HubSpot", "Salesforce"]}, False),
        (["zendesk"], {"not_in": ["HubSpot"]}, True),
        (["hubspot", "zendesk"], {"not_in": ["HubSpot"]}, False),
        ([10, 2000], {"between": [50, 1000]}, False),
    ],
)
def test_matchers(value: Any, matcher: dict[str, Any], expected: bool) -> None:
    assert fires(value, **matcher) is expected


@pytest.mark.parametrize("missing", [..., None, "", "   ", [], ["", None]])
@pytest.mark.parametrize(
    "matcher",
    [
        {"equals": "US"},
        {"in": ["US"]},
        {"not_in": ["US"]},
        {"between": [-1e9, 1e9]},
        {"contains": "a"},
        {"matches": ".*"},
        {"present": True},
    ],
)
def test_missing_field_never_fires(missing: Any, matcher: dict[str, Any]) -> None:
    # An unknown country is not a non-serviceable one.
    assert not fires(missing, **matcher)


@pytest.mark.parametrize("missing", [..., None, "", "  ", []])
def test_present_false_scores_missing_data(missing: Any) -> None:
    assert fires(missing, present=False)
    assert not fires("Acme", present=False)


def test_tier_uses_exact_total_not_the_rounded_one() -> None:
    model = rules(fit=[fit("a", "f", 39.96, equals="x")])
    result = score({"f": "x"}, [], model, NOW)
    assert result.to_dict()["total"] == 40.0
    assert result.tier is Tier.NURTURE


@pytest.mark.parametrize(
    ("points", "tier"),
    [
        (-5, Tier.NURTURE),
        (39, Tier.NURTURE),
        (40, Tier.MQL),
        (69.9, Tier.MQL),
        (70, Tier.SQL),
        (89, Tier.SQL),
        (90, Tier.HIGH_PRIORITY),
        (250, Tier.HIGH_PRIORITY),
    ],
)
def test_tier_boundaries(points: float, tier: Tier) -> None:
    model = rules(fit=[fit("a", "f", points, equals="x")])
    assert score({"f": "x"}, [], model, NOW).tier is tier


def demo_rule(**options: Any) -> dict[str, Any]:
    return {"label": "Requested a demo", "activity": "demo_request", "points": 40, **options}


def intent_of(activities: list[Any], **options: Any) -> float:
    return score({}, activities, rules(intent=[demo_rule(**options)]), NOW).intent


def test_intent_fires_once_by_default() -> None:
    acts = [days_ago("demo_request", 1), days_ago("demo_request", 2), days_ago("email_open", 0)]
    assert intent_of(acts) == 40


def test_activity_list_matches_any_kind() -> None:
    model = rules(intent=[{"label": "d", "activity": ["a", "b"], "points": 5}])
    assert score({}, [days_ago("b", 1)], model, NOW).intent == 5
    assert score({}, [days_ago("c", 1)], model, NOW).intent == 0


def test_min_count() -> None:
    two = [days_ago("demo_request", 1), days_ago("demo_request", 2)]
    assert intent_of(two, min_count=3) == 0
    assert intent_of([*two, days_ago("demo_request", 3)], min_count=3) == 40


def test_per_occurrence_with_cap_reports_the_cut() -> None:
    acts = [days_ago("demo_request", d) for d in range(4)]
    result = score({}, acts, rules(intent=[demo_rule(points=10, per_occurrence=True, cap=25)]), NOW)
    assert result.intent == 25
    labels = {f.label: f.points for f in result.factors}
    assert labels == {"Requested a demo": 40, "Requested a demo: capped at 25": -15}


def test_cap_bounds_negative_rules_too() -> None:
    acts = [days_ago("careers", d) for d in range(5)]
    model = rules(
        intent=[
            {"label": "c", "activity": "careers", "points": -10, "per_occurrence": True, "cap": 20}
        ]
    )
    assert score({}, acts, model, NOW).intent == -20


def test_within_days_window() -> None:
    assert intent_of([days_ago("demo_request", 91)], within_days=90) == 0
    assert intent_of([days_ago("demo_request", 90)], within_days=90) == 40


def test_half_life_decay_uses_newest_activity() -> None:
    acts = [days_ago("demo_request", 60), days_ago("demo_request", 30)]
    assert intent_of(acts, half_life_days=30) == pytest.approx(20)


def test_per_occurrence_decays_each_activity() -> None:
    acts = [days_ago("demo_request", 0), days_ago("demo_request", 30)]
    assert intent_of(acts, per_occurrence=True, half_life_days=30) == pytest.approx(60)


def test_future_activities_do_not_count() -> None:
    assert intent_of([days_ago("demo_request", -1)]) == 0


def test_intent_field_rule() -> None:
    model = rules(
        intent=[{"label": "t", "field": "time on site", "between": [900, 1e9], "points": 30}]
    )
    assert score({"time on site": "1200"}, [], model, NOW).intent == 30
    assert score({"time on site": "12"}, [], model, NOW).intent == 0


def test_axis_limits_add_a_factor() -> None:
    model = rules(
        fit=[fit("a", "f", 80, equals="x"), fit("b", "g", 50, equals="y")],
        limits={"fit_max": 100},
    )
    result = score({"f": "x", "g": "y"}, [], model, NOW)
    assert result.fit == 100
    assert ("Fit score capped at 100", -30) in {(f.label, f.points) for f in result.factors}


def test_disqualifier_blocks_and_counts_on_fit() -> None:
    model = rules(
        fit=[fit("Size", "employees", 90, between=[1, 1e6])],
        disqualify=[
            {"label": "Region", "field": "country", "not_in": ["US"], "points": -50, "block": True},
            {"label": "Competitor", "field": "email", "contains": "@rival", "block": True},
        ],
    )
    result = score({"employees": 500, "country": "FR", "email": "x@rival.com"}, [], model, NOW)
    assert result.fit == 40
    assert result.blocked == "Region; Competitor"
    assert not result.routable
    assert score({"employees": 500}, [], model, NOW).routable  # unknown country: not blocked


def test_routing_gates() -> None:
    model = rules(
        fit=[fit("f", "f", 30, equals="x")],
        intent=[{"label": "i", "activity": "a", "points": 50}],
        routing={"min_tier": "sql", "fit_min": 40, "intent_min": 0},
    )
    result = score({"f": "x"}, [days_ago("a", 1)], model, NOW)
    assert result.tier is Tier.SQL  # 30 + 50
    assert not result.routable  # fit 30 < fit_min 40
    relaxed = rules(**{**model.model_dump(by_alias=True), "routing": {"min_tier": "sql"}})
    assert score({"f": "x"}, [days_ago("a", 1)], relaxed, NOW).routable


def test_min_tier_excludes_lower_tiers() -> None:
    model = rules(fit=[fit("f", "f", 50, equals="x")], routing={"min_tier": "sql"})
    assert not score({"f": "x"}, [], model, NOW).routable


def test_factors_sorted_by_absolute_points_and_add_up() -> None:
    model = rules(
        fit=[fit("small", "a", 5, present=True), fit("neg", "b", -30, present=True)],
        intent=[{"label": "big", "activity": "x", "points": 20}],
    )
    result = score({"a": 1, "b": 1}, [days_ago("x", 0)], model, NOW)
    assert [f.label for f in result.factors] == ["neg", "big", "small"]
    assert sum(f.points for f in result.factors if f.axis == "fit") == result.fit


def test_to_dict_shape_and_rounding() -> None:
    model = rules(intent=[demo_rule(half_life_days=7)])
    out = score({}, [days_ago("demo_request", 3)], model, NOW).to_dict(external_id="L-1")
    assert list(out) == [
        "external_id",
        "fit",
        "intent",
        "total",
        "tier",
        "routable",
        "blocked",
        "factors",
        "rules_version",
    ]
    assert out["intent"] == 29.7  # 40 * 0.5 ** (3 / 7) = 29.72...
    assert out["factors"] == [{"label": "Requested a demo", "axis": "intent", "points": 29.7}]
    assert out["rules_version"] == "test-1"


def test_top_factors_keeps_each_cap_beside_its_rule() -> None:
    model = rules(
        fit=[fit(f"f{i}", f"f{i}", 20 - i, present=True) for i in range(6)],
        intent=[demo_rule(points=10, per_occurrence=True, cap=15)],
    )
    lead = {f"f{i}": 1 for i in range(6)}
    result = score(lead, [days_ago("demo_request", d) for d in range(3)], model, NOW)
    shown = [f.label for f in top_factors(result.factors, 5)]
    assert shown[:2] == ["Requested a demo", "Requested a demo: capped at 15"]
    assert len(shown) == 7
    assert shown[-1] == "Total score capped at 100"  # 105 fit + 15 intent, on a 0-100 scale


def test_the_total_is_capped_at_100_by_default_and_the_cut_adds_up() -> None:
    model = rules(fit=[fit(f"f{i}", f"f{i}", 30, present=True) for i in range(4)])
    result = score({f"f{i}": 1 for i in range(4)}, [], model, NOW)
    assert (result.fit, result.total) == (120, 100)
    cut = [f for f in result.factors if f.axis == "total"]
    assert [(f.label, f.points) for f in cut] == [("Total score capped at 100", -20)]
    assert sum(f.points for f in result.factors) == result.total
    wider = rules(fit=[fit(f"f{i}", f"f{i}", 30, present=True) for i in range(4)])
    wider = wider.model_copy(update={"limits": wider.limits.model_copy(update={"total_max": 150})})
    assert score({f"f{i}": 1 for i in range(4)}, [], wider, NOW).total == 120


def test_a_tier_above_the_score_cap_is_refused_with_what_to_do() -> None:
    with pytest.raises(ValueError, match=r"above limits\.total_max = 100"):
        ScoringRules.model_validate({"version": "v", "tiers": {"high_priority": 120}})
    wider = {"version": "v", "tiers": {"high_priority": 120}, "limits": {"total_max": 150}}
    assert ScoringRules.model_validate(wider).tiers.high_priority == 120
