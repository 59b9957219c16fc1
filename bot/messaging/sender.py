"""The outbox sender: every card post and update goes out from the outbox table.

Per channel, the entries that are due go out in the order they were queued, paced to
about one message a second with short bursts
(https://api.slack.com/apis/rate-limits#posting-messages). A rate limit reschedules the
entry at Retry-After without counting it as a failed try, and holds the whole channel
until then, so order is kept. Timeouts and 5xx back off exponentially, up to 10 minutes,
and pause the channel with them, so during an outage one entry per channel probes and
the rest wait their turn without using up tries; an entry still failing GIVE_UP_AFTER
after it was queued is dead and logged loudly. Permanent errors (a missing channel, a
bad token) die at once, logged with what to fix. An entry queued for later never holds
back the due entries of its channel.

Each attempt is counted in the database before the call is made. If the process dies
between Slack posting a card and us recording it, the next attempt sees the count and
first looks for the card in the channel (cards carry their hand-off id in message
metadata), so a crash never makes a duplicate card.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import RejectReason, SlaConfig, TeamConfig
from bot.handoffs.cards import Card, load_card
from bot.handoffs.notices import Notice
from bot.messaging.pacer import Pacer
from bot.messaging.port import ChatSurface, DeliveryError, Posted
from bot.reports.charts import digest_chart
from bot.reports.numbers import DigestNumbers, RevenueReport
from store.handoffs import card_on_its_way, newest_of_chain, posted_at, record_posted
from store.models import SLACK_OUTBOX_KINDS, NotificationKind, OutboxKind, OutboxStatus
from store.outbox import (
    OutboxEntry,
    PendingEntry,
    claim,
    claim_notification,
    enqueue,
    finish,
    message_payload,
    pending_entries,
)

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

MESSAGES = {
    OutboxKind.NOTICE,
    OutboxKind.OPS_ALERT,
    OutboxKind.DIGEST,
    OutboxKind.DIGEST_CHART,
    OutboxKind.REVENUE_REPORT,
}
# Transient failures (5xx, timeouts) are retried for this long after the entry was queued,
# backing off up to BACKOFF_MAX between tries; then the entry is dead.
GIVE_UP_AFTER = timedelta(hours=6)
DEAD_ALERT = (
    ":warning: Given up: {n} outbox entr{ies} (Slack messages, CRM writes or webhooks) that"
    " could not be delivered. See why with `handoff outbox list`; once the cause is fixed"
    " (token, channel, invite, CRM access), send them again, in order, with"
    " `handoff outbox retry --all`. (Said at most once an hour.)"
)
BACKOFF_MAX_S = 600
# A notice whose card is still on its way waits for it this long at most, in steps.
WAIT_FOR_CARD = timedelta(minutes=1)
WAIT_FOR_CARD_STEP_S = 2.0
LEASE = timedelta(minutes=2)
RECONCILE_WINDOW_S = 3600.0


@dataclass
class DeliveryReport:
    """What one pass over the outbox did."""

    sent: int = 0
    rescheduled: int = 0
    dead: int = 0
    held: set[str] = field(default_factory=set)


@dataclass
class Deliverer:
    """Sends due outbox entries through a chat surface."""

    engine: Engine
    surface: ChatSurface
    team: TeamConfig
    reasons: list[RejectReason]
    clock: Callable[[], datetime]
    pacer: Pacer = field(default_factory=Pacer)
    sla: SlaConfig | None = None
    batch: int = 500

    def deliver_due(self) -> DeliveryReport:
        """Sends what is due now, in order per channel; gets what happened.

        Among the entries that are due, each channel's go out in the order they were
        queued; a failure in this pass holds the rest of its channel until the next pass,
        and a rate limit holds the channel for as long as Slack said. An entry that is not
        due yet (backing off, or scheduled for later) holds nothing back.
        """
        report = DeliveryReport()
        with Session(self.engine) as session:
            entries = pending_entries(session=session, limit=self.batch, kinds=SLACK_OUTBOX_KINDS)
        now = self.clock()
        for entry in entries:
            key = entry.channel or ""
            if key in report.held or entry.next_attempt_at > now:
                continue
            if self.pacer.paused(key) or not self._deliver(entry, report):
                report.held.add(key)
        if report.dead:
            self._alert(report)
        return report

    def _alert(self, report: DeliveryReport) -> None:
        alert_dead(
            engine=self.engine, team=self.team, sla=self.sla, dead=report.dead, now=self.clock()
        )

    def _deliver(self, entry: PendingEntry, report: DeliveryReport) -> bool:
        now = self.clock()
        with Session(self.engine) as session:
            if not claim(session=session, entry_id=entry.id, now=now, lease_until=now + LEASE):
                return True  # another sender took it
            session.commit()
        try:
            self._send(entry)
        except DeliveryError as error:
            self._failed(entry, error, report)
            return False
        except Exception as exc:  # anything else: retried like a transient error, then given up
            log.exception("Outbox entry %s (%s) failed unexpectedly", entry.id, entry.kind)
            self._failed(entry, DeliveryError("unexpected_error", hint=repr(exc)), report)
            return False
        with Session(self.engine) as session:
            finish(session=session, entry_id=entry.id, status=OutboxStatus.SENT, now=self.clock())
            session.commit()
        report.sent += 1
        return True

    def _send(self, entry: PendingEntry) -> None:
        if entry.kind in MESSAGES:
            self._send_message(entry)
            return
        assert entry.handoff_id is not None, f"outbox entry {entry.id} names no hand-off"
        with Session(self.engine) as session:
            # A lead has one card: it shows the newest hand-off of the lead's chain.
            shown = (
                entry.handoff_id
                if entry.kind in (OutboxKind.POST_DM_COPY, OutboxKind.THREAD_REPLY)
                else newest_of_chain(session=session, handoff_id=entry.handoff_id)
            )
            card = load_card(
                session=session,
                handoff_id=shown,
                team=self.team,
                reasons=self.reasons,
                sla=self.sla,
            )
            channel, ts = posted_at(session=session, handoff_id=entry.handoff_id)
            # A chain's card goes where its newest hand-off's does (moved before it went out)
            wanted = (
                posted_at(session=session, handoff_id=shown)[0]
                if entry.kind is OutboxKind.POST_CARD and ts is None
                else None
            )
        if entry.kind is OutboxKind.POST_DM_COPY and entry.channel:
            self.pacer.wait(entry.channel)
            self.surface.post_card(channel=entry.channel, card=card)
            return
        channel = channel or entry.channel or self.team.channel
        if entry.kind is OutboxKind.THREAD_REPLY:
            if ts is None:  # the card never went out: the one posted later shows the move
                log.warning("Thread reply %s skipped: hand-off %s has no card", entry.id, shown)
                return
            self.pacer.wait(channel)
            self.surface.post_moved(channel=channel, thread_ts=ts, card=card)
            return
        if entry.kind is OutboxKind.POST_CARD:
            if ts is None:
                self._post(entry, wanted or channel, card)
            return
        if ts is None:
            # Nothing posted yet: the chain's post, queued before this in the channel (or
            # replayed from the dead letters), draws the card as it stands when it goes.
            log.info("Card update %s skipped: hand-off %s is not posted yet", entry.id, shown)
            return
        self.pacer.wait(channel)
        self.surface.update_card(posted=Posted(channel, ts), card=card)

    def _send_message(self, entry: PendingEntry) -> None:
        channel = entry.channel
        assert channel is not None, f"outbox entry {entry.id} names no channel"
        with Session(self.engine) as session:
            payload = message_payload(session=session, entry_id=entry.id)
        if "text" in payload:  # an ops alert, or an entry an earlier version queued worded
            self._send_text(entry, channel, payload)
            return
        if entry.kind is OutboxKind.DIGEST_CHART:
            self._send_chart(channel, _model(DigestNumbers, payload.get("numbers")))
            return
        self.pacer.wait(channel)
        if entry.kind is OutboxKind.DIGEST:
            numbers = _model(DigestNumbers, payload.get("numbers"))
            self.surface.post_digest(channel=channel, numbers=numbers)
        elif entry.kind is OutboxKind.REVENUE_REPORT:
            report = _model(RevenueReport, payload.get("report"))
            self.surface.post_revenue(channel=channel, report=report)
        else:
            notice = _model(Notice, payload.get("notice"))
            card_at = None
            if entry.handoff_id is not None:
                with Session(self.engine) as session:
                    where, ts = posted_at(session=session, handoff_id=entry.handoff_id)
                    coming = ts is None and card_on_its_way(
                        session=session, handoff_id=entry.handoff_id
                    )
                card_at = Posted(where, ts) if where and ts else None
                if coming and self.clock() - entry.created_at < WAIT_FOR_CARD:
                    # Its card is being posted (by another sender, or backing off): the
                    # notice links to it, so it waits a little rather than go without.
                    raise DeliveryError(
                        "card_not_posted_yet",
                        retry_after=WAIT_FOR_CARD_STEP_S,
                        hint="waiting for the lead's card, which the notice links to",
                    )
            self.surface.post_notice(channel=channel, notice=notice, card_at=card_at)

    def _send_text(self, entry: PendingEntry, channel: str, payload: dict[str, Any]) -> None:
        """Sends an entry an earlier version queued as text (a digest's chart of the old
        numbers is skipped: the digest's text says it all)."""
        if entry.kind is OutboxKind.DIGEST_CHART:
            return
        self.pacer.wait(channel)
        actions = entry.handoff_id if payload.get("escalation_actions") else None
        self.surface.post_text(channel=channel, text=str(payload["text"]), actions_for=actions)

    def _send_chart(self, channel: str, numbers: DigestNumbers) -> None:
        png = digest_chart(numbers)
        if png is None:  # matplotlib was uninstalled since the chart was queued
            log.warning("Digest chart skipped: install the `charts` extra to draw it")
            return
        period = numbers.period
        self.pacer.wait(channel)
        self.surface.upload_image(
            channel=channel,
            png=png,
            filename=f"handoff-digest-{period}.png",
            title=f"Funnel and SLA compliance by rep, {period}",
        )

    def _post(self, entry: PendingEntry, channel: str, card: Card) -> None:
        found = None
        if entry.attempts > 0:  # an earlier try may have posted before we could record it
            since = entry.created_at.timestamp() - RECONCILE_WINDOW_S
            chain = frozenset(leg.id for leg in card.journey) | {card.handoff_id}
            found = self.surface.find_card(channel=channel, handoff_ids=chain, since=since)
        if found is None:
            self.pacer.wait(channel)
            found = self.surface.post_card(channel=channel, card=card)
        with Session(self.engine) as session:
            record_posted(
                session=session,
                handoff_id=card.handoff_id,
                channel=found.channel,
                ts=found.ts,
                posted_at=self.clock(),
            )
            session.commit()

    def _failed(self, entry: PendingEntry, error: DeliveryError, report: DeliveryReport) -> None:
        now = self.clock()
        attempts = entry.attempts + 1
        again: datetime | None
        if error.retry_after is not None:  # a rate limit: wait as told; not a failed try
            log.info(
                "Holding %s %.0f s (%s): %s",
                entry.channel,
                error.retry_after,
                error.code,
                error.hint or "Slack's rate limit, as Retry-After says",
            )
            self.pacer.pause(entry.channel or "", error.retry_after)
            status, again, uncount = (
                OutboxStatus.PENDING,
                now + timedelta(seconds=error.retry_after),
                True,
            )
        elif error.permanent or now - entry.created_at >= GIVE_UP_AFTER:
            status, again, uncount = OutboxStatus.DEAD, None, False
        else:
            # Backing off pauses the channel too: during an outage one entry per channel
            # probes, instead of every entry using up its tries at once.
            delay = min(2 ** min(attempts, 10), BACKOFF_MAX_S)
            self.pacer.pause(entry.channel or "", delay)
            status, again, uncount = (
                OutboxStatus.PENDING,
                now + timedelta(seconds=delay),
                False,
            )
        with Session(self.engine) as session:
            finish(
                session=session,
                entry_id=entry.id,
                status=status,
                now=now,
                next_attempt_at=again,
                error=str(error),
                uncount=uncount,
            )
            session.commit()
        if status is OutboxStatus.DEAD:
            report.dead += 1
            log.error(
                "Slack message %s (%s for hand-off %s to %s) given up after %d attempt(s): %s",
                entry.id,
                entry.kind,
                entry.handoff_id,
                entry.channel,
                attempts,
                error,
            )
            return
        report.rescheduled += 1
        if not uncount:
            log.warning("Slack message %s failed (%s); retrying at %s", entry.id, error, again)


def alert_dead(
    *, engine: Engine, team: TeamConfig, sla: SlaConfig | None, dead: int, now: datetime
) -> None:
    """Tells the escalation channel (else the team's) that outbox entries (Slack messages,
    CRM writes, webhooks) were given up, at most once an hour, with the commands that show
    and replay them."""
    channel = (sla.escalation_channel if sla else None) or team.channel
    with Session(engine) as session:
        if claim_notification(
            session=session,
            key=f"outbox-dead:{now:%Y-%m-%dT%H}",
            kind=NotificationKind.OUTBOX_ALERT,
            handoff_id=None,
            level=0,
            now=now,
        ):
            alert = OutboxEntry.ops_alert(
                channel=channel, text=DEAD_ALERT.format(n=dead, ies="y" if dead == 1 else "ies")
            )
            enqueue(session=session, entries=[alert], now=now)
        session.commit()


def _model(model: type[M], data: Any) -> M:
    """Reads an entry's payload as its model; a payload that does not fit is permanent."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        hint = f"its payload is not a {model.__name__}: {exc.error_count()} problem(s)"
        raise DeliveryError("bad_payload", permanent=True, hint=hint) from exc
