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

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import DigestConfig, RejectReason, SlaConfig, TeamConfig
from bot.handoffs.sweep import sweep
from bot.messaging.sender import Deliverer
from bot.reports.digest import post_if_due
from bot.reports.revenue import post_monthly_if_due
from store.lease import Lease, make_lease
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
        lease: Lease | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        lease_ttl: timedelta = LEASE_TTL,
        digest: DigestConfig | None = None,
        report_channel: str | None = None,
    ) -> None:
        self.digest = digest
        self.report_channel = report_channel
        self.engine, self.team, self.sla, self.reasons = engine, team, sla, reasons
        self.deliverer = deliverer
        self.clock = clock
        self.lease_ttl = lease_ttl
        self.lease = lease or make_lease(engine, holder=holder_name(), ttl=lease_ttl)
        # Missed runs collapse into one, and a job never overlaps itself.
        self.scheduler = BackgroundScheduler(
            timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1}
        )
        self.active = threading.Event()
        self.sweeps = 0

    def start(self) -> None:
        """Starts competing for the lease, in the background."""
        self._every(
            self._keep_lease, max(self.lease_ttl.total_seconds() / 3, 0.2), LEASE_JOB, grace=5
        )
        self.scheduler.start()

    def stop(self) -> None:
        """Stops the jobs and gives the lease up."""
        self.scheduler.shutdown(wait=True)
        if self.active.is_set():
            self.lease.release()
            self.active.clear()

    def abandon(self) -> None:
        """Stops without giving the lease up, as a crashed process would (for tests): a
        table lease is left to expire; an advisory lock's connection is dropped."""
        self.scheduler.shutdown(wait=True)
        connection = getattr(self.lease, "connection", None)
        if connection is not None:
            connection.invalidate()
        self.active.clear()

    def wake(self) -> None:
        """Runs the sender now (after a decision), if this process is the worker."""
        if self.active.is_set() and self.deliverer is not None:
            self.scheduler.modify_job(SEND_JOB, next_run_time=datetime.now(UTC))

    def _keep_lease(self) -> None:
        held = self.lease.acquire(self.clock())
        if held and not self.active.is_set():
            log.info("worker: took the lease; sweeping every %ss", SWEEP_EVERY_S)
            self._add_jobs()
            self.active.set()
        elif not held and self.active.is_set():
            log.warning("worker: lost the lease; another process runs the jobs now")
            for job_id in (SWEEP_JOB, SEND_JOB):
                if self.scheduler.get_job(job_id):
                    self.scheduler.remove_job(job_id)
            self.active.clear()

    def _add_jobs(self) -> None:
        self._every(self.run_sweep, SWEEP_EVERY_S, SWEEP_JOB, grace=30)
        if self.deliverer is not None:
            self._every(self.deliverer.deliver_due, SEND_EVERY_S, SEND_JOB, grace=5)

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
