"""The CRM sender: HubSpot and Salesforce writes, outbound webhooks and inbound HubSpot
events, from the outbox, in a job of their own (a CRM that is slow or down never delays a
Slack card).

Policy, per entry:
- writes to one record (one outbox channel) go one at a time, in order: an entry that
  failed and waits holds the later entries of its record;
- 429: wait as the service says (Retry-After; HubSpot's 10-second window otherwise), not
  counted as a failed try, and the whole target waits with it;
- 5xx, timeouts, refused connections: back off with jitter (2 s doubling to 10 minutes),
  one probe per target at a time; given up GIVE_UP_AFTER after the entry was queued (a CRM
  down for an hour loses nothing);
- any other refusal (400, 401 after one token refresh, 403, 404): dead at once, logged
  with what the service said and what to fix; `handoff outbox list` shows it and
  `handoff outbox retry` sends it again.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session
from standardwebhooks import Webhook

from bot.config import HandoffConfig
from bot.crm import hubspot as hs
from bot.crm.http import TIMEOUT, CrmError, refusal, send
from bot.crm.hubspot import HubSpot
from bot.crm.inbound import hubspot_event
from bot.crm.outbound import fan_out
from bot.crm.salesforce import Salesforce
from bot.handoffs.intake import Context
from bot.messaging.sender import alert_dead
from scoring.rules import ScoringRules
from store.models import CRM_OUTBOX_KINDS, OutboxKind, OutboxStatus
from store.outbox import PendingEntry, claim, finish, message_payload, pending_entries

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)
BACKOFF_MAX_S = 600
TARGET_PAUSE_MAX_S = 60.0
LEASE = timedelta(minutes=2)


@dataclass
class CrmReport:
    """What one pass did."""

    fanned_out: int = 0
    sent: int = 0
    rescheduled: int = 0
    dead: int = 0


@dataclass
class CrmDeliverer:
    """Sends the CRM and webhook entries of the outbox."""

    engine: Engine
    config: HandoffConfig
    rules: ScoringRules | None
    hubspot: HubSpot | None
    salesforce: Salesforce | None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    environ: Callable[[str], str | None] = os.environ.get
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=TIMEOUT))
    batch: int = 500
    paused_until: dict[str, datetime] = field(default_factory=dict)

    def run(self) -> CrmReport:
        """Fans out new events, then sends what is due (a scheduler job)."""
        report = CrmReport()
        with Session(self.engine) as session:  # one short transaction when there is nothing
            report.fanned_out = fan_out(session=session, config=self.config, now=self.clock())
            entries = pending_entries(session=session, limit=self.batch, kinds=CRM_OUTBOX_KINDS)
            session.commit()
        now = self.clock()
        held: set[str] = set()
        for entry in entries:
            record = entry.channel or ""
            if record in held:
                continue
            if entry.next_attempt_at > now or self._paused(_target(entry), now):
                held.add(record)  # its record's later writes wait for it
                continue
            if not self._deliver(entry, report):
                held.add(record)
        if report.dead and self.config.team is not None:
            alert_dead(
                engine=self.engine,
                team=self.config.team,
                sla=self.config.sla,
                dead=report.dead,
                now=self.clock(),
            )
        return report

    def close(self) -> None:
        """Closes the connections."""
        self.http.close()
        for client in (self.hubspot, self.salesforce):
            if client is not None:
                client.close()

    def _paused(self, target: str, now: datetime) -> bool:
        return self.paused_until.get(target, now) > now

    def _deliver(self, entry: PendingEntry, report: CrmReport) -> bool:
        now = self.clock()
        with Session(self.engine) as session:
            if not claim(session=session, entry_id=entry.id, now=now, lease_until=now + LEASE):
                return False
            session.commit()
            payload = message_payload(session=session, entry_id=entry.id)
        try:
            self._send(entry, payload)
        except CrmError as error:
            self._failed(entry, error, report)
            return False
        except Exception as exc:  # a bug or an answer of the wrong shape: retried, then dead
            log.exception("CRM entry %s (%s) failed unexpectedly", entry.id, entry.kind)
            self._failed(entry, CrmError("unexpected_error", hint=repr(exc)), report)
            return False
        with Session(self.engine) as session:
            finish(session=session, entry_id=entry.id, status=OutboxStatus.SENT, now=self.clock())
            session.commit()
        report.sent += 1
        return True

    def _send(self, entry: PendingEntry, payload: dict[str, Any]) -> None:
        if entry.kind is OutboxKind.WEBHOOK_OUT:
            self._webhook(payload)
        elif entry.kind is OutboxKind.CRM_HUBSPOT:
            self._hubspot_write(payload)
        elif entry.kind is OutboxKind.CRM_SALESFORCE:
            self._salesforce_write(payload)
        elif entry.kind is OutboxKind.HUBSPOT_IN:
            self._hubspot_in(payload)

    def _webhook(self, payload: dict[str, Any]) -> None:
        name = str(payload["secret_env"])
        secret = self.environ(name)
        if not secret:
            raise CrmError(
                "no_secret",
                permanent=True,
                hint=f"${name} is not set: set it to the receiver's signing secret (whsec_…)",
            )
        body = str(payload["body"]).encode()
        now = datetime.now(UTC)  # the receiver checks the signature's time against its clock
        signature = Webhook(secret).sign(str(payload["id"]), now, body)
        headers = {
            "content-type": "application/json",
            "webhook-id": str(payload["id"]),
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }
        response = send(self.http, "POST", str(payload["url"]), content=body, headers=headers)
        if response.status_code == 410:
            raise CrmError(
                "gone",
                status=410,
                permanent=True,
                hint=f"{payload['url']} answered 410 Gone: remove it from [[webhooks.out]]",
            )
        if not 200 <= response.status_code < 300:
            raise refusal(f"Webhook receiver {payload['url']}", response)

    def _hubspot_client(self) -> HubSpot:
        if self.hubspot is None:
            raise CrmError(
                "not_configured",
                permanent=True,
                hint="HUBSPOT_ACCESS_TOKEN is not set (and [crm.hubspot] needs it)",
            )
        return self.hubspot

    def _hubspot_write(self, payload: dict[str, Any]) -> None:
        hub = self._hubspot_client()
        contact = str(payload["contact_id"])
        owner = _owner(payload, hub.owner_id, f"HubSpot contact {contact}", "hubspot_owner_id")
        properties: dict[str, str] = {}
        if owner:
            properties["hubspot_owner_id"] = str(owner)
        if payload.get("status"):
            properties["hs_lead_status"] = str(payload["status"])
        if payload.get("lifecycle"):
            current = hub.contact(contact, ["lifecyclestage"]).get("lifecyclestage")
            if hs.forward_only(current, str(payload["lifecycle"])):
                properties["lifecyclestage"] = str(payload["lifecycle"])
        if properties:
            hub.update_contact(contact, properties)
        if payload.get("note"):
            at = datetime.fromisoformat(str(payload["at"]))
            hub.add_note(
                contact_id=contact, body=str(payload["note"]), at=at, owner_id=owner or None
            )

    def _salesforce_write(self, payload: dict[str, Any]) -> None:
        if self.salesforce is None:
            raise CrmError(
                "not_configured",
                permanent=True,
                hint="SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET and "
                "SALESFORCE_REFRESH_TOKEN must be set for [crm.salesforce]",
            )
        sf = self.salesforce
        lead = str(payload["lead_id"])
        owner = _owner(payload, sf.user_id, f"Salesforce Lead {lead}", "salesforce_user_id")
        fields: dict[str, Any] = {}
        if owner:
            fields["OwnerId"] = owner
        if payload.get("status"):
            fields["Status"] = payload["status"]
        if fields:
            sf.update_lead(lead, fields)
        task = payload.get("task")
        if task:
            at = datetime.fromisoformat(str(payload["at"]))
            sf.create_task(
                {
                    "WhoId": lead,
                    "Status": "Completed",
                    "ActivityDate": at.date().isoformat(),
                    **({"OwnerId": owner} if owner else {}),
                    **task,
                }
            )

    def _hubspot_in(self, payload: dict[str, Any]) -> None:
        spec = self.config.crm.hubspot
        if spec is None or self.rules is None or self.config.team is None:
            raise CrmError(
                "not_configured",
                permanent=True,
                hint="[crm.hubspot], [scoring] and [team] are needed to take HubSpot events",
            )
        hub = self._hubspot_client()
        with Session(self.engine, expire_on_commit=False) as session:
            context = Context(
                rules=self.rules, team=self.config.team, now=self.clock(), sla=self.config.sla
            )
            done = hubspot_event(
                session=session, hub=hub, spec=spec, event=payload, context=context
            )
            session.commit()
        log.info("HubSpot event %s: %s", payload.get("eventId"), done)

    def _failed(self, entry: PendingEntry, error: CrmError, report: CrmReport) -> None:
        now = self.clock()
        target = _target(entry)
        again: datetime | None
        uncount = False
        if error.retry_after is not None:
            wait = error.retry_after
            self.paused_until[target] = now + timedelta(seconds=wait)
            status, again, uncount = OutboxStatus.PENDING, now + timedelta(seconds=wait), True
            log.info("%s rate limit: holding %s %.0f s (%s)", target, entry.channel, wait, error)
        elif error.permanent or now - entry.created_at >= GIVE_UP_AFTER:
            status, again = OutboxStatus.DEAD, None
        else:
            delay = min(2 ** min(entry.attempts + 1, 10), BACKOFF_MAX_S) * random.uniform(0.8, 1.2)
            self.paused_until[target] = now + timedelta(seconds=min(delay, TARGET_PAUSE_MAX_S))
            status, again = OutboxStatus.PENDING, now + timedelta(seconds=delay)
        with Session(self.engine) as session:
            finish(
                session=session,
                entry_id=entry.id,
                status=status,
                now=now,
                next_attempt_at=again,
                error=str(error)[:2000],
                uncount=uncount,
            )
            session.commit()
        if status is OutboxStatus.DEAD:
            report.dead += 1
            log.error(
                "%s entry %s (%s) given up after %d attempt(s): %s. After fixing it, send it "
                "again with `handoff outbox retry %s`",
                target,
                entry.id,
                entry.channel,
                entry.attempts + 1,
                error,
                entry.id,
            )
            return
        report.rescheduled += 1
        if not uncount:
            log.warning("%s entry %s failed (%s); retrying at %s", target, entry.id, error, again)


def _owner(
    payload: dict[str, Any], lookup: Callable[[str], str | None], record: str, id_key: str
) -> str | None:
    """Gets the CRM user to own the record: the id from the config, else the one with the
    rep's email (None, and a warning, when the CRM has no such user)."""
    owner = payload.get("owner_id")
    if owner or not payload.get("owner_email"):
        return str(owner) if owner else None
    found = lookup(str(payload["owner_email"]))
    if found is None:
        log.warning(
            "No CRM user has the email %s: %s keeps its owner (set %s for that rep in "
            "[[team.reps]])",
            payload["owner_email"],
            record,
            id_key,
        )
    return found


def _target(entry: PendingEntry) -> str:
    """Gets the service an entry goes to (one webhook URL, HubSpot, Salesforce)."""
    if entry.kind is OutboxKind.WEBHOOK_OUT:
        return ":".join((entry.channel or "webhook").split(":")[:2])
    return (
        "HubSpot" if entry.kind in (OutboxKind.CRM_HUBSPOT, OutboxKind.HUBSPOT_IN) else "Salesforce"
    )
