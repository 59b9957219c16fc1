"""`handoff calibrate`: points suggested from leads with known outcomes (scoring.calibrate),
written as a complete new config with a readable diff."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import tomli_w
from sqlmodel import Session

from bot.cli.calibration_report import HeldOutAuc, report_json, report_table
from bot.cli.common import Subcommands, command, config_option, database, instant
from bot.cli.evaluate import add_split_options, features, sides, split_of
from bot.cli.leadfiles import FileProblem, RowError, columns_of, index_activities, read_leads
from bot.cli.scoring import parse_outcome
from bot.config import Config, ConfigError, Settings, load_config, parse_config
from bot.handoffs.outcomes import leads_with_outcomes
from scoring import auc, compiled
from scoring.calibrate import calibrate
from scoring.calibration import KnownLead, Options
from scoring.evaluation import HeldOut, Split, logistic_baseline
from scoring.rules import ScoringRules


@dataclass(frozen=True)
class CalibrationInputs:
    """Where the known leads come from, and what to leave out."""

    leads: Path
    outcome_column: str
    activities: Path | None
    id_column: str
    exclude: frozenset[str]


def known_leads_from_file(inputs: CalibrationInputs) -> tuple[list[KnownLead], list[RowError]]:
    """Reads leads with their outcome (and activities); bad rows come back as errors."""
    columns = columns_of(inputs.leads)
    if columns is not None and inputs.outcome_column not in columns:
        raise FileProblem(
            f"{inputs.leads}:1: no column `{inputs.outcome_column}` for --outcome-column "
            f"(columns: {', '.join(columns[:12])}{', …' if len(columns) > 12 else ''})"
        )
    index = index_activities(inputs.activities) if inputs.activities else None
    errors: list[RowError] = list(index.errors) if index else []
    has_ids = columns is None or inputs.id_column in columns
    hidden = inputs.exclude | {inputs.outcome_column, inputs.id_column}
    leads = []
    for row in read_leads(
        inputs.leads, id_column=inputs.id_column, id_required=index is not None or has_ids
    ):
        if isinstance(row, RowError):
            errors.append(row)
            continue
        try:
            converted = parse_outcome(row.fields.get(inputs.outcome_column))
        except ValueError as exc:
            errors.append(RowError(inputs.leads, row.line, f"`{inputs.outcome_column}`: {exc}"))
            continue
        fields = {k: v for k, v in row.fields.items() if k not in hidden}
        acts = row.activities + (index.by_lead.get(row.external_id, []) if index else [])
        leads.append(KnownLead(fields, acts, converted, line=row.line))
    return leads, errors


def known_leads_from_db(settings: Settings) -> list[KnownLead]:
    """Reads every stored lead with its activities; converted = a closed_won outcome."""
    with database(settings) as engine, Session(engine) as session:
        return leads_with_outcomes(session=session)


def run_calibration(
    config: Config,
    leads: list[KnownLead],
    *,
    options: Options,
    now: datetime,
    out_path: Path | None,
    fmt: str,
    out: TextIO,
    source: str,
    split: Split | None = None,
) -> int:
    """Calibrates (on the leads not held out, with `split`), prints the report, writes
    the suggested config; gets the exit code."""
    rules = config.scoring
    left_out = False  # leads the split could not place (said on stderr): exit 1
    held: list[KnownLead] = []
    fitted = leads
    if split is not None:
        placed = sides(split, [k.line for k in leads], [k.fields for k in leads], source)
        for error in placed.errors:
            print(error, file=sys.stderr)
        left_out = bool(placed.errors)
        fitted, held = placed.pick(leads, held=False), placed.pick(leads, held=True)
    problem = _too_few(fitted, options, source + (" (not held out)" if split else ""))
    if problem:
        print(f"handoff calibrate: {problem}", file=sys.stderr)
        return 2
    result = calibrate(rules, fitted, now=now, options=options)
    version = f"{rules.version}-cal-{now:%Y%m%d}"
    suggested = result.suggested.model_copy(update={"version": version})
    held_out = None
    if split is not None:
        held_out = evaluate_held_out(split, fitted, held, rules, suggested, now)
    diff = scoring_diff(rules, suggested)
    if out_path is not None:
        write_config(config, suggested, out_path)
    switched_off = [
        r.label
        for r in (*rules.fit, *rules.intent, *rules.disqualify)
        if r.field in options.exclude
    ]
    if fmt == "json":
        data = report_json(result, version, diff, _dump_scoring(suggested))
        data["switched_off"] = switched_off
        data["held_out"] = held_out.to_dict() if held_out else None
        out.write(json.dumps(data, indent=2) + "\n")
    else:
        out.write(
            report_table(
                result, rules, version, source, switched_off=switched_off, held_out=held_out
            )
        )
        out.write("\n" + (diff or "(no change to the rules)\n"))
    if out_path is not None:
        print(f"Wrote {out_path} (rules {version}).", file=sys.stderr)
    return 1 if left_out else 0


def _too_few(leads: list[KnownLead], options: Options, source: str) -> str | None:
    if len(leads) < 2 * options.min_support:
        return (
            f"{len(leads)} lead(s) with a known outcome in {source}; at least "
            f"{2 * options.min_support} are needed (--min-support {options.min_support})"
        )
    if not any(lead.converted for lead in leads) or all(lead.converted for lead in leads):
        return (
            f"every lead in {source} has the same outcome; calibration needs converted and "
            "unconverted leads"
        )
    return None


def evaluate_held_out(
    split: Split,
    fitted: list[KnownLead],
    held: list[KnownLead],
    rules: ScoringRules,
    suggested: ScoringRules,
    now: datetime,
) -> HeldOutAuc:
    """Measures the current and suggested rules on the held-out leads, beside a logistic
    regression fitted on the leads calibration saw (same columns)."""

    def auc_of(scoring: ScoringRules) -> float | None:
        engine = compiled(scoring)
        totals = [engine.score(k.fields, k.activities, now).total for k in held]
        return auc(totals, [k.converted for k in held])

    baseline = logistic_baseline(
        [features(k.fields, k.activities) for k in fitted],
        [k.converted for k in fitted],
        [features(k.fields, k.activities) for k in held],
        [k.converted for k in held],
    )
    total = len(fitted) + len(held)
    evaluation = HeldOut(split, len(held), total, baseline)
    return HeldOutAuc(evaluation, auc_of(rules), auc_of(suggested))


def _dump_scoring(rules: ScoringRules) -> dict[str, Any]:
    dumped = rules.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True, mode="json")
    data: dict[str, Any] = _whole({"version": rules.version, **dumped})
    return data


def _whole(value: Any) -> Any:
    """Writes 30.0 as 30: points and thresholds read as people write them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole(v) for v in value]
    return value


