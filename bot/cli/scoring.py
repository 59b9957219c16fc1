"""`handoff score` and `handoff backtest`: the scoring engine over lead files."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.cli.common import Subcommands, command, config_option, instant
from bot.cli.leadfiles import (
    FileProblem,
    LeadRow,
    RowError,
    columns_of,
    index_activities,
    read_leads,
)
from bot.cli.progress import Progress
from bot.config import load_config
from bot.handoffs.inputs import LeadIn
from scoring import TIER_ORDER, BacktestReport, ScoringRules, Tier, backtest, compiled
from scoring.engine import Score, top_factors

TOP_FACTORS = 5
_TRUE = {"1", "true", "yes", "y", "won", "converted"}
_FALSE = {"0", "false", "no", "n", "lost"}


@dataclass(frozen=True)
class LeadInputs:
    """Where the leads come from and the instant they are scored at."""

    leads: Path
    activities: Path | None
    now: datetime
    id_column: str = "external_id"


@dataclass
class Run:
    """What one pass over a lead file saw: the bad rows, the tiers, the field names."""

    errors: list[RowError] = field(default_factory=list)
    tiers: Counter[Tier] = field(default_factory=Counter)
    routable: int = 0
    fields_seen: set[str] = field(default_factory=set)
    lead_ids: set[str] = field(default_factory=set)

    @property
    def scored(self) -> int:
        """Gets how many leads were scored."""
        return sum(self.tiers.values())


def scored_leads(
    rules: ScoringRules, inputs: LeadInputs, *, id_required: bool, run: Run
) -> Iterator[tuple[LeadRow, Score]]:
    """Scores each valid lead of a file (joined to its activities); bad rows go to `run`."""
    leads, activities = inputs.leads, inputs.activities
    index = index_activities(activities) if activities else None
    if index:
        run.errors.extend(index.errors)
    engine = compiled(rules)
    with Progress("Scoring") as progress:
        names = field_names(rules)
        for row in read_leads(
            leads, id_column=inputs.id_column, id_required=id_required, names=names
        ):
            progress.advance()
            if isinstance(row, RowError):
                run.errors.append(row)
                continue
            acts = row.activities + (index.by_lead.get(row.external_id, []) if index else [])
            result = engine.score(row.fields, acts, inputs.now)
            run.tiers[result.tier] += 1
            run.routable += result.routable
            run.fields_seen.update(row.fields)
            run.lead_ids.add(row.external_id)
            yield row, result
    if index:
        _warn_unmatched(index.unmatched(run.lead_ids), activities, leads)


def _warn_unmatched(unmatched: list[tuple[str, int]], activities: Path | None, leads: Path) -> None:
    if unmatched:
        lead, line = unmatched[0]
        print(
            f"warning: {activities}: activities of {len(unmatched)} lead id(s) not in {leads} "
            f"were ignored (first: {lead!r} at line {line})",
            file=sys.stderr,
        )


def field_names(rules: ScoringRules) -> list[str]:
    """Gets the lead fields a file's columns are matched to, whatever their case: intake's
    own (`first_name`, `country`…) and those the rules read."""
    ruled = [r.field for r in (*rules.fit, *rules.disqualify, *rules.intent) if r.field]
    return [*LeadIn.model_fields, *ruled]


def warn_unused_fields(rules: ScoringRules, leads: Path, run: Run | None = None) -> None:
    """Warns about rule fields that no lead has: most often a typo in a field name
    (columns match whatever their case)."""
    seen = {name.casefold() for name in columns_of(leads) or []}
    seen |= {name.casefold() for name in (run.fields_seen if run else ())}
    if run is None and columns_of(leads) is None:
        return  # JSON Lines without a run: keys vary by row, nothing to compare
    labels: dict[str, list[str]] = {}
    for rule in (*rules.fit, *rules.disqualify, *rules.intent):
        if rule.field is not None and rule.field.casefold() not in seen:
            labels.setdefault(rule.field, []).append(rule.label)
    for name, used_by in sorted(labels.items()):
        print(
            f"warning: no lead in {leads} has the field `{name}` "
            f"(used by: {'; '.join(used_by)}); those rules never fire",
            file=sys.stderr,
        )


def report_errors(run: Run) -> int:
    """Prints each bad row to stderr; gets the exit code (1 when any row was bad)."""
    for error in run.errors:
        print(error, file=sys.stderr)
    return 1 if run.errors else 0


def run_score(rules: ScoringRules, inputs: LeadInputs, *, fmt: str, out: TextIO) -> int:
    """Scores a lead file and prints one result per lead."""
    run = Run()
    for row, result in scored_leads(rules, inputs, id_required=True, run=run):
        if fmt == "json":
            out.write(json.dumps(result.to_dict(external_id=row.external_id)) + "\n")
        else:
            out.write(_table_entry(row.external_id, result))
    warn_unused_fields(rules, inputs.leads, run)
    code = report_errors(run)
    summary = ", ".join(f"{run.tiers[t]} {t.value}" for t in reversed(TIER_ORDER))
    print(
        f"Scored {run.scored} lead(s) with rules {rules.version}: {summary}; "
        f"{run.routable} routable to sales."
        + (f" {len(run.errors)} bad row(s) skipped." if run.errors else ""),
        file=sys.stderr,
    )
    return code


def _table_entry(external_id: str, result: Score) -> str:
    head = (
        f"{external_id}  fit {result.fit:.1f}  intent {result.intent:.1f}  "
        f"total {result.total:.1f}  {result.tier.value}  "
        + ("-> sales" if result.routable else "stays with marketing")
    )
    lines = [head]
    if result.blocked:
        lines.append(f"    blocked: {result.blocked}")
    shown = top_factors(result.factors, TOP_FACTORS)
    for factor in shown:
        lines.append(f"    {factor.points:+7.1f}  {factor.axis:<6}  {factor.label}")
    hidden = len(result.factors) - len(shown)
    if hidden > 0:
        lines.append(f"    … and {hidden} more factor(s)")
    return "\n".join(lines) + "\n\n"


def parse_outcome(value: object) -> bool:
    """Reads an outcome cell: 1/0, true/false, yes/no, won/lost, or any number (0 is no)."""
    text = str(value if value is not None else "").strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    try:
        return float(text) != 0
    except ValueError:
        raise ValueError(
            f"outcome {value!r} is not one of 1/0, true/false, yes/no, won/lost"
        ) from None


def backtest_rules(
    rules: ScoringRules, inputs: LeadInputs, *, outcome_column: str, run: Run
) -> BacktestReport:
    """Replays a lead file with known outcomes through the rules; bad rows go to `run`."""
    leads = inputs.leads
    columns = columns_of(leads)
    if columns is not None and outcome_column not in columns:
        raise FileProblem(
            f"{leads}:1: no column `{outcome_column}` for --outcome-column "
            f"(columns: {', '.join(columns[:12])}{', …' if len(columns) > 12 else ''})"
        )
    scores: list[Score] = []
    outcomes: list[bool] = []
    # Ids only join leads to activities, so without an activity file a file with no id
    # column (X Education's export has "Prospect ID") is still backtested.
    id_required = inputs.activities is not None or (
        columns is not None and inputs.id_column in columns
    )
    for row, result in scored_leads(rules, inputs, id_required=id_required, run=run):
        try:
            outcomes.append(parse_outcome(row.fields.get(outcome_column)))
        except ValueError as exc:
            run.errors.append(RowError(leads, row.line, f"`{outcome_column}`: {exc}"))
            continue
        scores.append(result)
    warn_unused_fields(rules, leads, run)
    return backtest(scores, outcomes, rules.tiers)


def run_backtest(
    rules: ScoringRules,
    inputs: LeadInputs,
    *,
    outcome_column: str,
    fmt: str,
    out: TextIO,
    compare: ScoringRules | None = None,
) -> int:
    """Replays a lead file with known outcomes through the rules (and, with `compare`,
    through a second rule set too) and reports how they did."""
    run = Run()
    report = backtest_rules(rules, inputs, outcome_column=outcome_column, run=run)
    if compare is None:
        if fmt == "json":
            out.write(json.dumps(report.to_dict(), indent=2) + "\n")
        else:
            out.write(backtest_table(report, rules, inputs.leads))
        return report_errors(run)
    other = backtest_rules(compare, inputs, outcome_column=outcome_column, run=Run())
    if fmt == "json":
        both = {
            "current": {"version": rules.version, **report.to_dict()},
            "compare": {"version": compare.version, **other.to_dict()},
        }
        out.write(json.dumps(both, indent=2) + "\n")
    else:
        out.write(comparison_table((rules, report), (compare, other), inputs.leads))
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


def backtest_table(report: BacktestReport, rules: ScoringRules, leads: Path) -> str:
    """Gets the backtest as a readable table."""
    share = report.positives / report.n if report.n else None
    auc = "n/a (needs both outcomes)" if report.auc is None else f"{report.auc:.3f}"
    lines = [
        f"Backtest of rules {rules.version} on {leads}",
        f"{report.n} leads, {report.positives} converted ({_pct(share).strip()})",
        f"ROC AUC of the total score: {auc}",
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
    """Adds `score` and `backtest`."""
    score = command(
        commands, "score", score_command, help="score leads from a CSV or JSON Lines file"
    )
    _lead_file_options(score)
    score.add_argument("--format", choices=["table", "json"], default="table")

    bt = command(
        commands,
        "backtest",
        backtest_command,
        help="replay leads with known outcomes through the rules",
    )
    _lead_file_options(bt)
    bt.add_argument(
        "--outcome-column",
        required=True,
        metavar="COL",
        help="column holding the outcome (1/0, true/false, yes/no, won/lost)",
    )
    bt.add_argument("--format", choices=["table", "json"], default="table")
    bt.add_argument(
        "--compare",
        metavar="OTHER.toml",
        help="also replay through this config's [scoring] and show both side by side",
    )


def _lead_file_options(parser: argparse.ArgumentParser) -> None:
    config_option(parser)
    parser.add_argument(
        "--leads",
        required=True,
        type=Path,
        metavar="FILE",
        help="leads, CSV or JSON Lines, one column/key per field",
    )
    parser.add_argument(
        "--activities",
        type=Path,
        metavar="FILE",
        help="activities, CSV or JSON Lines: lead_id, kind, occurred_at",
    )
    parser.add_argument(
        "--id-column",
        default="external_id",
        metavar="NAME",
        help="the leads' id column (default: external_id)",
    )
    parser.add_argument(
        "--now", type=instant, metavar="ISO", help="score as of this instant (default: now)"
    )


def _inputs(args: argparse.Namespace) -> LeadInputs:
    return LeadInputs(args.leads, args.activities, args.now or datetime.now(UTC), args.id_column)


def score_command(args: argparse.Namespace) -> int:
    """`handoff score`."""
    rules = load_config(args.config).scoring
    return run_score(rules, _inputs(args), fmt=args.format, out=sys.stdout)


def backtest_command(args: argparse.Namespace) -> int:
    """`handoff backtest`."""
    rules = load_config(args.config).scoring
    compare = load_config(args.compare).scoring if args.compare else None
    return run_backtest(
        rules,
        _inputs(args),
        outcome_column=args.outcome_column,
        fmt=args.format,
        out=sys.stdout,
        compare=compare,
    )
