"""Reading leads and activities from CSV or JSON Lines files, row by row.

A bad row becomes a `RowError` naming the file and line; the caller reports it and goes
on, so one malformed row never costs the valid ones. Lead files are streamed; activity
files are grouped by lead in memory (they are joined to leads as the leads stream by).
"""

from __future__ import annotations

import codecs
import csv
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from scoring import Activity

JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}


class FileProblem(Exception):
    """A lead or activity file that cannot be read at all (missing, no such column…)."""


@dataclass(frozen=True)
class RowError:
    """One row that could not be used, and why."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass
class LeadRow:
    """One lead read from a file: its id, its fields, and activities given inline (JSON)."""

    line: int
    external_id: str
    fields: dict[str, Any]
    activities: list[Activity] = field(default_factory=list)
    # The inline activities as given (with their ids), for intake to validate itself.
    activity_records: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ActivityRow:
    """One activity read from a file."""

    line: int
    lead_id: str
    activity: Activity
    external_id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


def parse_instant(text: str) -> datetime:
    """Parses an ISO 8601 instant; a time without an offset is taken as UTC."""
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


SAMPLE_BYTES = 64 * 1024
# What each file version was found to be: a file is opened several times per command
# (header, row count, rows), and checking it reads all of it.
_encodings: dict[tuple[Path, int, int], str] = {}


def encoding_of(path: Path) -> str:
    """Finds how a lead file is encoded: UTF-8 (with or without a byte-order mark), UTF-16
    (with one), else Latin-1, said once on stderr; a file that is not text is refused.
    Each version of a file is read for this once."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise FileProblem(f"{path}: cannot open: {exc.strerror or exc}") from None
    version = (path.resolve(), stat.st_size, stat.st_mtime_ns)
    if version not in _encodings:
        _encodings[version] = _detect(path)
    return _encodings[version]


