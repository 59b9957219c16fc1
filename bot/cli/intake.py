"""`handoff import FILE.csv`: bulk intake through the same code path as the API."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from bot.cli.common import Subcommands, command, config_option, database
from bot.cli.leadfiles import LeadRow, RowError, count_rows, read_activities, read_leads
from bot.cli.progress import Progress
from bot.cli.scoring import field_names, warn_unused_fields
from bot.config import Settings, load_config
from bot.handoffs.inputs import LeadIn, field_errors
from bot.handoffs.intake import Context, ingest_leads

BATCH = 500


@dataclass(frozen=True)
class ImportOptions:
    """What to import and how."""

    leads: Path
    activities: Path | None
    source_system: str
    id_column: str = "external_id"
    dry_run: bool = False


def _activities_by_lead(
    path: Path | None, errors: list[RowError]
) -> dict[str, list[dict[str, Any]]]:
    by_lead: dict[str, list[dict[str, Any]]] = {}
    if path is None:
        return by_lead
    for row in read_activities(path):
        if isinstance(row, RowError):
            errors.append(row)
            continue
        by_lead.setdefault(row.lead_id, []).append(
            {
                "id": row.external_id,
                "kind": row.activity.kind,
                "occurred_at": row.activity.occurred_at,
                "properties": row.properties,
            }
        )
    return by_lead


def _lead_in(row: LeadRow, options: ImportOptions, activities: list[dict[str, Any]]) -> LeadIn:
    fields = {k: v for k, v in row.fields.items() if k != options.id_column}
    return LeadIn.model_validate(
        {
            **fields,
            "source_system": options.source_system,
            "external_id": row.external_id,
            "activities": [*row.activity_records, *activities],
        }
    )


def run_import(*, engine: Engine, options: ImportOptions, context: Context) -> int:
    """Imports a lead file; prints bad rows and a summary; gets the exit code.

    Leads go through intake in batches of BATCH, each committed on its own, so an import
    stopped half way keeps what it did (and a re-run skips nothing: intake is idempotent).
    A dry run does all the work in one transaction and rolls it back.
    """
    errors: list[RowError] = []
    warn_unused_fields(context.rules, options.leads)  # like `score`: a typo'd field never fires
    activities = _activities_by_lead(options.activities, errors)
    counts: Counter[str] = Counter()
    batch: list[LeadIn] = []
    total = count_rows(options.leads)
    with Session(engine) as session, Progress("Importing", total=total) as bar:
        names = field_names(context.rules)
        for row in read_leads(options.leads, id_column=options.id_column, names=names):
            if isinstance(row, RowError):
                errors.append(row)
                bar.advance()
                continue
            try:
                batch.append(_lead_in(row, options, activities.pop(row.external_id, [])))
            except ValidationError as exc:
                problems = "; ".join(
                    f"{e['field']}: {e['message']}" for e in field_errors(exc.errors())
                )
                errors.append(RowError(options.leads, row.line, problems))
                bar.advance()
                continue
            if len(batch) >= BATCH:
                _flush(session, batch, context, counts, commit=not options.dry_run)
                bar.advance(len(batch))
                batch = []
        _flush(session, batch, context, counts, commit=not options.dry_run)
        bar.advance(len(batch))
        session.rollback()  # a dry run's only transaction; after a real run, a no-op
    for error in errors:
        print(error, file=sys.stderr)
    _summary(counts, errors, activities, options)
    return 1 if errors else 0


def _flush(
    session: Session, batch: list[LeadIn], context: Context, counts: Counter[str], *, commit: bool
) -> None:
    for outcome in ingest_leads(session=session, leads=batch, context=context):
        counts["created" if outcome.created else "updated"] += 1
        counts["handed off"] += outcome.handed_off
        counts["unassigned"] += (
            outcome.handed_off
            and outcome.handoff is not None
            and (outcome.handoff.rep_slack_id is None)
        )
    if commit:
        session.commit()


def _summary(
    counts: Counter[str], errors: list[RowError], unmatched: dict[str, Any], options: ImportOptions
) -> None:
    if unmatched:
        first = next(iter(unmatched))
        print(
            f"warning: {options.activities}: activities of {len(unmatched)} lead id(s) not in "
            f"{options.leads} were not imported (first: {first!r})",
            file=sys.stderr,
        )
    verb = "Would import" if options.dry_run else "Imported"
    unassigned = f" ({counts['unassigned']} unassigned)" if counts["unassigned"] else ""
    print(
        f"{verb} {options.leads}: {counts['created']} created, {counts['updated']} updated, "
        f"{counts['handed off']} handed off{unassigned}, {len(errors)} skipped"
        + (" (dry run: nothing was saved)" if options.dry_run else ""),
        file=sys.stderr,
    )


def register(commands: Subcommands) -> None:
    """Adds `import`."""
    imp = command(
        commands, "import", import_command, help="take in leads from a CSV or JSON Lines file"
    )
    config_option(imp)
    imp.add_argument("file", type=Path, metavar="FILE", help="leads, CSV or JSON Lines")
    imp.add_argument(
        "--activities",
        type=Path,
        metavar="FILE",
        help="activities, CSV or JSON Lines: lead_id, kind, occurred_at[, id]",
    )
    imp.add_argument(
        "--source-system",
        default="csv",
        metavar="NAME",
        help="where these leads come from (part of a lead's identity; default: csv)",
    )
    imp.add_argument(
        "--id-column",
        default="external_id",
        metavar="NAME",
        help="the leads' id column (default: external_id)",
    )
    imp.add_argument(
        "--dry-run", action="store_true", help="score and route everything, then save nothing"
    )


def import_command(args: argparse.Namespace) -> int:
    """`handoff import FILE`."""
    config = load_config(args.config)
    options = ImportOptions(
        leads=args.file,
        activities=args.activities,
        source_system=args.source_system,
        id_column=args.id_column,
        dry_run=args.dry_run,
    )
    with database(Settings(), config) as engine:
        context = Context(
            rules=config.scoring, team=config.team, now=datetime.now(UTC), sla=config.settings.sla
        )
        return run_import(engine=engine, options=options, context=context)
