"""POST /api/leads/batch: many leads, one transaction, a result for each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from store.models import Lead
from tests.helpers import AUTH, demo, lead_body, make_client


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with make_client(engine) as test_client:
        yield test_client


def test_a_batch_takes_the_valid_leads_and_refuses_each_invalid_one_on_its_own(
    client: TestClient, engine: Engine
) -> None:
    leads = [
        lead_body("B1", employees=100, country="US", activities=[demo()]),
        {**lead_body("B2"), "employees": "many"},  # refused: not a number
        lead_body("B3", employees=5),
        {"source_system": "web"},  # refused: no external_id
    ]
    response = client.post("/api/leads/batch", json={"leads": leads}, headers=AUTH)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["accepted"], answer["refused"]) == (2, 2)  # adds up to the 4 sent
    assert [r["index"] for r in answer["results"]] == [0, 1, 2, 3]
    assert [r["status"] for r in answer["results"]] == [
        "accepted",
        "refused",
        "accepted",
        "refused",
    ]
    assert answer["results"][1]["errors"][0]["field"] == "employees"
    assert answer["results"][3]["errors"][0]["field"] == "external_id"
    assert answer["handed_off"] == sum(1 for r in answer["results"] if r.get("handoff"))
    assert answer["results"][0]["score"]["external_id"] == "B1"
    with Session(engine) as session:
        stored = sorted(lead.external_id for lead in session.exec(select(Lead)).all())
    assert stored == ["B1", "B3"]  # nothing valid lost, nothing invalid kept


def test_a_batch_is_bounded_and_needs_the_token(client: TestClient) -> None:
    too_many = {"leads": [lead_body(f"L{i}") for i in range(501)]}
    refused = client.post("/api/leads/batch", json=too_many, headers=AUTH)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "leads"
    empty = client.post("/api/leads/batch", json={"leads": []}, headers=AUTH)
    assert empty.status_code == 422
    assert client.post("/api/leads/batch", json={"leads": [lead_body("X")]}).status_code == 401
