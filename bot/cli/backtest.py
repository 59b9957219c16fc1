"""`handoff backtest`: replays leads with known outcomes through the rules; with
`--holdout` or `--split-by-date`, on held-out leads only, beside a logistic regression
fitted on the others (bot/cli/evaluate.py)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from bot.cli.common import Subcommands, command
from bot.cli.evaluate import add_split_options, features, sides, split_of
from bot.cli.leadfiles import FileProblem, RowError, columns_of
from bot.cli.scoring import (
    LeadInputs,
    Run,
    inputs_of,
    lead_file_options,
    parse_outcome,
    report_errors,
    scored_leads,
    warn_unused_fields,
)
from bot.config import load_config
from scoring import TIER_ORDER, BacktestReport, ScoringRules, Tier, backtest
from scoring.engine import Activity, Score
from scoring.evaluation import HeldOut, Split, logistic_baseline


@dataclass(frozen=True)
class Replayed:
    """One lead of a backtest: its line, what the regression may see, score, outcome."""

    line: int
    fields: dict[str, Any]  # the columns, less the outcome and the id
    activities: list[Activity]
    score: Score
    converted: bool

    def features(self) -> dict[str, Any]:
        """Gets what the regression sees of the lead (bot.cli.evaluate.features)."""
        return features(self.fields, self.activities)


def replay(
    rules: ScoringRules, inputs: LeadInputs, *, outcome_column: str, run: Run
) -> list[Replayed]:
    """Replays a lead file with known outcomes through the rules; bad rows go to `run`."""
    leads = inputs.leads
    columns = columns_of(leads)
    if columns is not None and outcome_column not in columns:
        raise FileProblem(
            f"{leads}:1: no column `{outcome_column}` for --outcome-column "
            f"(columns: {', '.join(columns[:12])}{', …' if len(columns) > 12 else ''})"
        )
    replayed: list[Replayed] = []
    # Ids only join leads to activities, so without an activity file a file with no id
    # column (X Education's export has "Prospect ID") is still backtested.
    id_required = inputs.activities is not None or (
        columns is not None and inputs.id_column in columns
    )
    hidden = {outcome_column, inputs.id_column}
    for row, result, acts in scored_leads(rules, inputs, id_required=id_required, run=run):
        try:
            converted = parse_outcome(row.fields.get(outcome_column))
        except ValueError as exc:
            run.errors.append(RowError(leads, row.line, f"`{outcome_column}`: {exc}"))
            continue
        seen = {k: v for k, v in row.fields.items() if k not in hidden}
        replayed.append(Replayed(row.line, seen, acts, result, converted))
    warn_unused_fields(rules, leads, run)
    return replayed


def backtest_rules(
    rules: ScoringRules, inputs: LeadInputs, *, outcome_column: str, run: Run
) -> BacktestReport:
    """Replays a lead file with known outcomes through the rules; bad rows go to `run`."""
    replayed = replay(rules, inputs, outcome_column=outcome_column, run=run)
    return backtest([r.score for r in replayed], [r.converted for r in replayed], rules.tiers)


class HeldOutLines(HeldOut):
    """A held-out evaluation, as the backtest table shows it."""

    def lines(self, auc: float | None, *, where: str = "below") -> list[str]:
        """Gets the lines the table shows (`auc`: the rules', None to leave it out)."""
        lines = [f"Held out: {self.describe()}; all {where} is measured on them only."]
        if auc is not None:
            lines.append(f"ROC AUC of the total score: {_auc(auc)}")
        if self.baseline.auc is None:
            return [*lines, f"({self.baseline.note})"]
        return [*lines, f"ROC AUC of a {self.baseline.note}: {_auc(self.baseline.auc)}"]


def _auc(value: float | None) -> str:
    return "n/a (needs both outcomes)" if value is None else f"{value:.3f}"


def held_out(
    replayed: list[Replayed], split: Split, leads: Path, run: Run
) -> tuple[list[Replayed], HeldOutLines]:
    """Splits the replayed leads; gets the held-out ones and the regression's result."""
    placed = sides(split, [r.line for r in replayed], [r.fields for r in replayed], leads)
    run.errors.extend(placed.errors)
    test, train = placed.pick(replayed, held=True), placed.pick(replayed, held=False)
    baseline = logistic_baseline(
        [r.features() for r in train],
        [r.converted for r in train],
        [r.features() for r in test],
        [r.converted for r in test],
    )
    return test, HeldOutLines(split, len(test), len(test) + len(train), baseline)


def run_backtest(
    rules: ScoringRules,
    inputs: LeadInputs,
    *,
    outcome_column: str,
    fmt: str,
    out: TextIO,
    compare: ScoringRules | None = None,
    split: Split | None = None,
) -> int:
    """Replays a lead file with known outcomes through the rules (and, with `compare`,
    through a second rule set too) and reports how they did; with `split`, on the
    held-out leads only, beside a logistic regression fitted on the others."""
    run = Run()
    replayed = replay(rules, inputs, outcome_column=outcome_column, run=run)
    extra: HeldOutLines | None = None
    if split is not None:
        replayed, extra = held_out(replayed, split, inputs.leads, run)
    report = backtest([r.score for r in replayed], [r.converted for r in replayed], rules.tiers)
    if compare is None:
        if fmt == "json":
            data = report.to_dict() | ({"evaluation": extra.to_dict()} if extra else {})
            out.write(json.dumps(data, indent=2) + "\n")
        else:
            out.write(backtest_table(report, rules, inputs.leads, extra))
        return report_errors(run)
    kept = {r.line for r in replayed}
    others = [
        r
        for r in replay(compare, inputs, outcome_column=outcome_column, run=Run())
        if r.line in kept
    ]
    other = backtest([r.score for r in others], [r.converted for r in others], compare.tiers)
    if fmt == "json":
        both = {
            "current": {"version": rules.version, **report.to_dict()},
            "compare": {"version": compare.version, **other.to_dict()},
        } | ({"evaluation": extra.to_dict()} if extra else {})
        out.write(json.dumps(both, indent=2) + "\n")
    else:
        out.write(comparison_table((rules, report), (compare, other), inputs.leads))
        if extra:
            out.write("\n".join(["", *extra.lines(None, where="above")]) + "\n")
    return report_errors(run)


def comparison_table(
    current: tuple[ScoringRules, BacktestReport],
    other: tuple[ScoringRules, BacktestReport],
    leads: Path,
) -> str:
    """Gets two rule sets' backtests side by side."""
    (rules_a, a), (rules_b, b) = current, other
    width = max(len(rules_a.version), len(rules_b.version), 22)

    def line(name: str, left: str, right: str) -> str:
        return f"{name:<28} {left:>{width}}  {right:>{width}}"

    def tier(rules: ScoringRules, report: BacktestReport, t: Tier) -> str:
        row = report.tiers[t]
        bound = "" if t is Tier.NURTURE else f"from {rules.tiers.threshold(t):g}: "
        return f"{bound}{row.count} leads, {_pct(row.rate).strip()}"

    def auc_of(report: BacktestReport) -> str:
        return "n/a" if report.auc is None else f"{report.auc:.3f}"

    lines = [
        f"Backtest on {leads}: {a.n} leads, {a.positives} converted",
        "",
        line("", rules_a.version, rules_b.version),
        line("ROC AUC", auc_of(a), auc_of(b)),
    ]
    lines += [
        line(f"tier {t.value}", tier(rules_a, a, t), tier(rules_b, b, t))
        for t in reversed(TIER_ORDER)
    ]
    lines += [
        line("routable leads", str(a.routable), str(b.routable)),
        line("routable precision", _pct(a.precision).strip(), _pct(b.precision).strip()),
        line("routable recall", _pct(a.recall).strip(), _pct(b.recall).strip()),
    ]
    return "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    return "   n/a" if value is None else f"{value * 100:5.1f}%"


def backtest_table(
    report: BacktestReport, rules: ScoringRules, leads: Path, extra: HeldOutLines | None = None
) -> str:
    """Gets the backtest as a readable table."""
    share = report.positives / report.n if report.n else None
    lines = [
        f"Backtest of rules {rules.version} on {leads}",
        *(extra.lines(report.auc) if extra else []),
        f"{report.n} leads, {report.positives} converted ({_pct(share).strip()})",
        *([] if extra else [f"ROC AUC of the total score: {_auc(report.auc)}"]),
        "",
        f"{'tier':<14} {'from':>6} {'leads':>7} {'converted':>10} {'rate':>7}",
    ]
    for tier in reversed(TIER_ORDER):
        row = report.tiers[tier]
        bound = "" if tier is Tier.NURTURE else f"{rules.tiers.threshold(tier):g}"
        lines.append(
            f"{tier.value:<14} {bound:>6} {row.count:>7} {row.converted:>10} {_pct(row.rate):>7}"
        )
    lines += [
        "",
        f"Routable to sales (min tier {rules.routing.min_tier.value}): {report.routable} leads; "
        f"precision {_pct(report.precision).strip()}, recall {_pct(report.recall).strip()}",
        "Converted leads at or above each threshold: "
        + ", ".join(
            f"{tier.value} {_pct(v).strip()}" for tier, v in report.converted_at_or_above.items()
        ),
    ]
    return "\n".join(lines) + "\n"


def register(commands: Subcommands) -> None:
    """Adds `backtest`."""
    bt = command(
        commands,
        "backtest",
        backtest_command,
        help="replay leads with known outcomes through the rules",
    )
    lead_file_options(bt)
    bt.add_argument(
        "--outcome-column",
        required=True,
        metavar="COL",
        help="column holding the outcome (1/0, true/false, yes/no, won/lost)",
    )
    bt.add_argument("--format", choices=["table", "json"], default="table")
    bt.add_argument(
        "--exclude-column",
        action="append",
        default=[],
        metavar="COL",
        help="hide this column from the rules and the regression (e.g. one sales fills in "
        "after acting on the lead); repeatable",
    )
    add_split_options(bt)
    bt.add_argument(
        "--compare",
        metavar="OTHER.toml",
        help="also replay through this config's [scoring] and show both side by side",
    )


def backtest_command(args: argparse.Namespace) -> int:
    """`handoff backtest`."""
    rules = load_config(args.config).scoring
    compare = load_config(args.compare).scoring if args.compare else None
    exclude = frozenset(args.exclude_column)
    for scoring in (rules, compare):
        if scoring is not None:
            say_switched_off(scoring, exclude)
    inputs = replace(inputs_of(args), exclude=exclude)
    return run_backtest(
        rules,
        inputs,
        outcome_column=args.outcome_column,
        fmt=args.format,
        out=sys.stdout,
        compare=compare,
        split=split_of(args),
    )


def say_switched_off(rules: ScoringRules, exclude: frozenset[str]) -> None:
    """Names, on stderr, the rules --exclude-column switches off (their field is hidden)."""
    labels = [r.label for r in (*rules.fit, *rules.intent, *rules.disqualify) if r.field in exclude]
    if labels:
        print(
            f"note: --exclude-column switches off {len(labels)} rule(s) of {rules.version}, "
            f"whose field is hidden: {'; '.join(labels)}",
            file=sys.stderr,
        )
