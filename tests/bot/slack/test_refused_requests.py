"""A refused Slack request is logged in one line (method, path, reason), never with its
body (issue 16, point 6)."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bot.config import DEFAULT_REJECT_REASONS
from bot.slack.app import create_app, mount
from bot.slack.deps import Deps
from bot.slack.surface import web_client
from tests.helpers import NOW, context


def test_an_unsigned_request_is_one_short_log_line(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    deps = Deps(
        engine=engine, team=context().team, reasons=DEFAULT_REJECT_REASONS, clock=lambda: NOW
    )
    client = web_client(token="xoxb-test", api_url="http://127.0.0.1:9/api/")
    api = FastAPI()
    mount(
        api, create_app(client=client, signing_secret="secret", deps=deps), signing_secret="secret"
    )
    body = "payload=" + "A" * 200_000
    with caplog.at_level(logging.DEBUG), TestClient(api) as http:
        answer = http.post(
            "/slack/events",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code == 401
    refused = [r.getMessage() for r in caplog.records if "Refused" in r.getMessage()]
    assert refused == [
        "Refused POST /slack/events: invalid or missing Slack signature (200008 bytes)"
    ]
    assert all("AAAAAAAAAA" not in r.getMessage() for r in caplog.records)


def test_a_signed_body_slack_would_never_send_is_a_400(engine: Engine) -> None:
    from tests.helpers import sign

    deps = Deps(
        engine=engine, team=context().team, reasons=DEFAULT_REJECT_REASONS, clock=lambda: NOW
    )
    client = web_client(token="xoxb-test", api_url="http://127.0.0.1:9/api/")
    api = FastAPI()
    mount(api, create_app(client=client, signing_secret="s", deps=deps), signing_secret="s")
    with TestClient(api) as http:
        for broken in ("payload=%7Bnot json", "payload=[1,2]"):
            body, headers = sign(broken, "s")
            answer = http.post("/slack/events", content=body, headers=headers)
            assert answer.status_code in (400, 404), (broken, answer.status_code, answer.text)
            assert answer.status_code != 500
