"""Outcomes coming back from the CRM: opportunity, closed-won, closed-lost. Recording one
twice changes nothing (one row per lead and stage), so a CRM can resend freely."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from bot.intake_models import OutcomeIn, field_errors
from bot.leadfiles import RowError, records
from bot.progress import Progress
from store.leads import load_leads
from store.outcomes import record_outcomes

BATCH = 500


def record(*, session: Session, outcomes: Sequence[OutcomeIn], now: datetime) -> list[OutcomeIn]:
    """Records the outcomes of known leads; gets those whose lead is unknown."""
    found = load_leads(session=session, keys=list({o.key for o in outcomes}))
    rows = [
        {
            "lead_id": found[o.key]["id"],
            "stage": o.stage,
            "amount": o.amount,
            "occurred_at": o.occurred_at,
        }
        for o in outcomes
        if o.key in found
    ]
    record_outcomes(session=session, rows=rows, now=now)
    return [o for o in outcomes if o.key not in found]


@dataclass
class OutcomeImport:
    """What `handoff import-outcomes` did."""

    recorded: int = 0
    errors: list[RowError] = field(default_factory=list)


def import_outcomes(
    *, engine: Engine, path: Path, source_system: str, id_column: str, now: datetime
) -> OutcomeImport:
    """Reads an outcomes file (CSV or JSON Lines: lead id, stage, amount, occurred_at) and
    records each valid row, a batch at a time; each bad row is reported, the rest kept."""
    report = OutcomeImport()
    batch: list[tuple[int, OutcomeIn]] = []
    with Progress("Importing outcomes") as progress:
        for line, record in records(path):
            progress.advance()
            if isinstance(record, str):
                report.errors.append(RowError(path, line, record))
                continue
            values = {k: v for k, v in record.items() if k != id_column and v not in ("", None)}
            values.setdefault("source_system", source_system)
            try:
                outcome = OutcomeIn.model_validate(
                    {**values, "lead_external_id": record.get(id_column)}
                )
            except ValidationError as exc:
                reasons = "; ".join(
                    f"{e['field']}: {e['message']}" for e in field_errors(exc.errors())
                )
                report.errors.append(RowError(path, line, reasons))
                continue
            batch.append((line, outcome))
            if len(batch) >= BATCH:
                _flush(engine, batch, path, now, report)
        _flush(engine, batch, path, now, report)
    return report


def _flush(
    engine: Engine,
    batch: list[tuple[int, OutcomeIn]],
    path: Path,
    now: datetime,
    report: OutcomeImport,
) -> None:
    if not batch:
        return
    with Session(engine) as session:
        unknown = record(session=session, outcomes=[o for _, o in batch], now=now)
        session.commit()
    missing = {id(o) for o in unknown}
    for line, outcome in batch:
        if id(outcome) in missing:
            report.errors.append(
                RowError(
                    path,
                    line,
                    f"no lead {outcome.lead_external_id!r} from {outcome.source_system!r}: "
                    "take the lead in first (handoff import or POST /api/leads)",
                )
            )
    report.recorded += len(batch) - len(unknown)
    batch.clear()


def print_import(report: OutcomeImport, path: Path) -> int:
    """Prints the bad rows and a summary; gets the exit code."""
    for error in report.errors:
        print(error, file=sys.stderr)
    print(
        f"{path}: {report.recorded} outcome(s) recorded"
        + (f", {len(report.errors)} bad row(s) skipped" if report.errors else "")
        + " (recording one again changes nothing).",
        file=sys.stderr,
    )
    return 1 if report.errors else 0
