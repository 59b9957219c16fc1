"""The intake API as a client sees it: auth, validation, limits, idempotency, health."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from bot.runtime.api import AppState, create_api
from store.db import make_engine
from store.migrate import upgrade
from store.models import Handoff, Lead
from tests.helpers import AUTH, NOW, TOKEN, demo, lead_body, make_client, post_lead, rules, team


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with make_client(engine) as test_client:
        yield test_client


def test_lead_in_score_and_handoff_out(client: TestClient) -> None:
    response = post_lead(client, lead_body("A", employees=100, country="US", activities=[demo()]))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"lead_id", "score", "handoff"}
    assert body["score"]["external_id"] == "A"
    assert (body["score"]["total"], body["score"]["tier"], body["score"]["routable"]) == (
        70.0,
        "sql",
        True,
    )
    assert body["score"]["rules_version"] == "test-rules"
    assert body["handoff"]["status"] == "pending"
    assert body["handoff"]["rep"] == "U0ALICE"


def test_replay_returns_the_same_handoff(client: TestClient, engine: Engine) -> None:
    body = lead_body("A", employees=100, country="US", activities=[demo()])
    first = post_lead(client, body).json()
    second = post_lead(client, body).json()
    assert second["handoff"] == first["handoff"]
    assert second["lead_id"] == first["lead_id"]
    with Session(engine) as session:
        assert len(session.scalars(select(Handoff)).all()) == 1


def test_nurture_lead_gets_no_handoff(client: TestClient) -> None:
    body = post_lead(client, lead_body("N", employees=100, country="US")).json()
    assert (body["score"]["tier"], body["handoff"]) == ("nurture", None)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ],
)
def test_missing_or_wrong_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/api/leads", json=lead_body("A"), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "HANDOFF_API_TOKEN" in response.json()["detail"]


def test_invalid_body_names_each_bad_field(client: TestClient, engine: Engine) -> None:
    response = post_lead(
        client,
        {
            "external_id": "",
            "employees": "lots",
            "activities": [{"kind": "demo_request", "occurred_at": "soon"}],
        },
    )
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert set(errors) == {"source_system", "external_id", "employees", "activities[0].occurred_at"}
    assert errors["source_system"] == "required"
    assert errors["external_id"] == "must not be empty"
    assert "ISO 8601" in errors["activities[0].occurred_at"]
    assert "employees" in response.json()["detail"]
    with Session(engine) as session:
        assert session.scalars(select(Lead)).all() == []


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_a_blank_head_count_is_unknown(client: TestClient, blank: str | None) -> None:
    response = post_lead(client, lead_body("B1", employees=blank, country="US"))
    assert response.status_code == 200, response.text
    assert response.json()["score"]["external_id"] == "B1"


@pytest.mark.parametrize(
    ("employees", "why"),
    [(True, "not true or false"), (10**12, "less than or equal to"), (-3, "greater than")],
)
def test_an_impossible_head_count_is_422_naming_the_field(
    client: TestClient, employees: object, why: str
) -> None:
    response = post_lead(client, lead_body("B2", employees=employees))
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "employees"
    assert why in error["message"]


def test_non_json_body_is_422(client: TestClient) -> None:
    response = client.post(
        "/api/leads", content=b"{nope", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 422


def test_a_body_that_is_not_utf8_is_400_saying_so_after_the_token_is_checked(
    client: TestClient,
) -> None:
    junk = b"\xff\xfe{\x00\x19"
    json_type = {"Content-Type": "application/json"}
    response = client.post("/api/leads", content=junk, headers={**AUTH, **json_type})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "the request body is not JSON text in UTF-8: send a JSON object"
    }
    assert client.post("/api/leads", content=junk, headers=json_type).status_code == 401


def test_the_published_schema_promises_each_refusal_the_api_gives(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/leads", "/api/activities", "/api/outcomes"):
        assert {"400", "401", "413", "422", "503"} <= set(paths[path]["post"]["responses"])
    assert "404" in paths["/api/outcomes"]["post"]["responses"]
    assert "503" in paths["/healthz"]["get"]["responses"]


def test_body_over_one_mib_is_413(client: TestClient) -> None:
    big = lead_body("A", notes="x" * (1024 * 1024))
    assert post_lead(client, big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while streaming
        yield b'{"source_system": "web", "external_id": "A", "notes": "'
        for _ in range(20):
            yield b"y" * 65536
        yield b'"}'

    streamed = client.post(
        "/api/leads", content=chunks(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


def test_unknown_top_level_keys_become_attributes(client: TestClient, engine: Engine) -> None:
    post_lead(client, lead_body("A", plan="enterprise", attributes={"seats": 40}))
    with Session(engine) as session:
        lead = session.scalars(select(Lead)).one()
        assert lead.attributes == {"plan": "enterprise", "seats": 40}


def test_activity_endpoint_lifts_lead_and_reports_unknown_leads(client: TestClient) -> None:
    post_lead(client, lead_body("A", employees=100, country="US"))
    activity = {"source_system": "web", "lead_external_id": "A", **demo()}
    lifted = client.post("/api/activities", json=activity, headers=AUTH)
    assert lifted.status_code == 200
    assert lifted.json()["added"] is True
    assert lifted.json()["handoff"]["rep"] == "U0ALICE"
    replay = client.post("/api/activities", json=activity, headers=AUTH).json()
    assert replay["added"] is False
    assert replay["handoff"] == lifted.json()["handoff"]
    missing = client.post(
        "/api/activities", json={**activity, "lead_external_id": "zz"}, headers=AUTH
    )
    assert missing.status_code == 404
    assert "post it to /api/leads first" in missing.json()["detail"]


def test_numeric_external_ids_are_ids(client: TestClient) -> None:
    body = post_lead(client, {"source_system": "hubspot", "external_id": 90210}).json()
    assert body["score"]["external_id"] == "90210"


def test_healthz_names_the_worker_and_how_long_ago_it_renewed(
    client: TestClient, engine: Engine
) -> None:
    from datetime import timedelta

    from store.lease import TableLease

    lease = TableLease(engine, "web-1:42:abc", timedelta(seconds=30))
    assert lease.acquire(NOW - timedelta(minutes=5))
    assert lease.acquire(NOW - timedelta(seconds=8))
    assert client.get("/healthz").json() == {
        "status": "ok",
        "database": "ok",
        "outbox": {"dead": 0, "pending": 0, "overdue": 0},
        "worker": {"holder": "web-1:42:abc", "held_s": 300, "renewed_s_ago": 8, "expired": False},
    }


def test_healthz_is_degraded_when_no_worker_runs(client: TestClient, engine: Engine) -> None:
    """Nothing would be sent and no SLA swept: no lease at all, or one left to expire."""
    from datetime import timedelta

    from store.lease import TableLease

    body = client.get("/healthz").json()
    assert (body["status"], body["database"], body["worker"]) == ("degraded", "ok", None)
    assert TableLease(engine, "frozen", timedelta(seconds=30)).acquire(NOW - timedelta(minutes=1))
    body = client.get("/healthz").json()
    assert (body["status"], body["worker"]["holder"], body["worker"]["expired"]) == (
        "degraded",
        "frozen",
        True,
    )


def test_healthz_counts_dead_and_overdue_slack_messages(engine: Engine) -> None:
    from store.models import Outbox

    with make_client(engine) as client:
        post_lead(client, lead_body("H", employees=100, country="US", activities=[demo()]))
        with Session(engine) as session:
            entries = session.scalars(select(Outbox).order_by(col(Outbox.id))).all()
            entries[0].status = "dead"
            entries[0].last_error = "channel_not_found: check team.channel"
            session.add(entries[0])
            session.commit()
        body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["outbox"]["dead"] == 1


def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")
    state = AppState(engine=engine, rules=rules(), team=team(), api_token=TOKEN)
    with TestClient(create_api(state)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json() == {"status": "error", "database": "cannot be written"}


def test_healthz_says_so_within_2_s_when_another_process_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    import sqlite3
    import time

    url = f"sqlite:///{tmp_path / 'locked.db'}"
    engine = make_engine(url)
    upgrade(engine)
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, for as long as it likes
    try:
        state = AppState(engine=engine, rules=rules(), team=team(), api_token=TOKEN)
        with TestClient(create_api(state)) as client:
            began = time.monotonic()
            response = client.get("/healthz")
            waited = time.monotonic() - began
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()
    assert response.status_code == 503
    assert waited < 2.5  # the answer comes in time, not after the 30-second busy timeout


def test_healthz_is_503_on_a_read_only_database(tmp_path: Path) -> None:
    """The database opened read-only (as a read-only file or mount makes it; file modes
    cannot show it to root, who runs CI): reads work, writes fail, and health says so."""
    path = tmp_path / "ro.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    readonly = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    state = AppState(engine=readonly, rules=rules(), team=team(), api_token=TOKEN)
    with TestClient(create_api(state)) as client:
        response = client.get("/healthz")
    readonly.dispose()
    assert response.status_code == 503
    assert response.json()["database"] == "cannot be written"


def test_a_lead_sent_to_a_database_that_cannot_be_written_gets_503_and_retry_after(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ro.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    readonly = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    state = AppState(engine=readonly, rules=rules(), team=team(), api_token=TOKEN)
    with TestClient(create_api(state)) as client:
        response = post_lead(client, lead_body("RO", employees=100, country="US"))
    readonly.dispose()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "nothing was stored: send it again later" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"company": "Acme\x00"}, "company", "NUL character"),
        ({"notes": "a\x00b"}, "(body)", "notes: contains a NUL character"),
        ({"attributes": {"x": float("nan")}}, "attributes", "x: must be a finite number"),
        (
            {"activities": [{"kind": "demo", "occurred_at": "9999-12-31T23:00-12:00"}]},
            "activities[0].occurred_at",
            "out of range",
        ),
        (
            {"activities": [{"kind": "demo", "occurred_at": 0}]},
            "activities[0].occurred_at",
            "not a number",
        ),
    ],
)
def test_values_no_database_can_store_are_422_naming_the_field(
    client: TestClient, change: dict[str, object], field: str, message: str
) -> None:
    import json

    body = json.dumps({**lead_body("BAD"), **change}, allow_nan=True)
    response = client.post(
        "/api/leads", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == field
    assert message in error["message"]


def test_who_asks_comes_before_what_they_sent(client: TestClient) -> None:
    """No token and a broken body: 401, not a parse error (issue 16, point 1)."""
    broken = {"Content-Type": "application/json"}
    assert client.post("/api/leads", content="{broken", headers=broken).status_code == 401
    answer = client.post("/api/leads", content="{broken", headers={**broken, **AUTH})
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert error["field"] == "(body)"
    assert error["message"].startswith("the body is not valid JSON at character 1")


def test_wrong_tokens_from_one_address_are_answered_ever_more_slowly() -> None:
    from bot.runtime.api import MAX_GUESS_DELAY_S, Guesses

    guesses = Guesses()
    waits = [guesses.delay("10.0.0.9") for _ in range(10)]
    assert waits[:3] == [0.0, 0.0, 0.0]  # a typo or two costs nothing
    assert waits[3:7] == [0.1, 0.2, 0.4, 0.8]
    assert waits[-1] == MAX_GUESS_DELAY_S
    assert guesses.delay("10.0.0.10") == 0.0  # another address is not slowed
