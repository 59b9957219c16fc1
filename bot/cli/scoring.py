"""`handoff score`: the scoring engine over lead files (and what `handoff backtest` reads
them with)."""

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
    LeadRow,
    RowError,
    columns_of,
    index_activities,
    read_leads,
)
from bot.cli.progress import Progress
from bot.config import load_config
from bot.handoffs.inputs import LeadIn
from scoring import TIER_ORDER, ScoringRules, Tier, compiled
from scoring.engine import Activity, Score, top_factors

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
    exclude: frozenset[str] = frozenset()  # columns hidden from the rules (backtest)


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
) -> Iterator[tuple[LeadRow, Score, list[Activity]]]:
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
            if inputs.exclude:
                row.fields = {k: v for k, v in row.fields.items() if k not in inputs.exclude}
            result = engine.score(row.fields, acts, inputs.now)
            run.tiers[result.tier] += 1
            run.routable += result.routable
            run.fields_seen.update(row.fields)
            run.lead_ids.add(row.external_id)
            yield row, result, acts
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
    for row, result, _ in scored_leads(rules, inputs, id_required=True, run=run):
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


def register(commands: Subcommands) -> None:
    """Adds `score`."""
    score = command(
        commands, "score", score_command, help="score leads from a CSV or JSON Lines file"
    )
    lead_file_options(score)
    score.add_argument("--format", choices=["table", "json"], default="table")


def lead_file_options(parser: argparse.ArgumentParser) -> None:
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


def inputs_of(args: argparse.Namespace) -> LeadInputs:
    return LeadInputs(args.leads, args.activities, args.now or datetime.now(UTC), args.id_column)


def score_command(args: argparse.Namespace) -> int:
    """`handoff score`."""
    rules = load_config(args.config).scoring
    return run_score(rules, inputs_of(args), fmt=args.format, out=sys.stdout)
