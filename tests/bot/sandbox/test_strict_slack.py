"""The local Slack refuses as Slack does, and the sender copes: each failure ends with the
message delivered once after it clears, or dead with Slack's words, never holding the
channel's later messages."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from bot.sandbox.slack_api import SlackSandbox
from store.models import Outbox, OutboxKind, OutboxStatus
from tests.bot.messaging.test_sender import Clock, drain, hand_off, make_deliverer

CHANNEL = "C0123LEADS"


@pytest.fixture
def sandbox() -> Iterator[SlackSandbox]:
    with SlackSandbox() as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


def api(sandbox: SlackSandbox, token: str = "xoxb-test") -> WebClient:
    return WebClient(token=token, base_url=sandbox.url)


def refused(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as error:
        call()
    return dict(error.value.response.data)


def test_a_name_resolves_where_slack_takes_one_and_an_id_is_needed_elsewhere(
    sandbox: SlackSandbox,
) -> None:
    sandbox.add_channel(CHANNEL, "sales-leads")
    posted = api(sandbox).chat_postMessage(channel="#sales-leads", text="hi")
    assert posted["channel"] == CHANNEL
    assert (
        refused(lambda: api(sandbox).chat_postMessage(channel="#nope", text="x"))["error"]
        == "channel_not_found"
    )
    by_name = refused(lambda: api(sandbox).conversations_history(channel="#sales-leads"))
    assert by_name["error"] == "channel_not_found"
    assert api(sandbox).conversations_history(channel=CHANNEL)["messages"][0]["text"] == "hi"


def test_tokens_archived_channels_membership_and_deleted_messages(sandbox: SlackSandbox) -> None:
    assert refused(lambda: api(sandbox, "xoxp-user").auth_test())["error"] == "invalid_auth"
    sandbox.revoke("xoxb-old")
    assert refused(lambda: api(sandbox, "xoxb-old").auth_test())["error"] == "token_revoked"
    sandbox.add_channel("C0ARCHIVED", "old", archived=True)
    assert (
        refused(lambda: api(sandbox).chat_postMessage(channel="C0ARCHIVED", text="x"))["error"]
        == "is_archived"
    )
    sandbox.add_channel("G0PRIVATE", "deals", private=True, member=False)
    assert (
        refused(lambda: api(sandbox).chat_postMessage(channel="G0PRIVATE", text="x"))["error"]
        == "not_in_channel"
    )
    sandbox.add_channel("C0PUBLIC", "wins", member=False)  # chat:write.public posts here
    ts = api(sandbox).chat_postMessage(channel="C0PUBLIC", text="x")["ts"]
    history = refused(lambda: api(sandbox).conversations_history(channel="C0PUBLIC"))
    assert history["error"] == "not_in_channel"  # but reading it needs the app in it
    api(sandbox).conversations_join(channel="C0PUBLIC")
    assert api(sandbox).conversations_history(channel="C0PUBLIC")["messages"]
    api(sandbox).chat_delete(channel="C0PUBLIC", ts=ts)
    gone = refused(lambda: api(sandbox).chat_update(channel="C0PUBLIC", ts=ts, text="y"))
    assert gone["error"] == "message_not_found"


def test_block_kit_limits_are_refused_with_slacks_pointers(sandbox: SlackSandbox) -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    body = refused(
        lambda: api(sandbox).chat_postMessage(channel=CHANNEL, text="x", blocks=[section])
    )
    assert body["error"] == "invalid_blocks"
    assert body["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    many = [{"type": "divider"}] * 51
    too_many = refused(
        lambda: api(sandbox).chat_postMessage(channel=CHANNEL, text="x", blocks=many)
    )
    assert too_many["error"] == "msg_blocks_too_long"
    long = refused(lambda: api(sandbox).chat_postMessage(channel=CHANNEL, text="x" * 40_001))
    assert long["error"] == "msg_too_long"
    stale = refused(
        lambda: api(sandbox).views_open(trigger_id="1.U0ALICE.1", view={"type": "modal"})
    )
    assert stale["error"] == "expired_trigger_id"


def test_posts_beyond_a_second_each_are_429_with_retry_after(sandbox: SlackSandbox) -> None:
    sandbox.limit_rate(1.0, burst=2)
    client = api(sandbox)
    client.chat_postMessage(channel=CHANNEL, text="1")
    client.chat_postMessage(channel=CHANNEL, text="2")
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel=CHANNEL, text="3")
    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == "1"
    client.chat_postMessage(channel="C0OTHER", text="elsewhere")  # per channel


def test_an_archived_channel_kills_its_card_with_slacks_words_and_holds_no_other(
    engine: Engine, sandbox: SlackSandbox, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.add_channel(CHANNEL, "sales-leads", archived=True)
    hand_off(engine, 2)
    deliverer = make_deliverer(engine, sandbox, clock)
    with caplog.at_level(logging.ERROR):
        drain(deliverer, clock, rounds=3)
    with Session(engine) as session:
        dead = session.scalars(
            select(Outbox).where(
                col(Outbox.status) == OutboxStatus.DEAD, col(Outbox.kind) == OutboxKind.POST_CARD
            )
        ).all()
    assert len(dead) == 2  # both at once: neither waited for the other
    assert all(
        (d.last_error or "").startswith("is_archived: the channel is archived") for d in dead
    )
    assert "is_archived" in caplog.text


def test_a_card_deleted_in_slack_makes_its_update_dead_not_stuck(
    engine: Engine, sandbox: SlackSandbox, clock: Clock
) -> None:
    from bot.handoffs.decisions import accept
    from bot.handoffs.verdicts import Actor

    (first,) = hand_off(engine, 1)
    deliverer = make_deliverer(engine, sandbox, clock)
    drain(deliverer, clock, rounds=2)
    card = sandbox.channel(CHANNEL)[0]
    api(sandbox).chat_delete(channel=CHANNEL, ts=card["ts"])  # someone deleted it in Slack
    with Session(engine) as session:
        accept(session=session, handoff_id=first, actor=Actor("U0ALICE"), now=clock.now)
        session.commit()
    hand_off(engine, 1, prefix="M")  # the next lead's card, in the same channel
    drain(deliverer, clock, rounds=3)
    with Session(engine) as session:
        entries = session.scalars(
            select(Outbox).where(col(Outbox.id) > 1).order_by(col(Outbox.id))
        ).all()
    assert [(e.kind, e.status) for e in entries] == [
        (OutboxKind.UPDATE_CARD, OutboxStatus.DEAD),
        (OutboxKind.POST_CARD, OutboxStatus.SENT),
        (OutboxKind.OPS_ALERT, OutboxStatus.SENT),  # the hourly "given up" alert
    ]
    assert (entries[0].last_error or "").startswith("message_not_found")


def test_blocks_slack_sdk_refuses_are_refused_too(sandbox: SlackSandbox) -> None:
    unknown = refused(
        lambda: api(sandbox).chat_postMessage(channel=CHANNEL, text="x", blocks=[{"type": "nope"}])
    )
    assert unknown["error"] == "invalid_blocks"
    assert unknown["response_metadata"]["messages"] == [
        "[ERROR] unknown block type [json-pointer:/blocks/0]"
    ]