def scoring_diff(before: ScoringRules, after: ScoringRules) -> str:
    """Gets a unified diff of the [scoring] section, as the config file writes it."""
    old = tomli_w.dumps({"scoring": _dump_scoring(before)}).splitlines(keepends=True)
    new = tomli_w.dumps({"scoring": _dump_scoring(after)}).splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, "current [scoring]", "suggested [scoring]"))


def write_config(config: Config, suggested: ScoringRules, path: Path) -> None:
    """Writes the whole config with the suggested [scoring] (the rest as it was)."""
    data = tomllib.loads(config.path.read_text(encoding="utf-8"))
    data["scoring"] = _dump_scoring(suggested)
    text = (
        f"# Written by `handoff calibrate` from {config.path}: rules {suggested.version}.\n"
        "# Comments of the original are not carried over; see the diff it printed.\n\n"
        + tomli_w.dumps(data)
    )
    try:
        parse_config(text, path)  # never write a config the app would refuse
    except ConfigError as exc:
        raise AssertionError(f"calibrate made an invalid config: {exc}") from exc
    path.write_text(text, encoding="utf-8")


def register(commands: Subcommands) -> None:
    """Adds `calibrate`."""
    cal = command(
        commands,
        "calibrate",
        calibrate_command,
        help="suggest points from leads with known outcomes (closed-won data)",
    )
    config_option(cal)
    source = cal.add_mutually_exclusive_group(required=True)
    source.add_argument("--leads", type=Path, metavar="FILE", help="leads, CSV or JSON Lines")
    source.add_argument(
        "--from-db",
        action="store_true",
        help="the database's leads ($DATABASE_URL); converted = has a closed_won outcome",
    )
    cal.add_argument("--outcome-column", metavar="COL", help="with --leads: the outcome column")
    cal.add_argument("--activities", type=Path, metavar="FILE", help="activities of the leads")
    cal.add_argument("--id-column", default="external_id", metavar="NAME")
    cal.add_argument(
        "--max-changes", type=int, default=5, metavar="N", help="at most N rule changes (5)"
    )
    cal.add_argument(
        "--min-support",
        type=int,
        default=30,
        metavar="N",
        help="a rule must fire on at least N leads to change (30)",
    )
    cal.add_argument(
        "--exclude-column",
        action="append",
        default=[],
        metavar="COL",
        help="never suggest rules on this field (e.g. one written after sales talked to the "
        "lead); repeatable",
    )
    add_split_options(cal)
    cal.add_argument("--out", type=Path, metavar="FILE", help="write the suggested config here")
    cal.add_argument("--format", choices=["table", "json"], default="table")
    cal.add_argument(
        "--now", type=instant, metavar="ISO", help="measure activity ages as of (default: now)"
    )


def calibrate_command(args: argparse.Namespace) -> int:
    """`handoff calibrate`: checks the arguments, reads the known leads, calibrates."""
    config = load_config(args.config)
    if config.settings.scoring is None:
        raise ConfigError([f"{config.path}: calibrate needs a [scoring] section to start from"])
    if args.max_changes < 1 or args.min_support < 1:
        print(
            "handoff calibrate: --max-changes and --min-support must be 1 or more", file=sys.stderr
        )
        return 2
    if args.leads and not args.outcome_column:
        print("handoff calibrate: --leads needs --outcome-column COL", file=sys.stderr)
        return 2
    leads, errors, source = _known_leads(args)
    options = Options(
        max_changes=args.max_changes,
        min_support=args.min_support,
        exclude=frozenset(args.exclude_column),
    )
    code = run_calibration(
        config,
        leads,
        options=options,
        now=args.now or datetime.now(UTC),
        out_path=args.out,
        fmt=args.format,
        out=sys.stdout,
        source=source,
        split=split_of(args),
    )
    for error in errors:
        print(error, file=sys.stderr)
    return code if code or not errors else 1


def _known_leads(args: argparse.Namespace) -> tuple[list[KnownLead], list[RowError], str]:
    if args.from_db:
        return known_leads_from_db(Settings()), [], "the database"
    inputs = CalibrationInputs(
        leads=args.leads,
        outcome_column=args.outcome_column,
        activities=args.activities,
        id_column=args.id_column,
        exclude=frozenset(args.exclude_column),
    )
    leads, errors = known_leads_from_file(inputs)
    return leads, errors, str(args.leads)
