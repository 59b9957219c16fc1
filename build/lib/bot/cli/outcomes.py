"""`handoff import-outcomes`: opportunities and wins from a file; bad rows reported, the
rest kept."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from bot.cli.common import Subcommands, command, database
from bot.cli.leadfiles import RowError, records
from bot.cli.progress import Progress
from bot.config import Settings
from bot.handoffs import outcomes
from bot.handoffs.inputs import OutcomeIn, field_errors

BATCH = 500


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
        unknown = outcomes.record(session=session, outcomes=[o for _, o in batch], now=now)
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


def register(commands: Subcommands) -> None:
    """Adds `import-outcomes`."""
    imo = command(
        commands,
        "import-outcomes",
        import_outcomes_command,
        help="record opportunities and wins from a CSV or JSON Lines file",
    )
    imo.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="columns: lead_external_id, stage (opportunity|closed_won|closed_lost), "
        "amount, occurred_at[, source_system]",
    )
    imo.add_argument(
        "--source-system",
        default="csv",
        metavar="NAME",
        help="the leads' source system where the file has no source_system column (csv)",
    )
    imo.add_argument(
        "--id-column",
        default="lead_external_id",
        metavar="NAME",
        help="the column with the lead's id (default: lead_external_id)",
    )


def import_outcomes_command(args: argparse.Namespace) -> int:
    """`handoff import-outcomes FILE`."""
    with database(Settings()) as engine:
        report = import_outcomes(
            engine=engine,
            path=args.file,
            source_system=args.source_system,
            id_column=args.id_column,
            now=datetime.now(UTC),
        )
    return print_import(report, args.file)
