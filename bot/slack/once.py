"""Doing a Slack request's work once: Slack redelivers an event it got no answer for in
time (X-Slack-Retry-Num), and a replayed interaction arrives with the same bytes."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from slack_bolt import Ack, BoltContext, BoltRequest
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session

from store.models import NotificationKind
from store.outbox import claim_notification

# Bolt's context key of a button's check, run by its listener after the ack (`repeated`)
ONCE = "handoff_first_time"
# Clicks worked on at once after their acks. More wait (without using the CPU), so that a
# burst's decisions never starve the next clicks' acks, which Slack wants within 3 s.
WORK_AT_ONCE = 4
_working = threading.BoundedSemaphore(WORK_AT_ONCE)
Work = Callable[[dict[str, Any], WebClient, BoltContext], None]


def first_time(engine: Engine, req: BoltRequest, now: datetime) -> bool:
    """Records a Slack request's identity once; False when it was seen before. An event is
    itself by its event_id; anything else (clicks, dialogs, commands) by its exact bytes,
    which carry a fresh action_ts or trigger_id on every real click."""
    body = req.body or {}
    if body.get("type") in ("url_verification", "ssl_check") or req.mode == "socket_mode":
        return True  # no work to repeat; Socket Mode acknowledges by envelope
    if body.get("type") == "event_callback" and body.get("event_id"):
        key = f"slack-event:{body['event_id']}"
    else:
        key = f"slack-request:{hashlib.sha256(req.raw_body.encode()).hexdigest()}"
    with Session(engine) as session:
        first = claim_notification(
            session=session,
            key=key,
            kind=NotificationKind.SLACK_REQUEST,
            handoff_id=None,
            level=0,
            now=now,
        )
        session.commit()
    return first


def repeated(context: Any) -> bool:
    """After a button's ack: tells whether Slack sent this click before (its work was
    done then, so the listener stops here). Records it the first time."""
    check: Callable[[], bool] | None = context.get(ONCE)
    return check is not None and not check()


def button(
    work: Work, *, waits_turn: bool = True
) -> Callable[[Ack, dict[str, Any], WebClient, BoltContext], None]:
    """Makes a button's listener: it acks at once, then does `work(body, client, context)`
    (WORK_AT_ONCE clicks at a time; a button that opens or redraws a dialog does not wait
    its turn: Slack's trigger_id expires 3 s after the click), unless Slack sent this
    click before."""

    def listener(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        with _working if waits_turn else nullcontext():
            if repeated(context):
                return  # Slack sent this click before: its work is done
            work(body, client, context)

    listener.__doc__ = work.__doc__
    return listener