def _detect(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(SAMPLE_BYTES)
            if head.startswith(codecs.BOM_UTF8):
                return "utf-8-sig"
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return "utf-16"
            if b"\x00" in head:
                raise FileProblem(
                    f"{path}: not a text file (it holds NUL bytes): give a CSV or JSON Lines "
                    "file, saved as UTF-8"
                )
            decoder = codecs.getincrementaldecoder("utf-8")()
            chunk = head
            while chunk:
                decoder.decode(chunk)
                chunk = handle.read(1024 * 1024)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        print(
            f"warning: {path}: not UTF-8; read as Latin-1. Check names with accents, "
            "or save the file as UTF-8.",
            file=sys.stderr,
        )
        return "latin-1"
    except IsADirectoryError:
        raise FileProblem(f"{path}: is a folder: give the lead file itself") from None
    except OSError as exc:
        raise FileProblem(f"{path}: cannot open: {exc.strerror or exc}") from None
    return "utf-8"


def _open(path: Path) -> TextIO:
    encoding = encoding_of(path)
    try:
        return path.open(encoding=encoding, newline="")
    except OSError as exc:
        raise FileProblem(f"{path}: cannot open: {exc.strerror or exc}") from None


def count_rows(path: Path) -> int:
    """Counts a file's data lines (for progress), or says why it cannot be read."""
    with _open(path) as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def records(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Yields (line, record) for each row, or (line, reason) for a row that is not one."""
    with _open(path) as handle:
        if _is_json_lines(path, handle):
            yield from _json_records(handle)
        else:
            yield from _csv_records(path, handle)


def _is_json_lines(path: Path, handle: TextIO) -> bool:
    if path.suffix.lower() in JSON_SUFFIXES:
        return True
    if path.suffix.lower() == ".csv":
        return False
    start = handle.read(1024)
    handle.seek(0)
    return start.lstrip().startswith("{")


def _json_records(handle: TextIO) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"not valid JSON: {exc.msg} (column {exc.colno})"
            continue
        if isinstance(record, dict):
            yield number, record
        else:
            yield number, f"expected a JSON object, got {type(record).__name__}"


def _csv_records(path: Path, handle: TextIO) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise FileProblem(f"{path}:1: not a readable CSV header: {exc}") from None
    columns = [name.strip() for name in header]
    duplicates = sorted({name for name in columns if name and columns.count(name) > 1})
    if duplicates:
        raise FileProblem(f"{path}:1: duplicate column names: {', '.join(duplicates)}")
    named = all(columns)  # else the values of unnamed columns are dropped
    end = reader.line_num
    while True:
        start = end + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = reader.line_num
            yield start, f"not valid CSV: {exc}"
            continue
        end = reader.line_num
        if not "".join(values).strip():  # no values, or only blank ones
            continue
        if end > start and len(values) != len(columns):
            # A quote opened in this row and closed lines later: those lines were read as
            # part of one value. Said, rather than losing the rows silently.
            yield (
                start,
                (
                    f"a quote opened on this line is not closed before line {end}: lines {start} "
                    f"to {end} were read as one row of {len(values)} values. Check the quotes"
                ),
            )
            continue
        if len(values) > len(columns):
            yield start, f"{len(values)} values but the header has {len(columns)} columns"
            continue
        if named:
            yield start, dict(zip(columns, values, strict=False))
        else:
            yield start, {name: value for name, value in zip(columns, values, strict=False) if name}


def columns_of(path: Path) -> list[str] | None:
    """Gets a CSV file's column names (None for JSON Lines, whose keys vary by row)."""
    with _open(path) as handle:
        if _is_json_lines(path, handle):
            return None
        header = next(csv.reader(handle), [])
    return [name.strip() for name in header if name.strip()]


def read_leads(
    path: Path,
    *,
    id_column: str,
    id_required: bool = True,
    names: Iterable[str] = (),
) -> Iterator[LeadRow | RowError]:
    """Yields each lead of a CSV or JSON Lines file, or the error of each bad row.

    With `id_required=False` a row without an id gets `line N` as its id. A column named
    like one of `names` but for case (`Country` for `country`) takes that name.
    """
    spelled = {name.casefold(): name for name in names}
    columns = columns_of(path)
    if id_required and columns is not None and id_column not in columns:
        raise FileProblem(_no_column(path, id_column, columns, "--id-column"))
    seen: dict[str, int] = {}
    for line, record in records(path):
        if isinstance(record, str):
            yield RowError(path, line, record)
            continue
        if spelled:
            record = {spelled.get(key.casefold(), key): value for key, value in record.items()}
        yield _lead(path, line, record, id_column, id_required, seen)


def _lead(
    path: Path,
    line: int,
    record: dict[str, Any],
    id_column: str,
    id_required: bool,
    seen: dict[str, int],
) -> LeadRow | RowError:
    raw_id = record.get(id_column)
    external_id = "" if raw_id is None else str(raw_id).strip()
    if not external_id:
        if id_required:
            return RowError(path, line, f"no value for `{id_column}`, the lead's id")
        external_id = f"line {line}"
    if external_id in seen:
        return RowError(
            path, line, f"duplicate id {external_id!r} (first at line {seen[external_id]})"
        )
    seen[external_id] = line
    fields = {
        key: value for key, value in record.items() if key not in ("attributes", "activities")
    }
    attributes = record.get("attributes")
    if attributes is not None and not isinstance(attributes, dict):
        return RowError(path, line, "`attributes` must be a JSON object")
    fields.update(attributes or {})
    try:
        inline = [_inline_activity(item) for item in record.get("activities") or []]
    except ValueError as exc:
        return RowError(path, line, f"activities: {exc}")
    records = list(record.get("activities") or [])
    return LeadRow(line, external_id, fields, activities=inline, activity_records=records)


def _inline_activity(item: Any) -> Activity:
    if not isinstance(item, dict):
        raise ValueError("each activity must be a JSON object")
    kind, when = item.get("kind"), item.get("occurred_at")
    if not kind or not when:
        raise ValueError("each activity needs `kind` and `occurred_at`")
    try:
        return Activity(str(kind), parse_instant(str(when)))
    except ValueError:
        raise ValueError(f"`occurred_at` {when!r} is not an ISO 8601 date-time") from None


def _no_column(path: Path, column: str, columns: list[str], option: str) -> str:
    shown = ", ".join(columns[:12]) + (", …" if len(columns) > 12 else "")
    return f"{path}:1: no column `{column}` (choose another with {option}; columns: {shown})"


ACTIVITY_KEYS = ("lead_id", "kind", "occurred_at")
_NOT_PROPERTIES = frozenset((*ACTIVITY_KEYS, "id"))


def read_activities(path: Path) -> Iterator[ActivityRow | RowError]:
    """Yields each activity of a CSV or JSON Lines file, or the error of each bad row."""
    columns = columns_of(path)
    if columns is not None:
        for key in ACTIVITY_KEYS:
            if key not in columns:
                raise FileProblem(_no_column(path, key, columns, "a column of that name"))
    for line, record in records(path):
        if isinstance(record, str):
            yield RowError(path, line, record)
            continue
        yield _activity(path, line, record)


def _activity(path: Path, line: int, record: dict[str, Any]) -> ActivityRow | RowError:
    missing = [key for key in ACTIVITY_KEYS if not str(record.get(key) or "").strip()]
    if missing:
        return RowError(path, line, f"no value for {', '.join(f'`{k}`' for k in missing)}")
    when = str(record["occurred_at"])
    try:
        occurred_at = parse_instant(when)
    except ValueError:
        return RowError(path, line, f"`occurred_at` {when!r} is not an ISO 8601 date-time")
    properties = record.get("properties")
    if not isinstance(properties, dict):
        properties = {k: v for k, v in record.items() if k not in _NOT_PROPERTIES}
    return ActivityRow(
        line=line,
        lead_id=str(record["lead_id"]).strip(),
        activity=Activity(str(record["kind"]).strip(), occurred_at),
        external_id=str(record["id"]) if record.get("id") not in (None, "") else None,
        properties=properties,
    )


@dataclass
class ActivityIndex:
    """Activities grouped by lead id, plus the rows that could not be read."""

    by_lead: dict[str, list[Activity]] = field(default_factory=lambda: defaultdict(list))
    errors: list[RowError] = field(default_factory=list)
    first_line: dict[str, int] = field(default_factory=dict)

    def unmatched(self, lead_ids: set[str]) -> list[tuple[str, int]]:
        """Gets (lead id, first line) of activities whose lead is not among `lead_ids`."""
        return sorted(
            ((lead, line) for lead, line in self.first_line.items() if lead not in lead_ids),
            key=lambda pair: pair[1],
        )


def index_activities(path: Path) -> ActivityIndex:
    """Reads a whole activity file, grouped by lead id."""
    index = ActivityIndex()
    for row in read_activities(path):
        if isinstance(row, RowError):
            index.errors.append(row)
            continue
        index.by_lead[row.lead_id].append(row.activity)
        index.first_line.setdefault(row.lead_id, row.line)
    return index
