"""The worker: the SLA sweep every minute and the outbox sender, run by exactly one
process at a time.

APScheduler 3 runs the jobs (timezone UTC, explicit ids with replace_existing,
coalesce=True, max_instances=1, a misfire grace per job). A lease job, always running,
takes or renews the single-worker lease (store.lease); the sweep and the sender run only
while it is held. A second worker keeps trying and takes over when the first dies.
Catch-up after downtime comes from the database (each overdue level fires once), not
from replaying missed ticks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import DigestConfig, RejectReason, SlaConfig, TeamConfig
from bot.crm.deliver import CrmDeliverer
from bot.handoffs.sweep import sweep
from bot.messaging.sender import Deliverer
from bot.reports.digest import post_if_due
from bot.reports.revenue import post_monthly_if_due
from store.lease import TableLease
from store.notify import listen, listens
from store.outbox import forget_requests

log = logging.getLogger(__name__)

# Slack requests are remembered (to do each once) for this long: redeliveries come within
# minutes, and a replayed signature is refused after 5.
REQUESTS_KEPT = timedelta(days=1)
PRUNE_EVERY_SWEEPS = 60


class _SkippedRuns(logging.Filter):
    """Drops APScheduler's "maximum number of running instances reached": a job that is
    still running when its next turn comes is skipped on purpose (max_instances=1), and
    while a backlog drains that would be a warning a second."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_SkippedRuns())
logging.getLogger("apscheduler.executors.default").addFilter(_SkippedRuns())

LEASE_TTL = timedelta(seconds=30)
SWEEP_EVERY_S = 60
SEND_EVERY_S = 1
LEASE_JOB, SWEEP_JOB, SEND_JOB = "worker_lease", "sla_sweep", "outbox_sender"
CRM_JOB = "crm_sender"  # its own job: a slow or failing CRM never delays a Slack card


