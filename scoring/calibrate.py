"""Calibration: points tied to revenue, from leads whose outcome is known.

For every rule (the existing ones, and candidates found in the data: a categorical
field's common values, a numeric field's readable thresholds, a field left empty, an activity kind
no rule counts yet) this measures its support, the conversion of the leads it fires on and
of the rest, the lift over the baseline and a 95% Wilson interval, then suggests points by
one rubric:

    points = 10 × log2(odds ratio), rounded, within ±40

where the odds ratio compares the leads the rule fires on with the rest (each cell + 0.5).
A rule that doubles the odds of converting is worth 10 points; one that halves them, -10.
Added up, such points are a log-odds score, the scale logistic regression works on.

An existing rule keeps its points ("no change") when its support is under `min_support`
or when the odds ratio its current points imply lies inside the interval the data allows.
At most `max_changes` changes are suggested, the ones that move scores apart most first
(|new − old points| × sqrt(p(1 − p)), p the share of leads the rule fires on), one at a
time: each candidate's odds ratio is measured again among leads the rules chosen so far
score alike (Mantel-Haenszel over score strata), and after each choice the chosen rules'
points are fitted again the same way, so two rules that say the same thing are not both
counted in full. Tier thresholds are suggested from the scores converted leads get under
the new rules.

Pure: data in, data out; no I/O and no clock reads (`now` is passed in).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from scoring.backtest import auc
from scoring.calibration import Calibration, KnownLead, Options, Rule, RuleStats, rule_dict
from scoring.candidates import candidate_rules
from scoring.engine import compiled
from scoring.matchers import compile_matcher
from scoring.rubric import (
    implied_ratio,
    odds_ratio,
    rubric,
    wilson,
)
from scoring.rules import DisqualifyRule, IntentRule, ScoringRules, Tier

MIN_CANDIDATE_POINTS = 3.0
DAY = 86400.0


def _odds(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return p / (1 - p)


def rule_test(rule: Rule) -> Callable[[Mapping[str, Any], Sequence[tuple[str, float]]], bool]:
    """Gets a function telling whether a rule fires for a lead (fields, activity ages)."""
    if isinstance(rule, IntentRule) and rule.activity is not None:
        kinds = frozenset(rule.activity)
        window = math.inf if rule.within_days is None else rule.within_days
        need = rule.min_count

        def activity_fires(_: Mapping[str, Any], ages: Sequence[tuple[str, float]]) -> bool:
            return sum(1 for kind, age in ages if kind in kinds and age <= window) >= need

        return activity_fires
    name, field_name = rule.matcher_name(), rule.field
    assert name is not None
    assert field_name is not None
    matcher = compile_matcher(name, rule.matcher_value())
    return lambda lead, _: matcher(lead.get(field_name))


def _ages(lead: KnownLead, now: datetime) -> list[tuple[str, float]]:
    ages = ((a.kind, (now - a.occurred_at).total_seconds() / DAY) for a in lead.activities)
    return [(kind, age) for kind, age in ages if age >= 0]


def calibrate(
    rules: ScoringRules, leads: Sequence[KnownLead], *, now: datetime, options: Options
) -> Calibration:
    """Measures every rule and candidate, chooses the changes, suggests new rules."""
    ages = [_ages(lead, now) for lead in leads]
    outcomes = [lead.converted for lead in leads]
    measure = _Measure(leads, ages, outcomes, options)
    existing = [
        measure.stats(axis, rule, existing=True)
        for axis, group in (("fit", rules.fit), ("intent", rules.intent))
        for rule in group
    ]
    existing += [measure.stats("disqualify", rule, existing=True) for rule in rules.disqualify]
    candidates = [
        measure.stats(axis, rule, existing=False)
        for axis, rule in candidate_rules(rules, leads, exclude=options.exclude)
    ]
    changes = _choose(existing, candidates, measure, options)
    chosen = {id(s.rule) for s in changes}
    for stats in existing + candidates:
        if stats.verdict in ("change", "add") and id(stats.rule) not in chosen:
            stats.verdict = f"could {stats.verdict}: not among the {options.max_changes} chosen"
    draft = apply_changes(rules, changes)
    thresholds = suggest_thresholds(draft, leads, now)
    suggested = _with_tiers(draft, thresholds)
    return Calibration(
        n=len(leads),
        positives=sum(outcomes),
        rules=existing,
        candidates=sorted(candidates, key=lambda s: -s.effect),
        changes=changes,
        suggested=suggested,
        auc_before=_auc(rules, leads, now),
        auc_after=_auc(suggested, leads, now),
        thresholds=thresholds,
    )


class _Measure:
    """Counts, over the known leads, how each rule relates to the outcome."""

    def __init__(
        self,
        leads: Sequence[KnownLead],
        ages: list[list[tuple[str, float]]],
        outcomes: list[bool],
        options: Options,
    ) -> None:
        self.leads, self.ages, self.outcomes, self.options = leads, ages, outcomes, options
        self.n, self.positives = len(leads), sum(outcomes)

    def fires(self, rule: Rule) -> frozenset[int]:
        test = rule_test(rule)
        return frozenset(i for i, lead in enumerate(self.leads) if test(lead.fields, self.ages[i]))

    def stats(self, axis: str, rule: Rule, *, existing: bool) -> RuleStats:
        fires = self.fires(rule)
        support = len(fires)
        yes = sum(1 for i in fires if self.outcomes[i])
        rest, rest_yes = self.n - support, self.positives - yes
        ratio = odds_ratio(yes, support - yes, rest_yes, rest - rest_yes)
        baseline = self.positives / self.n if self.n else 0.0
        with_rate = yes / support if support else None
        current = float(rule.points)
        stats = RuleStats(
            axis=axis,
            rule=rule,
            existing=existing,
            support=support,
            converted_with=yes,
            conversion_with=with_rate,
            conversion_without=rest_yes / rest if rest else None,
            lift=(with_rate / baseline) if with_rate is not None and baseline else None,
            interval=wilson(yes, support),
            odds_ratio=ratio,
            current_points=current,
            suggested_points=rubric(ratio),
            verdict="",
            fires=fires,
        )
        stats.verdict = self.verdict(stats)
        stats.effect = _effect(stats, self.n)
        return stats

    def verdict(self, stats: RuleStats) -> str:
        if stats.support < self.options.min_support:
            return f"too small: fires on {stats.support} (< {self.options.min_support})"
        if stats.support == self.n:
            return "too small: fires on every lead"
        if isinstance(stats.rule, DisqualifyRule):
            return "no change: disqualifiers are policy, not points to tune"
        if not stats.existing:
            if abs(stats.suggested_points) < MIN_CANDIDATE_POINTS:
                return "no change: too weak to add"
            low, high = self.ratio_interval(stats)
            if low <= 1 <= high:
                return "no change: not clearly different from the baseline"
            return "add"
        low, high = self.ratio_interval(stats)
        if low <= implied_ratio(stats.current_points) <= high:
            return "no change: the data agrees with the current points"
        if stats.suggested_points == stats.current_points:
            return "no change: the rubric gives the same points"
        return "change"

    def ratio_interval(self, stats: RuleStats) -> tuple[float, float]:
        """Turns the Wilson interval of the conversion with the rule into odds ratios."""
        assert stats.interval is not None
        without = stats.conversion_without if stats.conversion_without is not None else 0.5
        low, high = stats.interval
        return _odds(low) / _odds(without), _odds(high) / _odds(without)


def _choose(
    existing: list[RuleStats], candidates: list[RuleStats], measure: _Measure, options: Options
) -> list[RuleStats]:
    """Chooses at most `max_changes`, one at a time: each candidate is measured among leads
    the rules so far score alike, and after each choice the chosen rules' points are fitted
    again the same way (backfitting), so what one rule says is not counted twice."""
    # Copies: the reported statistics stay those of each rule on its own.
    pool = [replace(s) for s in existing + candidates if s.verdict in ("change", "add")]
    points = [0.0] * measure.n
    for stats in existing:
        for i in stats.fires:
            points[i] += stats.current_points
    chosen: list[RuleStats] = []
    while pool and len(chosen) < options.max_changes:
        strata = _Strata(points, measure.outcomes)
        for stats in pool:
            _remeasure(stats, strata, measure)
        pool = [s for s in pool if s.verdict in ("change", "add") and s.effect > 0]
        if not pool:
            break
        best = max(pool, key=lambda s: s.effect)
        pool.remove(best)
        chosen.append(best)
        _shift(points, best.fires, best.suggested_points - best.current_points)
        _backfit(chosen, points, measure)
    return [s for s in chosen if s.suggested_points != s.current_points]


def _shift(points: list[float], fires: frozenset[int], by: float) -> None:
    for i in fires:
        points[i] += by


def _backfit(chosen: list[RuleStats], points: list[float], measure: _Measure) -> None:
    """Fits each chosen rule's points again among leads the other rules score alike."""
    for _ in range(2):
        for stats in chosen:
            own = stats.suggested_points
            _shift(points, stats.fires, -own)
            _remeasure(stats, _Strata(points, measure.outcomes), measure)
            _shift(points, stats.fires, stats.suggested_points)


