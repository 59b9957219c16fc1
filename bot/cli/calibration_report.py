"""What `handoff calibrate` prints: the rules and candidates with their statistics (full
labels, wrapped), each chosen change with its standalone figures and why its points
differ from them, and the ROC AUC before and after (on held-out leads when asked)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from scoring.calibration import Calibration, RuleStats
from scoring.evaluation import HeldOut
from scoring.rubric import MAX_POINTS, POINTS_PER_DOUBLING
from scoring.rules import ScoringRules

SHOWN_CANDIDATES = 15
LABEL_WIDTH = 44
FAR_FROM_ALONE = 10  # points: a change this far from its standalone suggestion says why


@dataclass(frozen=True)
class HeldOutAuc:
    """ROC AUC on leads calibration did not see: the current rules, the suggested rules,
    and a logistic regression fitted on the same rows and columns."""

    evaluation: HeldOut
    before: float | None
    after: float | None

    def to_dict(self) -> dict[str, Any]:
        """Gets it as `--format json` prints it."""
        return self.evaluation.to_dict() | {
            "current": _r(self.before),
            "suggested": _r(self.after),
        }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _auc(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


HEADER = (
    f"  {'rule':<{LABEL_WIDTH}} {'leads':>6} {'conv':>7} {'others':>7} {'lift':>5} "
    f"{'95% CI':>9} {'now':>5} {'sugg':>5}  verdict"
)


def _row(stats: RuleStats) -> list[str]:
    """Gets a rule's lines: the label wrapped (never cut), the figures on the first."""
    interval = (
        "n/a"
        if stats.interval is None
        else f"{stats.interval[0] * 100:.0f}-{stats.interval[1] * 100:.0f}%"
    )
    lift = "n/a" if stats.lift is None else f"{stats.lift:.2f}"
    label = textwrap.wrap(stats.label, LABEL_WIDTH, break_long_words=True) or [""]
    first = (
        f"  {label[0]:<{LABEL_WIDTH}} {stats.support:>6} {_pct(stats.conversion_with):>7} "
        f"{_pct(stats.conversion_without):>7} {lift:>5} {interval:>9} "
        f"{stats.current_points:>+5g} {stats.suggested_points:>+5g}  {stats.verdict}"
    )
    return [first, *(f"    {part}" for part in label[1:])]


def report_table(
    result: Calibration,
    rules: ScoringRules,
    version: str,
    source: str,
    *,
    switched_off: list[str],
    held_out: HeldOutAuc | None,
) -> str:
    """Gets the calibration report as text."""
    fitted = f"{result.n} leads" + (" (the leads not held out)" if held_out else "")
    lines = [
        f"Calibration of rules {rules.version} on {source}: {fitted}, "
        f"{result.positives} converted ({_pct(result.baseline)})",
        f"Rubric: points = {POINTS_PER_DOUBLING:g} × log2(odds ratio), rounded, within "
        f"±{MAX_POINTS:g}; conv = conversion where the rule fires, others = where it does not;",
        "95% CI = Wilson interval of conv. An existing rule keeps its points when that "
        "interval allows them.",
        *_switched_off(switched_off),
        "",
        "Existing rules:" if result.rules else "Existing rules: none",
    ]
    if result.rules:
        lines += [HEADER, *(line for s in result.rules for line in _row(s))]
    chosen = {id(s.rule) for s in result.changes}
    shown = [s for s in result.candidates if id(s.rule) in chosen or "add" in s.verdict]
    shown = shown[:SHOWN_CANDIDATES]
    lines += ["", f"Candidate rules found in the data (top {len(shown)} by effect):"]
    lines += [HEADER, *(line for s in shown for line in _row(s))] if shown else ["  none"]
    lines += ["", *_changes(result)]
    t = result.thresholds
    lines += [
        "",
        f"Suggested tiers: mql {t['mql']:g} (80% of converted leads score at least this), "
        f"sql {t['sql']:g} (half of them), high_priority {t['high_priority']:g} (top 20%)",
        "",
        *_auc_table(result, rules.version, version, held_out),
    ]
    return "\n".join(lines) + "\n"


def _switched_off(labels: list[str]) -> list[str]:
    if not labels:
        return []
    return [
        "",
        f"--exclude-column switches off {len(labels)} existing rule(s): their field is hidden "
        "from every lead, so they never fire here:",
        *(f"  - {label}" for label in labels),
    ]


