"""Backtest metrics against independent computations."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring import Tier, auc, backtest, score
from tests.scoring.helpers import NOW, fit, rules


def brute_force_auc(values: list[float], outcomes: list[bool]) -> float | None:
    pos = [v for v, o in zip(values, outcomes, strict=True) if o]
    neg = [v for v, o in zip(values, outcomes, strict=True) if not o]
    if not pos or not neg:
        return None
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


@given(st.lists(st.tuples(st.integers(-5, 5).map(float), st.booleans()), max_size=40))
def test_auc_matches_pairwise_definition(pairs: list[tuple[float, bool]]) -> None:
    values = [v for v, _ in pairs]
    outcomes = [o for _, o in pairs]
    expected = brute_force_auc(values, outcomes)
    got = auc(values, outcomes)
    assert (got is None) == (expected is None)
    if expected is not None:
        assert got == pytest.approx(expected)


def test_auc_extremes() -> None:
    assert auc([1, 2, 3, 4], [False, False, True, True]) == 1.0
    assert auc([1, 2, 3, 4], [True, True, False, False]) == 0.0
    assert auc([7, 7], [True, False]) == 0.5


def test_backtest_counts_by_hand() -> None:
    model = rules(
        fit=[fit("p", "p", 0, present=True)],
        disqualify=[{"label": "b", "field": "blocked", "equals": "y", "block": True}],
    )
    # totals come from a field rule per lead: build each lead's score by points
    cases = [  # (points, blocked, converted)
        (95, False, True),
        (75, False, True),
        (75, False, False),
        (50, True, True),
        (45, False, False),
        (10, False, True),
        (0, False, False),
    ]
    scores, outcomes = [], []
    for points, blocked, converted in cases:
        lead_rules = rules(
            fit=[fit("p", "p", points, present=True)],
            disqualify=model.model_dump(by_alias=True)["disqualify"],
        )
        scores.append(score({"p": 1, "blocked": "y" if blocked else "n"}, [], lead_rules, NOW))
        outcomes.append(converted)
    report = backtest(scores, outcomes, model.tiers)
    assert (report.n, report.positives) == (7, 4)
    assert report.tiers[Tier.HIGH_PRIORITY].count == 1
    assert (report.tiers[Tier.SQL].count, report.tiers[Tier.SQL].converted) == (2, 1)
    assert (report.tiers[Tier.MQL].count, report.tiers[Tier.MQL].converted) == (2, 1)
    assert report.tiers[Tier.NURTURE].rate == pytest.approx(1 / 2)
    # routable: 95, 75, 75, 45 (50 is blocked) -> 2 of 4 converted; 2 of 4 positives routed
    assert report.routable == 4
    assert report.precision == pytest.approx(0.5)
    assert report.recall == pytest.approx(0.5)
    assert report.converted_at_or_above == {
        Tier.MQL: pytest.approx(0.75),
        Tier.SQL: pytest.approx(0.5),
        Tier.HIGH_PRIORITY: pytest.approx(0.25),
    }
    out = report.to_dict()
    assert set(out) == {"n", "positives", "auc", "tiers", "routable", "converted_at_or_above"}
    assert out["routable"]["precision"] == 0.5
    assert set(out["tiers"]) == {"nurture", "mql", "sql", "high_priority"}


def test_backtest_without_positives_has_no_rates() -> None:
    model = rules()
    report = backtest([score({}, [], model, NOW)], [False], model.tiers)
    assert report.auc is None
    assert report.recall is None
    assert report.converted_at_or_above[Tier.MQL] is None


def test_backtest_needs_one_outcome_per_score() -> None:
    with pytest.raises(ValueError, match="1 scores but 0 outcomes"):
        backtest([score({}, [], rules(), NOW)], [], rules().tiers)