class _Strata:
    """Leads grouped by the score the other rules give them (up to 12 groups of about
    equal size), with each group's converted and other counts."""

    GROUPS = 12

    def __init__(self, points: list[float], outcomes: list[bool]) -> None:
        ordered = sorted(points)
        n = len(points)
        cuts = sorted({ordered[(k * n) // self.GROUPS] for k in range(1, self.GROUPS)})
        self.group = [bisect.bisect_right(cuts, p) for p in points]
        self.totals = [[0, 0] for _ in range(len(cuts) + 1)]
        for group, yes in zip(self.group, outcomes, strict=True):
            self.totals[group][0 if yes else 1] += 1


def _remeasure(stats: RuleStats, strata: _Strata, measure: _Measure) -> None:
    """Measures a rule's odds ratio within the strata (Mantel-Haenszel) and its points."""
    fired = [[0, 0] for _ in strata.totals]
    for i in stats.fires:
        fired[strata.group[i]][0 if measure.outcomes[i] else 1] += 1
    top = bottom = 0.0
    for (yes, no), (a, b) in zip(strata.totals, fired, strict=True):
        c, d = yes - a, no - b
        total = a + b + c + d
        top += (a + 0.5) * (d + 0.5) / (total + 2)
        bottom += (b + 0.5) * (c + 0.5) / (total + 2)
    stats.odds_ratio = top / bottom
    stats.suggested_points = rubric(stats.odds_ratio)
    if not stats.existing and abs(stats.suggested_points) < MIN_CANDIDATE_POINTS:
        stats.verdict = "no change: says nothing the chosen rules do not"
    elif stats.existing and stats.suggested_points == stats.current_points:
        stats.verdict = "no change: the rubric gives the same points"
    else:
        stats.verdict = "add" if not stats.existing else "change"
    stats.effect = _effect(stats, measure.n)


def _effect(stats: RuleStats, n: int) -> float:
    """Gets how much a change moves scores apart: the change in points times the spread
    of the rule over the leads (sqrt(p(1-p)), largest for a rule that splits them evenly)."""
    if stats.verdict not in ("change", "add") or not n:
        return 0.0
    share = stats.support / n
    return abs(stats.suggested_points - stats.current_points) * math.sqrt(share * (1 - share))


def apply_changes(rules: ScoringRules, changes: Sequence[RuleStats]) -> ScoringRules:
    """Gets the rules with the chosen changes made (new rules added at the end)."""
    data = rules.model_dump(by_alias=True, exclude_none=True)
    for stats in changes:
        entry = rule_dict(stats.rule) | {"points": stats.suggested_points}
        group: list[dict[str, Any]] = data.setdefault(stats.axis, [])
        if stats.existing:
            index = [r["label"] for r in group].index(stats.label)
            group[index] = {**group[index], "points": stats.suggested_points}
        else:
            group.append(entry)
    return ScoringRules.model_validate(data)


def suggest_thresholds(
    rules: ScoringRules, leads: Sequence[KnownLead], now: datetime
) -> dict[str, float]:
    """Suggests tier thresholds from the scores converted leads get: MQL where 80% of
    them are at or above, SQL at their median, high priority where the top 20% start."""
    engine = compiled(rules)
    totals = sorted(
        engine.score(lead.fields, lead.activities, now).total for lead in leads if lead.converted
    )
    if not totals:
        return {t.value: rules.tiers.threshold(t) for t in (Tier.MQL, Tier.SQL, Tier.HIGH_PRIORITY)}
    picks = [totals[int(q * (len(totals) - 1))] for q in (0.2, 0.5, 0.8)]
    rounded: list[float] = []
    for value in picks:
        step = float(5 * math.floor(value / 5))
        rounded.append(step if not rounded or step > rounded[-1] else rounded[-1] + 5)
    cap = rules.limits.total_max
    if cap is not None and rounded[-1] > cap:  # many converted leads at the cap: step down
        rounded = [min(value, cap - 5 * (2 - i)) for i, value in enumerate(rounded)]
    return dict(zip(("mql", "sql", "high_priority"), rounded, strict=True))


def _with_tiers(rules: ScoringRules, thresholds: dict[str, float]) -> ScoringRules:
    data = rules.model_dump(by_alias=True, exclude_none=True)
    data["tiers"] = thresholds
    return ScoringRules.model_validate(data)


def _auc(rules: ScoringRules, leads: Sequence[KnownLead], now: datetime) -> float | None:
    engine = compiled(rules)
    totals = [engine.score(lead.fields, lead.activities, now).total for lead in leads]
    return auc(totals, [lead.converted for lead in leads])