def _changes(result: Calibration) -> list[str]:
    """Gets the chosen changes: for each, what it says on its own, its points after the
    changes before it, and why they differ when the sign flips or they differ much."""
    alone = {id(s.rule): s for s in result.rules + result.candidates}
    lines = [
        f"Suggested changes ({len(result.changes)}, by effect, each measured after the ones "
        "before it):"
    ]
    for number, stats in enumerate(result.changes, start=1):
        what = "add" if not stats.existing else f"change from {stats.current_points:+g} to"
        lines += textwrap.wrap(
            f"{number}. {what} {stats.suggested_points:+g} points: {stats.label} "
            f"({stats.axis}, fires on {stats.support})",
            96,
            initial_indent="  ",
            subsequent_indent="       ",
        )
        own = alone.get(id(stats.rule))
        if own is None:
            continue
        lift = "n/a" if own.lift is None else f"{own.lift:.2f}"
        lines.append(
            f"       on its own: conversion {_pct(own.conversion_with)} against "
            f"{_pct(own.conversion_without)} (lift {lift}), {own.suggested_points:+g} points; "
            f"after the changes before it: {stats.suggested_points:+g}"
        )
        why = _why(stats, own, result.changes[: number - 1])
        if why:
            lines += textwrap.wrap(why, 96, initial_indent="       ", subsequent_indent="       ")
    return lines


def _why(stats: RuleStats, own: RuleStats, before: list[RuleStats]) -> str | None:
    """Says why a change's points differ from its standalone suggestion, when its sign
    flips or they are FAR_FROM_ALONE points apart or more."""
    flips = stats.suggested_points * own.suggested_points < 0
    if not flips and abs(stats.suggested_points - own.suggested_points) < FAR_FROM_ALONE:
        return None
    overlap = max(before, key=lambda b: len(b.fires & stats.fires), default=None)
    shared = len(overlap.fires & stats.fires) if overlap else 0
    told = (
        f"\u201c{overlap.label}\u201d, chosen before it, fires on {shared} of its "
        f"{stats.support} leads"
        if overlap and shared
        else "the points of the rules chosen together with it were fitted again after it"
    )
    if flips:
        direction = "better" if stats.suggested_points > 0 else "worse"
        return (
            f"Why the sign flips: on its own it marks leads that convert "
            f"{'less' if own.suggested_points < 0 else 'more'} than the rest, but among leads "
            f"the other chosen rules score alike, its leads convert {direction}; {told}."
        )
    return (
        f"Why {'fewer' if abs(stats.suggested_points) < abs(own.suggested_points) else 'more'} "
        f"points than on its own: it is measured among leads the other chosen rules score "
        f"alike; {told}."
    )


def _auc_table(
    result: Calibration, current: str, suggested: str, held_out: HeldOutAuc | None
) -> list[str]:
    if held_out is None:
        return [
            f"ROC AUC on the same leads the points were fitted on: {_auc(result.auc_before)} "
            f"now, {_auc(result.auc_after)} with the suggested rules ({suggested}).",
            "That flatters any fit: --holdout 0.3 --seed N measures it on leads held out.",
        ]
    baseline = held_out.evaluation.baseline
    rows = [
        (f"current rules ({current})", _auc(held_out.before)),
        (f"suggested rules ({suggested})", _auc(held_out.after)),
        (
            "logistic regression, same rows and columns",
            _auc(baseline.auc) if baseline.auc is not None else "skipped",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [
        f"ROC AUC on held-out leads, which calibration did not see: "
        f"{held_out.evaluation.describe()}",
        *(f"  {name:<{width}}  {value}" for name, value in rows),
    ]
    if baseline.auc is None:
        lines.append(f"  ({baseline.note})")
    return lines


def report_json(
    result: Calibration, version: str, diff: str, suggested: dict[str, Any]
) -> dict[str, Any]:
    """Gets the calibration report as `--format json` prints it."""
    return {
        "n": result.n,
        "positives": result.positives,
        "baseline": result.baseline,
        "rubric": f"points = {POINTS_PER_DOUBLING:g} * log2(odds ratio), within ±{MAX_POINTS:g}",
        "rules": [s.to_dict() for s in result.rules],
        "candidates": [s.to_dict() for s in result.candidates],
        "changes": [s.to_dict() for s in result.changes],
        "thresholds": result.thresholds,
        "auc": {"current": result.auc_before, "suggested": result.auc_after},
        "version": version,
        "suggested": suggested,
        "diff": diff,
    }
