"""`handoff import`: bulk intake with a summary, bad rows reported, good rows kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from bot.cli import main
from store.db import make_engine
from store.models import Activity, Handoff, Lead
from tests.helpers import REPO, RULES_TOML, TEAM_TOML


@pytest.fixture
def workdir(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", database_url)
    (tmp_path / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    (tmp_path / "leads.csv").write_text(
        "external_id,first_name,employees,country,plan\n"
        "A,Ann,100,US,pro\n"
        "B,Bob,lots,US,\n"  # line 3: employees is not a number
        "C,Cat,100,GB,\n"
        ",Nobody,5,US,\n"  # line 5: no id
        "D,Dan,10,US,\n"
    )
    (tmp_path / "activities.csv").write_text(
        "lead_id,kind,occurred_at,id\n"
        "A,demo_request,2026-11-19T10:00:00Z,e1\n"
        "C,demo_request,2026-11-19T11:00:00Z,e2\n"
        "C,pricing_page_view,2026-11-19T11:05:00Z,\n"
        "D,demo_request,not a date,e4\n"  # line 5
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def counts(database_url: str) -> tuple[int, int, int]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        result = tuple(
            session.scalar(select(func.count()).select_from(t)) or 0
            for t in (Lead, Activity, Handoff)
        )
    engine.dispose()
    return result  # type: ignore[return-value]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_import_keeps_good_rows_and_reports_bad_ones(
    workdir: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(capsys, "import", "leads.csv", "--activities", "activities.csv")
    assert code == 1
    assert "leads.csv:3: employees: Input should be a valid integer" in err
    assert "leads.csv:5: no value for `external_id`, the lead's id" in err
    assert "activities.csv:5: `occurred_at` 'not a date' is not an ISO 8601 date-time" in err
    assert err.rstrip().endswith(
        "Imported leads.csv: 3 created, 0 updated, 2 handed off, 3 skipped"
    )
    assert counts(database_url) == (3, 3, 2)


def test_reimport_is_idempotent(
    workdir: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "import", "leads.csv", "--activities", "activities.csv")
    _, err = run(capsys, "import", "leads.csv", "--activities", "activities.csv")
    assert "0 created, 3 updated, 0 handed off" in err
    assert counts(database_url) == (3, 3, 2)


def test_dry_run_saves_nothing(
    workdir: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, err = run(capsys, "import", "leads.csv", "--activities", "activities.csv", "--dry-run")
    assert "Would import leads.csv: 3 created, 0 updated, 2 handed off" in err
    assert "(dry run: nothing was saved)" in err
    assert counts(database_url) == (0, 0, 0)


def test_import_needs_a_team_section(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "handoff.toml").write_text(RULES_TOML)
    code, err = run(capsys, "import", "leads.csv")
    assert code == 2
    assert "this command needs a [team] section" in err


def test_json_lines_import_keeps_inline_activity_ids(
    workdir: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "leads.jsonl").write_text(
        '{"external_id": "J", "employees": 100, "country": "US", "activities": '
        '[{"id": "crm-77", "kind": "demo_request", "occurred_at": "2026-11-19T10:00:00Z"}]}\n'
    )
    code, err = run(capsys, "import", "leads.jsonl")
    assert code == 0, err
    engine = make_engine(database_url)
    with Session(engine) as session:
        assert session.scalars(select(col(Activity.external_id))).all() == ["crm-77"]
    engine.dispose()


def test_the_shipped_example_imports_every_row(
    workdir: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Row L-1005 has no employee count: unknown, not an error."""
    leads, activities = REPO / "examples" / "leads.csv", REPO / "examples" / "activities.csv"
    code, err = run(
        capsys,
        "import",
        str(leads),
        "--activities",
        str(activities),
        "--source-system",
        "crm-export",
    )
    assert code == 0, err
    assert "10 created, 0 updated" in err
    assert counts(database_url)[0] == 10


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p, "is a folder: give the lead file itself"),
        (lambda p: p / "missing.csv", "cannot open: No such file or directory"),
        (lambda p: _write(p / "bin.csv", b"\x00\x01\x02" * 100), "not a text file"),
    ],
)
def test_a_file_that_cannot_be_read_exits_2_with_a_message(
    workdir: Path, capsys: pytest.CaptureFixture[str], make: Any, expected: str
) -> None:
    code, err = run(capsys, "import", str(make(workdir)))
    assert code == 2
    assert expected in err
    assert "Traceback" not in err


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("encoding", "warned"), [("utf-8-sig", False), ("utf-16", False), ("latin-1", True)]
)
def test_encodings_are_detected_and_names_read_right(
    workdir: Path,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    encoding: str,
    warned: bool,
) -> None:
    text = "external_id,first_name,employees,Country\nE1,José,100,US\n"
    (workdir / "enc.csv").write_bytes(text.encode(encoding))
    code, err = run(capsys, "import", "enc.csv")
    assert code == 0, err
    assert ("not UTF-8; read as Latin-1" in err) is warned
    engine = make_engine(database_url)
    with Session(engine) as session:
        lead = session.scalars(select(Lead).where(col(Lead.external_id) == "E1")).one()
    engine.dispose()
    assert lead.first_name == "José"
    assert lead.country == "US"  # `Country` is the `country` field, whatever its case


def test_a_broken_quote_is_reported_with_its_line(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "quote.csv").write_text(
        'external_id,first_name,country\nQ1,"Ann,US\nQ2,Bob,US\nQ3,Cy,GB\n', encoding="utf-8"
    )
    code, err = run(capsys, "import", "quote.csv")
    assert code == 1
    assert "quote.csv:2: a quote opened on this line is not closed before line 4" in err


def test_import_warns_about_rule_fields_that_no_row_has(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "few.csv").write_text("external_id,first_name\nF1,Fay\n", encoding="utf-8")
    code, err = run(capsys, "import", "few.csv")
    assert code == 0
    assert "warning: no lead in few.csv has the field `country`" in err
