"""What HubSpot's webhook events become: a contact created or changed is a lead (fetched
whole, mapped by [crm.hubspot.fields]); a change of a property named in
[crm.hubspot.activities] is also an activity; a deal moved to another stage is an outcome
of each known lead among the deal's contacts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from bot.config import HubSpotConfig
from bot.crm.http import CrmError
from bot.crm.hubspot import SOURCE_SYSTEM, HubSpot
from bot.handoffs.inputs import LeadIn, OutcomeIn, field_errors
from bot.handoffs.intake import Context, ingest_leads
from bot.handoffs.outcomes import record

CONTACT_EVENTS = ("contact.creation", "contact.propertyChange")
DEAL_EVENTS = ("deal.creation", "deal.propertyChange")


def hubspot_event(
    *, session: Session, hub: HubSpot, spec: HubSpotConfig, event: dict[str, Any], context: Context
) -> str:
    """Takes one HubSpot event in; gets what it did, in words (for the log)."""
    kind = str(event.get("subscriptionType", ""))
    object_id = str(event.get("objectId", ""))
    when = _instant(event.get("occurredAt"))
    prop = event.get("propertyName")
    if kind in CONTACT_EVENTS:
        if (
            kind == "contact.propertyChange"
            and prop not in spec.fields
            and prop not in spec.activities
        ):
            return f"contact {object_id}: {prop} is not mapped, ignored"
        return _contact(session, hub, spec, event, object_id, when, context)
    if kind in DEAL_EVENTS and (kind == "deal.creation" or prop == "dealstage"):
        return _deal(session, hub, spec, object_id, when, context)
    return f"{kind} ignored"


def _contact(
    session: Session,
    hub: HubSpot,
    spec: HubSpotConfig,
    event: dict[str, Any],
    contact_id: str,
    when: datetime,
    context: Context,
) -> str:
    properties = hub.contact(contact_id, sorted({*spec.fields, *spec.activities}))
    body: dict[str, Any] = {"source_system": SOURCE_SYSTEM, "external_id": contact_id}
    attributes: dict[str, Any] = {}
    for name, field_name in spec.fields.items():
        value = properties.get(name)
        if value in (None, ""):
            continue
        if field_name in LeadIn.model_fields:
            body[field_name] = value
        else:
            attributes[field_name] = value
    link = spec.record_url(contact_id)
    if link:
        attributes["record_url"] = link  # the card links to the contact
    body["attributes"] = attributes
    prop = event.get("propertyName")
    if event.get("subscriptionType") == "contact.propertyChange" and prop in spec.activities:
        body["activities"] = [
            {
                "id": f"hubspot-{event.get('eventId')}",
                "kind": spec.activities[str(prop)],
                "occurred_at": when.isoformat(),
                "properties": {str(prop): event.get("propertyValue")},
            }
        ]
    try:
        lead = LeadIn.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{e['field']}: {e['message']}" for e in field_errors(exc.errors()))
        raise CrmError(
            "invalid_contact",
            permanent=True,
            hint=f"HubSpot contact {contact_id} cannot be a lead: {problems}",
        ) from exc
    (done,) = ingest_leads(session=session, leads=[lead], context=context)
    handed = " and handed off" if done.handed_off else ""
    return f"contact {contact_id} is lead {done.lead_id}, scored {done.score.total:.0f}{handed}"


def _deal(
    session: Session,
    hub: HubSpot,
    spec: HubSpotConfig,
    deal_id: str,
    when: datetime,
    context: Context,
) -> str:
    deal = hub.deal(deal_id)
    stage_id = str(deal.get("dealstage") or "")
    if stage_id in spec.won_stages:
        stage = "closed_won"
    elif stage_id in spec.lost_stages:
        stage = "closed_lost"
    else:
        stage = "opportunity"
    amount = deal.get("amount") if stage == "closed_won" else None
    contacts = hub.deal_contacts(deal_id)
    outcomes = [
        OutcomeIn.model_validate(
            {
                "source_system": SOURCE_SYSTEM,
                "lead_external_id": contact,
                "stage": stage,
                "amount": amount if amount not in ("", None) else None,
                "occurred_at": when.isoformat(),
            }
        )
        for contact in contacts
    ]
    unknown = record(session=session, outcomes=outcomes, now=context.now)
    known = len(outcomes) - len(unknown)
    return f"deal {deal_id} at {stage_id or 'no stage'}: {stage} for {known} known lead(s)"


def _instant(millis: Any) -> datetime:
    """Reads HubSpot's occurredAt (milliseconds since 1970); now when absent."""
    if isinstance(millis, int | float) and not isinstance(millis, bool):
        return datetime.fromtimestamp(millis / 1000, UTC)
    return datetime.now(UTC)
