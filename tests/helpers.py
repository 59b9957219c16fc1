"""Rules, a team and intake contexts shared by the store, bot and e2e tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, select
from sqlmodel import Session, col
from starlette.testclient import TestClient

from bot.config import TeamConfig
from bot.handoffs.intake import Context
from bot.handoffs.notices import Notice
from bot.handoffs.team import sync_team
from bot.runtime.api import AppState, create_api
from bot.slack.simulator import click_payload, command_form
from bot.slack.text import notice_text
from scoring import ScoringRules
from store.models import Outbox, OutboxKind

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TOKEN = "s3cret-token-for-tests-0123456789abcdef"

RULES_TOML = """\
[scoring]
version = "test-rules"
[scoring.tiers]
mql = 40
sql = 70
high_priority = 90
[[scoring.fit]]
label = "Company size matches ICP"
field = "employees"
between = [50, 1000]
points = 30
[[scoring.intent]]
label = "Requested a demo"
activity = "demo_request"
points = 40
[[scoring.intent]]
label = "Viewed pricing"
activity = "pricing_page_view"
points = 15
per_occurrence = true
cap = 30
[[scoring.disqualify]]
label = "Non-serviceable region"
field = "country"
not_in = ["US", "CA", "GB"]
block = true
"""

TEAM_TOML = """\
[team]
timezone = "America/New_York"
channel = "C0123LEADS"
[[team.reps]]
slack_id = "U0ALICE"
name = "Alice"
manager = "U0DANA"
territories = ["US"]
[[team.reps]]
slack_id = "U0BEN"
name = "Ben"
manager = "U0DANA"
territories = ["GB"]
capacity = 2
[[team.reps]]
slack_id = "U0CHLOE"
name = "Chloe"
manager = "U0DANA"
"""


def rules() -> ScoringRules:
    """Gets the test rules: 30 fit for size, 40 for a demo, 15 a pricing view (max 30)."""
    import tomllib

    return ScoringRules.model_validate(tomllib.loads(RULES_TOML)["scoring"])


def team(**changes: Any) -> TeamConfig:
    """Gets the test team (Alice: US, Ben: GB with capacity 2, Chloe: anywhere)."""
    import tomllib

    data = tomllib.loads(TEAM_TOML)["team"]
    return TeamConfig.model_validate({**data, **changes})


def context(now: datetime = NOW, **team_changes: Any) -> Context:
    """Gets an intake context with the test rules and team."""
    return Context(rules=rules(), team=team(**team_changes), now=now)


def lead_body(external_id: str, **fields: Any) -> dict[str, Any]:
    """Gets a lead as posted to /api/leads (source system "web")."""
    return {"source_system": "web", "external_id": external_id, **fields}


def demo(event_id: str = "e-demo", when: str = "2026-11-20T10:00:00Z") -> dict[str, Any]:
    """Gets a demo-request activity."""
    return {"id": event_id, "kind": "demo_request", "occurred_at": when}


@contextmanager
def running_server(args: list[Any], *, cwd: Path, env: dict[str, str]) -> Iterator[str]:
    """Runs a uvicorn-served process; yields its base URL once it listens; stops it after.

    Its output is read to the end in the background: a child whose output pipe fills up
    (tracebacks, logs) would block and never finish.
    """
    process = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        for line in process.stdout:
            seen.append(line)
            found = re.search(r"Uvicorn running on (http://\S+)", line)
            if found:
                threading.Thread(target=seen.extend, args=(process.stdout,), daemon=True).start()
                yield found.group(1)
                return
        raise AssertionError(f"{args[0]} did not start:\n" + "".join(seen))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


@contextmanager
def running_serve(workdir: Path, env: dict[str, str]) -> Iterator[str]:
    """Runs `handoff serve --port 0` in `workdir`; yields its base URL; stops it after."""
    script = Path(sys.executable).parent / "handoff"
    with running_server([script, "serve", "--port", "0"], cwd=workdir, env=env) as url:
        yield url


@contextmanager
def serving_tests_config(workdir: Path, database_url: str, token: str) -> Iterator[str]:
    """Runs `handoff serve` with the tests' rules and team on `database_url`, taking
    `token`; yields its base URL."""
    (workdir / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    env = {**os.environ, "DATABASE_URL": database_url, "HANDOFF_API_TOKEN": token}
    with running_serve(workdir, env) as url:
        yield url


def wait_for(check: Callable[[], Any], timeout: float = 15) -> Any:
    """Polls `check` until it gives something true (and gets that), or fails after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def block_actions(
    action: str,
    handoff_id: int,
    user: str,
    *,
    channel: str,
    ts: str,
    block_id: str = "handoff_decision",
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A block_actions payload as Slack sends it when a button is clicked (a card's, by
    default; `block_id` and `message` for another message's)."""
    button = {"action_id": action, "block_id": block_id, "value": str(handoff_id)}
    message = message or {"type": "message", "ts": ts, "text": "card"}
    trigger = f"{int(time.time())}.{user}.{handoff_id}"
    return click_payload(
        user=user, action=button, trigger_id=trigger, channel=channel, message=message
    )


def signed(payload: dict[str, Any], secret: str) -> tuple[str, dict[str, str]]:
    """Gets an interaction's form body and the headers Slack signs it with."""
    return sign(urlencode({"payload": json.dumps(payload)}), secret)


def sign(
    body: str, secret: str, content_type: str = "application/x-www-form-urlencoded"
) -> tuple[str, dict[str, str]]:
    """Gets a request body with the headers Slack signs it with (interactions and slash
    commands are forms; events are JSON)."""
    stamp = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    headers = {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "Content-Type": content_type,
    }
    return body, headers


def submission(
    handoff_id: int, user: str, reason: str | None, note: str | None, *, from_home: bool = False
) -> dict[str, Any]:
    """A view_submission payload of the reject dialog."""
    selected = {
        "selected_option": {"value": reason, "text": {"type": "plain_text", "text": reason}}
    }
    return {
        "type": "view_submission",
        "team": {"id": "T0SANDBOX", "domain": "sandbox"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0SANDBOX"},
        "api_app_id": "A0HANDOFF",
        "token": "legacy-verification-token",
        "trigger_id": f"{int(time.time())}.2.{user}",
        "view": {
            "id": "V0REJECT",
            "type": "modal",
            "callback_id": "handoff_reject_modal",
            "private_metadata": json.dumps({"handoff_id": handoff_id, "from_home": from_home}),
            "state": {
                "values": {
                    "reject_reason_block": {
                        "reject_reason": {
                            "type": "static_select",
                            **(selected if reason else {"selected_option": None}),
                        }
                    },
                    "reject_note_block": {
                        "reject_note": {"type": "plain_text_input", "value": note}
                    },
                }
            },
        },
    }


def slash_command(text: str, user: str, *, channel: str = "C0123LEADS") -> str:
    """A `/handoff` slash command's form body, as Slack sends it."""
    return command_form(
        user=user, text=text, channel=channel, trigger_id=f"{int(time.time())}.{user}.1"
    )


def home_click(action: str, handoff_id: int, user: str) -> dict[str, Any]:
    """A block_actions payload as Slack sends it for a button in the App Home tab."""
    view = {"id": f"V0HOME{user}", "type": "home", "blocks": [], "state": {"values": {}}}
    button = {"action_id": action, "block_id": f"home_lead:{handoff_id}", "value": str(handoff_id)}
    return click_payload(
        user=user, action=button, trigger_id=f"{int(time.time())}.{user}.1", view=view
    )


def shared_data_dir() -> Path:
    """Gets ../shared/data (or $HANDOFF_SHARED_DATA)."""
    return Path(os.environ.get("HANDOFF_SHARED_DATA", REPO.parent / "shared" / "data"))


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_client(engine: Engine) -> TestClient:
    """An intake API client on `engine`, with the test team synced."""
    sync_team(engine=engine, team=team())
    state = AppState(engine=engine, rules=rules(), team=team(), api_token=TOKEN, clock=lambda: NOW)
    return TestClient(create_api(state))


def post_lead(client: TestClient, body: dict[str, Any], **kwargs: Any) -> Any:
    """Posts a lead with the test token."""
    return client.post("/api/leads", json=body, headers=AUTH, **kwargs)


def notice_texts(session: Session) -> list[str]:
    """Gets the queued notices as Slack will word them, oldest first."""
    query = (
        select(col(Outbox.payload))
        .where(col(Outbox.kind) == OutboxKind.NOTICE)
        .order_by(col(Outbox.id))
    )
    return [notice_text(Notice.model_validate(p["notice"])) for p in session.scalars(query)]


XEDUCATION_SALES_SIDE = [  # X Education's columns sales fills in after acting on a lead
    "Tags",
    "Lead Quality",
    "Lead Profile",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
    "Last Notable Activity",
]


def xeducation_args(shared_data: Path) -> list[str | Path]:
    """Gets the arguments the README's X Education commands share: the file, its outcome,
    the split of seed 7, and the sales-side columns hidden."""
    hidden = [arg for column in XEDUCATION_SALES_SIDE for arg in ("--exclude-column", column)]
    leads = shared_data / "xeducation" / "Leads.csv"
    return [
        "--leads",
        leads,
        "--outcome-column",
        "Converted",
        "--holdout",
        "0.3",
        "--seed",
        "7",
        *hidden,
    ]
