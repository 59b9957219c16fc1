"""A click is acknowledged before anything touches the database (issue 17, point 5): the
check that Slack did not send it before runs after the ack, with the rest of its work."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from slack_bolt import BoltRequest
from sqlalchemy import Engine, select, text
from sqlmodel import Session, col

from bot.slack.ids import ActionId
from store.db import make_engine
from store.models import Outbox, OutboxKind
from tests.bot.slack.listeners.bolt import SECRET, Bolt, bolt, hand_off, status
from tests.helpers import block_actions, signed, wait_for

__all__ = ["bolt"]  # the fixture, used by name


@contextmanager
def writes_blocked(engine: Engine) -> Iterator[None]:
    """Holds the database's write lock from another connection (SQLite: the file's;
    PostgreSQL: the table the replay check writes to), as a long decision would."""
    other = make_engine(engine.url.render_as_string(hide_password=False))
    connection = other.connect()
    try:
        connection.begin()  # on SQLite, make_engine's BEGIN IMMEDIATE: the write lock
        if engine.dialect.name == "postgresql":
            connection.execute(text("LOCK TABLE notification IN ACCESS EXCLUSIVE MODE"))
        yield
    finally:
        connection.rollback()
        connection.close()
        other.dispose()


def test_accept_is_acked_while_the_database_is_busy_then_decided(bolt: Bolt) -> None:
    handoff_id = hand_off(bolt.engine, "A1")
    body, headers = signed(
        block_actions(ActionId.ACCEPT, handoff_id, "U0ALICE", channel="C0123LEADS", ts="1.0"),
        SECRET,
    )
    request = BoltRequest(body=body, headers={k.lower(): [v] for k, v in headers.items()})
    answered: list[int] = []
    with writes_blocked(bolt.engine):
        clicking = threading.Thread(
            target=lambda: answered.append(bolt.app.dispatch(request).status)
        )
        clicking.start()
        clicking.join(timeout=15)  # far below the 30-second busy timeout a write would wait
        assert answered == [200]  # acked with the database still locked
    assert wait_for(lambda: status(bolt.engine, handoff_id) == "accepted")


def test_a_replayed_accept_is_decided_once(bolt: Bolt) -> None:
    handoff_id = hand_off(bolt.engine, "A2")
    payload = block_actions(ActionId.ACCEPT, handoff_id, "U0ALICE", channel="C0123LEADS", ts="1")
    for _ in range(3):  # the very same bytes: Slack retrying, or a replay
        bolt.click(payload, republishes=False)
    assert wait_for(lambda: status(bolt.engine, handoff_id) == "accepted")
    assert wait_for(lambda: OutboxKind.UPDATE_CARD in queued_kinds(bolt.engine))
    assert queued_kinds(bolt.engine).count(OutboxKind.UPDATE_CARD) == 1


def queued_kinds(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(col(Outbox.kind))))
