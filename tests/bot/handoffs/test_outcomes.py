"""Outcomes coming back: POST /api/outcomes and `handoff import-outcomes`, both idempotent,
with clear errors that lose nothing valid."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from bot.cli import main
from store.models import Outcome
from tests.helpers import AUTH, lead_body, make_client, post_lead


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with make_client(engine) as test_client:
        assert post_lead(test_client, lead_body("A", employees=100)).status_code == 200
        yield test_client


def outcomes(engine: Engine) -> list[tuple[str, float | None]]:
    with Session(engine) as session:
        return [
            (o.stage, o.amount) for o in session.scalars(select(Outcome).order_by(col(Outcome.id)))
        ]


def won(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "source_system": "web",
        "lead_external_id": "A",
        "stage": "closed_won",
        "amount": 1200.5,
        "occurred_at": "2026-11-20T10:00:00Z",
    }
    return body | changes


def test_an_outcome_is_recorded_once_however_often_it_is_sent(
    client: TestClient, engine: Engine
) -> None:
    first = client.post("/api/outcomes", json=won(), headers=AUTH)
    assert first.status_code == 200
    assert first.json() == {
        "source_system": "web",
        "lead_external_id": "A",
        "stage": "closed_won",
        "recorded": True,
    }
    assert client.post("/api/outcomes", json=won(), headers=AUTH).status_code == 200
    assert outcomes(engine) == [("closed_won", 1200.5)]
    # The CRM corrects the amount: the same row is updated, not a second one added.
    client.post("/api/outcomes", json=won(amount=1500), headers=AUTH)
    client.post("/api/outcomes", json=won(stage="opportunity", amount=None), headers=AUTH)
    assert outcomes(engine) == [("closed_won", 1500.0), ("opportunity", None)]


def test_outcome_errors_name_the_field_or_the_lead(client: TestClient, engine: Engine) -> None:
    unknown = client.post("/api/outcomes", json=won(lead_external_id="ZZ"), headers=AUTH)
    assert unknown.status_code == 404
    assert "no lead 'ZZ' from 'web'" in unknown.json()["detail"]
    bad = client.post("/api/outcomes", json=won(stage="won", amount=-3), headers=AUTH)
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert fields == {"stage", "amount"}
    assert client.post("/api/outcomes", json=won()).status_code == 401
    # JSON parsers take Infinity and NaN; an amount of money cannot be either.
    body = json.dumps(won(amount=float("inf")))
    infinite = client.post(
        "/api/outcomes", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert infinite.status_code == 422
    assert [e["field"] for e in infinite.json()["errors"]] == ["amount"]
    assert outcomes(engine) == []


def test_import_outcomes_keeps_the_good_rows_and_reports_the_bad(
    client: TestClient,
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    post_lead(client, lead_body("B", employees=100))
    path = tmp_path / "wins.csv"
    path.write_text(
        "lead_external_id,stage,amount,occurred_at,source_system\n"
        "A,closed_won,900,2026-11-01,web\n"
        "B,opportunity,,2026-11-02T09:00:00Z,web\n"
        "C,closed_won,100,2026-11-03,web\n"
        "B,lost,,2026-11-04,web\n"
    )
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["import-outcomes", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:4: no lead 'C' from 'web'" in err
    assert f"{path}:5: stage: Input should be 'opportunity', 'closed_won' or 'closed_lost'" in err
    assert "2 outcome(s) recorded, 2 bad row(s) skipped" in err
    assert main(["import-outcomes", str(path)]) == 1  # again: nothing counted twice
    assert sorted(outcomes(engine)) == [("closed_won", 900.0), ("opportunity", None)]
