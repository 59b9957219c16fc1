"""`handoff outbox list|retry|drop` (issue 15, point 3): after a token was revoked for a
moment, the cards that died meanwhile are listed, then re-sent once each, in order."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from bot.cli import main
from bot.messaging.pacer import Pacer
from bot.messaging.sender import Deliverer
from bot.sandbox.slack_api import SlackSandbox
from bot.slack.surface import SlackSurface, web_client
from store.models import Outbox
from tests.bot.messaging.test_sender import hand_off, posted_ids
from tests.helpers import context


def deliver(engine: Engine, sandbox: SlackSandbox) -> None:
    from bot.config import DEFAULT_REJECT_REASONS

    Deliverer(
        engine=engine,
        surface=SlackSurface(web_client(token="xoxb-test", api_url=sandbox.url)),
        team=context().team,
        reasons=DEFAULT_REJECT_REASONS,
        clock=lambda: datetime.now(UTC),  # `outbox retry` queues for the real now
        pacer=Pacer(sleep=lambda _: None),
    ).deliver_due()


Capture = pytest.CaptureFixture[str]


def run(capsys: Capture, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_dead_cards_are_listed_then_resent_once_each_in_order(
    engine: Engine,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    ids = hand_off(engine, 3)
    with SlackSandbox() as sandbox:
        sandbox.fail("chat.postMessage", error="token_revoked", times=3)
        for _ in range(3):  # a failure ends its channel's pass: the next pass tries the next
            deliver(engine, sandbox)
        assert posted_ids(sandbox) == []
        code, out = run(capsys, "outbox", "list")
        assert code == 0
        assert out.count(" dead post_card to C0123LEADS") == 3
        assert "token_revoked" in out
        assert "dead: 3" in out
        assert "handoff outbox retry --all" in out
        code, out = run(capsys, "outbox", "list", "--format", "json")
        listed = json.loads(out)
        assert [e["handoff_id"] for e in listed["entries"]] == ids
        assert {e["error"] for e in listed["entries"]} == {"token_revoked"}
        # The token is fixed: one command re-sends what died, once each, in order.
        code, out = run(capsys, "outbox", "retry", "--error", "token_revoked")
        assert (code, out.split(":")[0]) == (0, "Queued again")
        assert "3 dead entries" in out
        deliver(engine, sandbox)
        deliver(engine, sandbox)
        assert posted_ids(sandbox) == ids
        assert run(capsys, "outbox", "retry", "--all")[0] == 1  # nothing left to retry


def test_drop_gives_up_a_dead_entry_for_good(
    engine: Engine,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    hand_off(engine, 1)
    with SlackSandbox() as sandbox:
        sandbox.fail("chat.postMessage", error="channel_not_found")
        deliver(engine, sandbox)
    with Session(engine) as session:
        (entry,) = session.scalars(select(Outbox).where(col(Outbox.status) == "dead")).all()
    code, out = run(capsys, "outbox", "drop", "--id", str(entry.id))
    assert (code, out.startswith("Dropped: 1 dead entry")) == (0, True)
    assert "dead: 0" in run(capsys, "outbox", "list")[1]
