"""Properties that must hold for any rules, lead and activities (hypothesis)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import Activity, ScoringRules, score
from tests.scoring.helpers import NOW

KINDS = ["demo_request", "pricing_page_view", "email_open", "webinar_attended", "careers"]
FIELDS = ["country", "employees", "industry"]
VALUES = ["US", "CA", "FR", "50", "500", "5000", "software", "", "retail"]

points = st.integers(min_value=-60, max_value=60).map(float)
positive_points = st.integers(min_value=1, max_value=60).map(float)
optional_days = st.none() | st.integers(min_value=1, max_value=120).map(float)


def intent_rules(point_strategy: st.SearchStrategy[float]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "label": st.just("intent rule"),
            "activity": st.lists(st.sampled_from(KINDS), min_size=1, max_size=2, unique=True),
            "points": point_strategy,
            "min_count": st.integers(min_value=1, max_value=3),
            "per_occurrence": st.booleans(),
            "cap": st.none() | st.integers(min_value=1, max_value=80).map(float),
            "within_days": optional_days,
            "half_life_days": optional_days,
        }
    )


field_rules = st.fixed_dictionaries(
    {
        "label": st.just("field rule"),
        "field": st.sampled_from(FIELDS),
        "points": points,
    }
).flatmap(
    lambda base: st.one_of(
        st.sampled_from(VALUES).map(lambda v: {**base, "equals": v}),
        st.lists(st.sampled_from(VALUES), min_size=1).map(lambda v: {**base, "in": v}),
        st.lists(st.sampled_from(VALUES), min_size=1).map(lambda v: {**base, "not_in": v}),
        st.just({**base, "between": [10, 1000]}),
        st.booleans().map(lambda v: {**base, "present": v}),
    )
)

disqualify_rules = field_rules.flatmap(
    lambda rule: st.booleans().map(
        lambda block: {**rule, "points": -abs(cast(float, rule["points"])) or -1.0, "block": block}
    )
)

limits = st.fixed_dictionaries(
    {
        "fit_max": st.none() | st.integers(min_value=1, max_value=150).map(float),
        "intent_max": st.none() | st.integers(min_value=1, max_value=150).map(float),
    }
)


def _labelled(section: str, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Unique labels, so that each factor can be traced to its one rule.
    return [{**rule, "label": f"{section} {i}"} for i, rule in enumerate(rules)]


def rule_sets(point_strategy: st.SearchStrategy[float] = points) -> st.SearchStrategy[ScoringRules]:
    return st.builds(
        lambda fit, intent, disq, lim: ScoringRules.model_validate(
            {
                "version": "p",
                "fit": _labelled("fit", fit),
                "intent": _labelled("intent", intent),
                "disqualify": _labelled("disqualify", disq),
                "limits": lim,
            }
        ),
        st.lists(field_rules, max_size=4),
        st.lists(intent_rules(point_strategy), max_size=4),
        st.lists(disqualify_rules, max_size=2),
        limits,
    )


leads = st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(VALUES))
activity = st.builds(
    lambda kind, minutes: Activity(kind, NOW - timedelta(minutes=minutes)),
    st.sampled_from(KINDS),
    st.integers(min_value=-1440, max_value=200 * 1440),
)
activities = st.lists(activity, max_size=8)
# Decay is about activities that already happened: one dated after NOW rightly starts to
# count once time reaches it, which is not decay.
past_activities = st.lists(activity.filter(lambda a: a.occurred_at <= NOW), max_size=8)


@given(rule_sets(positive_points), leads, activities, activity)
def test_adding_a_positive_activity_never_lowers_intent(
    rules: ScoringRules, lead: dict[str, str], acts: list[Activity], extra: Activity
) -> None:
    before = score(lead, acts, rules, NOW).intent
    after = score(lead, [*acts, extra], rules, NOW).intent
    assert after >= before - 1e-9


@given(rule_sets(positive_points), leads, past_activities, st.integers(min_value=1, max_value=400))
def test_time_passing_never_raises_positive_points(
    rules: ScoringRules, lead: dict[str, str], acts: list[Activity], hours: int
) -> None:
    earlier = score(lead, acts, rules, NOW).intent
    later = score(lead, acts, rules, NOW + timedelta(hours=hours)).intent
    assert later <= earlier + 1e-9


@given(rule_sets(), leads, past_activities, st.integers(min_value=1, max_value=400))
def test_decay_never_grows_a_rules_points(
    rules: ScoringRules, lead: dict[str, str], acts: list[Activity], hours: int
) -> None:
    # Negative rules decay toward zero too: their magnitude shrinks as time passes.
    def magnitudes(result_factors: Any) -> dict[str, float]:
        return {f.label: abs(f.points) for f in result_factors if f.cuts is None}

    before = magnitudes(score(lead, acts, rules, NOW).factors)
    after = magnitudes(score(lead, acts, rules, NOW + timedelta(hours=hours)).factors)
    for label, value in after.items():
        assert value <= before[label] + 1e-9  # a rule that fires later fired before


@given(rule_sets(), leads, activities)
def test_blocked_lead_is_never_routable(
    rules: ScoringRules, lead: dict[str, str], acts: list[Activity]
) -> None:
    result = score(lead, acts, rules, NOW)
    if result.blocked:
        assert not result.routable


@given(rule_sets(), leads, activities)
def test_factors_add_up_and_are_sorted(
    rules: ScoringRules, lead: dict[str, str], acts: list[Activity]
) -> None:
    result = score(lead, acts, rules, NOW)
    fit = sum(f.points for f in result.factors if f.axis == "fit")
    intent = sum(f.points for f in result.factors if f.axis == "intent")
    assert abs(fit - result.fit) < 1e-6
    assert abs(intent - result.intent) < 1e-6
    cut = sum(f.points for f in result.factors if f.axis == "total")  # total_max's cut
    assert abs(result.total - (result.fit + result.intent + cut)) < 1e-6
    assert result.total <= (rules.limits.total_max or float("inf"))
    assert cut == 0 or result.total == rules.limits.total_max
    sizes = [abs(f.points) for f in result.factors]
    assert sizes == sorted(sizes, reverse=True)


@given(rule_sets(), leads, activities)
def test_caps_and_limits_hold(
    rules: ScoringRules, lead: dict[str, str], acts: list[Activity]
) -> None:
    result = score(lead, acts, rules, NOW)
    for rule in rules.intent:
        if rule.cap is not None:
            net = sum(f.points for f in result.factors if rule.label in (f.label, f.cuts))
            assert abs(net) <= rule.cap + 1e-9
    if rules.limits.fit_max is not None:
        assert result.fit <= rules.limits.fit_max
    if rules.limits.intent_max is not None:
        assert result.intent <= rules.limits.intent_max


@settings(max_examples=50)
@given(rule_sets(), leads, activities)
def test_tier_and_routable_follow_the_totals(
    rules: ScoringRules, lead: dict[str, str], acts: list[Activity]
) -> None:
    result = score(lead, acts, rules, NOW)
    assert result.tier is rules.tiers.tier_of(result.total)
    if result.routable:
        assert result.tier.rank >= rules.routing.min_tier.rank