def holder_name() -> str:
    """Names this process in the lease: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Competes for the lease; while holding it, sweeps and sends."""

    def __init__(
        self,
        *,
        engine: Engine,
        team: TeamConfig,
        sla: SlaConfig | None,
        reasons: list[RejectReason],
        deliverer: Deliverer | None,
        lease: TableLease | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        lease_ttl: timedelta = LEASE_TTL,
        digest: DigestConfig | None = None,
        report_channel: str | None = None,
        crm: CrmDeliverer | None = None,
    ) -> None:
        self.crm = crm
        self.digest = digest
        self.report_channel = report_channel
        self.engine, self.team, self.sla, self.reasons = engine, team, sla, reasons
        self.deliverer = deliverer
        self.clock = clock
        self.lease_ttl = lease_ttl
        self.lease = lease or TableLease(engine, holder_name(), lease_ttl)
        self.renewed_at = 0.0  # time.monotonic() of the last renewal that succeeded
        # Missed runs collapse into one, and a job never overlaps itself.
        self.scheduler = BackgroundScheduler(
            timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1}
        )
        self.active = threading.Event()
        self.sweeps = 0
        self.woken, self.stopping = threading.Event(), threading.Event()
        self.waker = threading.Thread(target=self._wake_loop, name="worker-waker", daemon=True)
        # Work queued by another process (a web-only one, an import) wakes us too: by
        # NOTIFY on PostgreSQL, by the file's change counter on SQLite (store.notify).
        self.listener = (
            threading.Thread(
                target=listen,
                args=(engine, self.wake, self.stopping),
                name="worker-listener",
                daemon=True,
            )
            if listens(engine)
            else None
        )

    def start(self) -> None:
        """Starts competing for the lease, in the background."""
        self._every(
            self._keep_lease, max(self.lease_ttl.total_seconds() / 3, 0.2), LEASE_JOB, grace=5
        )
        self.scheduler.start()
        self.waker.start()
        if self.listener is not None:
            self.listener.start()

    def stop(self) -> None:
        """Stops the jobs and gives the lease up."""
        self._stop_waker()
        self.scheduler.shutdown(wait=True)
        if self.crm is not None:
            self.crm.close()
        if self.active.is_set():
            self.lease.release()
            self.active.clear()

    def abandon(self) -> None:
        """Stops without giving the lease up, as a crashed process would (for tests): the
        lease is left to expire."""
        self._stop_waker()
        self.scheduler.shutdown(wait=True)
        self.active.clear()

    def wake(self) -> None:
        """Runs the senders now (after a hand-off or a decision, in this process or, on
        PostgreSQL, in another: store.notify), if this process is the worker: a card goes
        out within milliseconds instead of at the next tick.

        Safe from any thread, jobs included: it only sets an event. The waker thread moves
        the jobs (APScheduler's shutdown holds the job store lock while it waits for
        running jobs, so a job that touched the scheduler itself could deadlock it)."""
        self.woken.set()

    def _wake_loop(self) -> None:
        while not self.stopping.is_set():
            if not self.woken.wait(timeout=0.25):
                continue
            self.woken.clear()
            if self.stopping.is_set() or not self.active.is_set():
                continue
            now = datetime.now(UTC)
            for job_id in (SEND_JOB, CRM_JOB):
                # Not this process's job (no Slack, no CRM sender), or the lease was lost.
                with contextlib.suppress(JobLookupError):
                    self.scheduler.modify_job(job_id, next_run_time=now)

    def _stop_waker(self) -> None:
        self.stopping.set()
        for thread in (self.waker, self.listener):
            if thread is not None and thread.is_alive():
                thread.join(timeout=5)

    def holds_lease(self) -> bool:
        """Tells whether this process may run the jobs now: it holds the lease and renewed
        it less than two thirds of its time to live ago. A process that was frozen and
        resumes finds its renewal stale, so it does nothing until it has renewed (or
        learnt that another process took over); the monotonic clock keeps running while
        a process is stopped."""
        fresh = time.monotonic() - self.renewed_at < self.lease_ttl.total_seconds() * 2 / 3
        return self.active.is_set() and fresh

    def _keep_lease(self) -> None:
        asked = time.monotonic()
        held = self.lease.acquire(self.clock())
        if held:
            self.renewed_at = asked
        if held and not self.active.is_set():
            log.info("worker: took the lease; sweeping every %ss", SWEEP_EVERY_S)
            self._add_jobs()
            self.active.set()
        elif not held and self.active.is_set():
            log.warning("worker: lost the lease; another process runs the jobs now")
            for job_id in (SWEEP_JOB, SEND_JOB, CRM_JOB):
                if self.scheduler.get_job(job_id):
                    self.scheduler.remove_job(job_id)
            self.active.clear()

    def _add_jobs(self) -> None:
        self._every(self._sweep_if_held, SWEEP_EVERY_S, SWEEP_JOB, grace=30)
        if self.deliverer is not None:
            self._every(self._send_if_held, SEND_EVERY_S, SEND_JOB, grace=5)
        if self.crm is not None:
            self._every(self._crm_if_held, SEND_EVERY_S, CRM_JOB, grace=5)

    def _sweep_if_held(self) -> None:
        if self.holds_lease():
            self.run_sweep()

    def _crm_if_held(self) -> None:
        if self.holds_lease() and self.crm is not None:
            report = self.crm.run()
            if report.sent:  # a HubSpot contact taken in may have queued its card
                self.wake()

    def _send_if_held(self) -> None:
        if self.holds_lease() and self.deliverer is not None:
            self.deliverer.deliver_due()

    def _every(self, job: Callable[[], object], seconds: float, job_id: str, *, grace: int) -> None:
        """Runs `job` now and then every `seconds` (coalesced, one at a time: job_defaults)."""
        self.scheduler.add_job(
            job,
            "interval",
            seconds=seconds,
            id=job_id,
            replace_existing=True,
            misfire_grace_time=grace,
            next_run_time=datetime.now(UTC),
        )

    def run_sweep(self) -> None:
        """One sweep at the current time (a scheduler job)."""
        with Session(self.engine) as session:
            now = self.clock()
            sent = sweep(
                session=session, now=now, team=self.team, sla=self.sla, reasons=self.reasons
            )
            if self.sweeps % PRUNE_EVERY_SWEEPS == 0:  # hourly: a scan of the notifications
                forget_requests(session=session, before=now - REQUESTS_KEPT)
            week = None
            if self.digest is not None:
                week = post_if_due(
                    session=session,
                    team=self.team,
                    digest=self.digest,
                    reasons=self.reasons,
                    now=now,
                )
            month = None
            if self.report_channel is not None:
                month = post_monthly_if_due(
                    session=session,
                    team=self.team,
                    reasons=self.reasons,
                    channel=self.report_channel,
                    now=now,
                )
            session.commit()
        if week or month:
            log.info(
                "queued: %s",
                ", ".join(
                    f"{k} of {v}" for k, v in (("digest", week), ("revenue report", month)) if v
                ),
            )
            self.wake()
        self.sweeps += 1
        for item in sent:
            log.info("sweep: %s", item)
        if sent:
            self.wake()
