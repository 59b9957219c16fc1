"""Fan-out: each recorded lead event becomes one outbox entry per target that wants it
(each [[webhooks.out]], HubSpot for leads that came from HubSpot, Salesforce for leads that
came from Salesforce), written with what to send, in one transaction.

Entries for one record share an outbox channel ("hubspot:<contact id>",
"salesforce:<lead id>", "webhook:<n>:<lead id>"), so writes to a record go in the order
the events happened, and an outage of one target never holds another.
"""

from __future__ import annotations

import html
import json
import logging
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.config import CrmStatuses, HandoffConfig, RejectReason
from bot.crm import hubspot, salesforce
from bot.crm.events import Facts, LeadEvent, facts
from store.lead_events import EventRow, fanned_out, unfanned
from store.models import OutboxKind
from store.outbox import OutboxEntry, enqueue

log = logging.getLogger(__name__)

FEEDBACK_WORDS = {
    "connected": "Connected",
    "meeting_booked": "Meeting booked",
    "no_answer_yet": "No answer yet",
    "not_a_fit": "Not a fit",
}
MOVE_WORDS = {
    "breach": "after an SLA breach",
    "away": "because the rep was away",
    "inactive": "because the rep is no longer active",
    "manager": "by their manager",
}


def fan_out(*, session: Session, config: HandoffConfig, now: datetime, limit: int = 500) -> int:
    """Turns the events not yet fanned out into outbox entries, oldest first; gets how
    many events it handled."""
    events = unfanned(session=session, limit=limit)
    entries: list[OutboxEntry] = []
    for event in events:
        known = facts(session=session, handoff_id=event.handoff_id)
        if known is None:
            continue
        try:
            entries += entries_for(event, known, config)
        except Exception:  # one bad event (an unknown name after an upgrade) stops no other
            log.exception(
                "Lead event %s (%s) could not be fanned out; skipped", event.id, event.event
            )
    enqueue(session=session, entries=entries, now=now)
    fanned_out(session=session, ids=[e.id for e in events], now=now)
    return len(events)


def entries_for(event: EventRow, known: Facts, config: HandoffConfig) -> list[OutboxEntry]:
    """Gets the outbox entries one event makes, for the targets configured."""
    kind = LeadEvent(event.event)
    lead_id = known.lead["id"]
    out: list[OutboxEntry] = []
    body = {
        "type": kind.value,
        "timestamp": event.created_at.isoformat(),
        "data": known.data(),
    }
    for number, hook in enumerate(config.webhooks.out):
        if kind in hook.events:
            hook_payload = {
                "url": hook.url,
                "secret_env": hook.secret_env,
                "id": f"evt_{event.id}",
                "body": json.dumps(body, separators=(",", ":"), default=str),
            }
            out.append(
                OutboxEntry.crm(
                    OutboxKind.WEBHOOK_OUT, f"webhook:{number}:{lead_id}", known, hook_payload
                )
            )
    source = known.lead["source_system"]
    record = str(known.lead["external_id"])
    reasons = config.reject_reasons
    if config.crm.hubspot is not None and source == hubspot.SOURCE_SYSTEM:
        spec = config.crm.hubspot
        payload: dict[str, Any] = {
            "event": kind.value,
            "contact_id": record,
            "status": _mapped(spec.status, kind, known, reasons),
            "lifecycle": _mapped(spec.lifecycle, kind, known, reasons),
            "note": _note(kind, known, reasons, html_text=True),
            "at": event.created_at.isoformat(),
            **_owner(kind, known, config, "hubspot_owner_id"),
        }
        if any(payload[k] for k in ("status", "lifecycle", "note", "owner_email", "owner_id")):
            out.append(OutboxEntry.crm(OutboxKind.CRM_HUBSPOT, f"hubspot:{record}", known, payload))
    if config.crm.salesforce is not None and source == salesforce.SOURCE_SYSTEM:
        spec_sf = config.crm.salesforce
        note = _note(kind, known, reasons, html_text=False)
        payload = {
            "event": kind.value,
            "lead_id": record,
            "status": _mapped(spec_sf.status, kind, known, reasons),
            "task": {"Subject": _subject(kind, known), "Description": note} if note else None,
            "at": event.created_at.isoformat(),
            **_owner(kind, known, config, "salesforce_user_id"),
        }
        if any(payload[k] for k in ("status", "task", "owner_email", "owner_id")):
            out.append(
                OutboxEntry.crm(OutboxKind.CRM_SALESFORCE, f"salesforce:{record}", known, payload)
            )
    return out


