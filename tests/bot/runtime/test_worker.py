"""Two workers started at once on one database: only one sweeps; the other takes over."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.config import DEFAULT_REJECT_REASONS
from bot.handoffs.team import sync_team
from bot.runtime.worker import Worker
from tests.helpers import team


def wait_until(check: object, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_exactly_one_worker_sweeps_and_a_standby_takes_over(engine: Engine) -> None:
    sync_team(engine=engine, team=team())
    workers = [
        Worker(
            engine=engine,
            team=team(),
            sla=None,
            reasons=DEFAULT_REJECT_REASONS,
            deliverer=None,
            lease_ttl=timedelta(seconds=1),
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    try:
        wait_until(lambda: any(w.active.is_set() for w in workers))
        time.sleep(1.5)  # several lease rounds: still exactly one
        active = [w for w in workers if w.active.is_set()]
        assert len(active) == 1
        leader = active[0]
        standby = next(w for w in workers if w is not leader)
        assert leader.sweeps >= 1
        assert standby.sweeps == 0
        leader.abandon()  # dies without a goodbye
        wait_until(lambda: standby.active.is_set())
        wait_until(lambda: standby.sweeps >= 1)
    finally:
        for worker in workers:
            if worker.scheduler.running:
                worker.stop()


def test_skipped_runs_of_a_busy_job_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A job still running at its next turn is skipped on purpose: no warning a second."""
    # bot.runtime.worker, imported above, installs the filter.
    scheduler = logging.getLogger("apscheduler.scheduler")
    with caplog.at_level(logging.INFO):
        scheduler.warning(
            'Execution of job "x" skipped: maximum number of running instances reached (1)'
        )
        scheduler.warning("Run time of job x was missed by 0:00:07")
    assert [r.getMessage() for r in caplog.records] == ["Run time of job x was missed by 0:00:07"]


def test_old_records_of_slack_requests_are_forgotten(engine: Engine) -> None:
    from datetime import UTC, datetime

    from sqlmodel import Session, select

    from store.models import Notification, NotificationKind
    from store.outbox import claim_notification, forget_requests

    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    with Session(engine) as session:
        for key, at in (("old", now - timedelta(days=2)), ("new", now)):
            claim_notification(
                session=session,
                key=f"slack-request:{key}",
                kind=NotificationKind.SLACK_REQUEST,
                handoff_id=None,
                level=0,
                now=at,
            )
        claim_notification(
            session=session,
            key="reminder:1",
            kind=NotificationKind.REMINDER,
            handoff_id=None,
            level=0,
            now=now - timedelta(days=9),
        )
        assert forget_requests(session=session, before=now - timedelta(days=1)) == 1
        session.commit()
        left = sorted(n.key for n in session.exec(select(Notification)).all())
    assert left == ["reminder:1", "slack-request:new"]  # reminders are never forgotten


def test_a_lead_taken_in_wakes_the_sender_at_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the sender's tick a minute away, only the intake's wake can post the card."""
    from datetime import UTC, datetime

    from bot.messaging.pacer import Pacer
    from bot.messaging.sender import Deliverer
    from bot.runtime import worker as worker_module
    from bot.sandbox.slack_api import SlackSandbox
    from bot.slack.surface import SlackSurface, web_client
    from tests.helpers import demo, lead_body, make_client, post_lead

    monkeypatch.setattr(worker_module, "SEND_EVERY_S", 60)
    with SlackSandbox() as sandbox:
        deliverer = Deliverer(
            engine=engine,
            surface=SlackSurface(web_client(token="xoxb-test", api_url=sandbox.url)),
            team=team(),
            reasons=DEFAULT_REJECT_REASONS,
            clock=lambda: datetime.now(UTC),
            pacer=Pacer(rate=50, burst=50),
        )
        worker = Worker(
            engine=engine,
            team=team(),
            sla=None,
            reasons=DEFAULT_REJECT_REASONS,
            deliverer=deliverer,
            lease_ttl=timedelta(seconds=3),
        )
        worker.start()
        try:
            wait_until(lambda: worker.active.is_set())
            time.sleep(0.3)  # the sender's first (empty) run is done: next one in a minute
            with make_client(engine) as client:
                client.app.state.wake_sender = worker.wake  # type: ignore[attr-defined]
                body = lead_body("W1", employees=100, country="US", activities=[demo()])
                began = time.monotonic()
                assert post_lead(client, body).json()["handoff"]
                wait_until(lambda: sandbox.channel("C0123LEADS"), timeout=5)
                assert time.monotonic() - began < 5
        finally:
            worker.stop()