def _moment(kind: LeadEvent, known: Facts, reasons: list[RejectReason]) -> str | None:
    """Gets which status mapping key an event is (None: it sets no status)."""
    if kind is LeadEvent.HANDED_OFF:
        return "handed_off"
    if kind is LeadEvent.ACCEPTED:
        return "accepted"
    if kind is LeadEvent.REJECTED:
        reason = _reason(known, reasons)
        return f"rejected_{reason.disposition.value if reason else 'nurture'}"
    if kind is LeadEvent.FEEDBACK and known.handoff["feedback"]:
        return f"feedback_{known.handoff['feedback']}"
    return None


def _mapped(
    statuses: CrmStatuses, kind: LeadEvent, known: Facts, reasons: list[RejectReason]
) -> str | None:
    moment = _moment(kind, known, reasons)
    value = getattr(statuses, moment, "") if moment else ""
    return str(value) or None


def _owner(kind: LeadEvent, known: Facts, config: HandoffConfig, id_field: str) -> dict[str, Any]:
    """Gets whom to make the record's owner: set when the lead is handed off, moved or
    accepted; by the id in the config, else by the rep's email (looked up once)."""
    blank = {"owner_email": None, "owner_id": None}
    if known.rep is None or kind not in (
        LeadEvent.HANDED_OFF,
        LeadEvent.MOVED,
        LeadEvent.ACCEPTED,
    ):
        return blank
    assert config.team is not None
    rep = next((r for r in config.team.reps if r.slack_id == known.rep["slack_id"]), None)
    configured = getattr(rep, id_field, None) if rep else None
    return {"owner_email": known.rep["email"], "owner_id": configured}


def _reason(known: Facts, reasons: list[RejectReason]) -> RejectReason | None:
    code = known.handoff["reject_reason"]
    return next((r for r in reasons if r.code == code), None)


def _who(known: Facts, slack_id: str | None) -> str:
    if known.rep and slack_id == known.rep["slack_id"]:
        return str(known.rep["name"])
    return f"Slack user {slack_id}" if slack_id else "someone"


def _subject(kind: LeadEvent, known: Facts) -> str:
    return {
        LeadEvent.ACCEPTED: "Lead accepted in Slack",
        LeadEvent.REJECTED: "Lead rejected in Slack",
        LeadEvent.MOVED: "Lead moved to a new owner",
        LeadEvent.FEEDBACK: "Sales feedback on the lead",
    }.get(kind, "Lead hand-off")


def _note(
    kind: LeadEvent, known: Facts, reasons: list[RejectReason], *, html_text: bool
) -> str | None:
    """Gets the note a decision, move or feedback leaves on the record: who, when, why."""
    h = known.handoff
    when = (h["decided_at"] or h["feedback_at"] or h["created_at"] or "")[:16].replace("T", " ")
    ref = f"(hand-off #{h['id']}, {h['tier']}, score {round(h['score'] or 0)})"
    if kind is LeadEvent.ACCEPTED:
        lines = [f"Accepted in Slack by {_who(known, h['decided_by'])}, {when} UTC {ref}."]
    elif kind is LeadEvent.REJECTED:
        reason = _reason(known, reasons)
        label = reason.label if reason else (h["reject_reason"] or "no reason given")
        lines = [f"Rejected in Slack by {_who(known, h['decided_by'])}, {when} UTC {ref}."]
        lines.append(f"Reason: {label}.")
        if h["reject_note"]:
            lines.append(f"Note: {h['reject_note']}")
    elif kind is LeadEvent.MOVED and known.rep:
        why = MOVE_WORDS.get(h["moved_because"] or "", "")
        lines = [f"Handed to {known.rep['name']} {why} {ref}.".replace("  ", " ")]
    elif kind is LeadEvent.FEEDBACK and h["feedback"]:
        answer = FEEDBACK_WORDS.get(h["feedback"], h["feedback"])
        who = _who(known, known.rep["slack_id"] if known.rep else None)
        lines = [f"Sales feedback from {who}: {answer} {ref}."]
    else:
        return None
    if html_text:
        return "<br>".join(html.escape(line) for line in lines)
    return "\n".join(lines)
