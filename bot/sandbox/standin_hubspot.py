"""The HubSpot part of the CRM stand-in: contacts, notes, owners, deals and their
associations, answered as HubSpot's CRM API v3/v4 answers (and refuses)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.crm.hubspot import LIFECYCLE

if TYPE_CHECKING:
    from bot.sandbox.crm_standin import Call, CrmStandIn

HUBSPOT_TOKEN = "pat-na1-standin-0000"
LEAD_STATUSES = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
CONTACT_PROPERTIES = {
    "email",
    "firstname",
    "lastname",
    "jobtitle",
    "company",
    "numemployees",
    "industry",
    "country",
    "hs_analytics_source",
    "hs_lead_status",
    "lifecyclestage",
    "hubspot_owner_id",
    "hs_analytics_num_page_views",
}
Answer = tuple[int, dict[str, str], Any]


def hubspot_answer(standin: CrmStandIn, call: Call) -> Answer:
    if call.headers.get("authorization") != f"Bearer {HUBSPOT_TOKEN}":
        return (
            401,
            {},
            hs_error(
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            ),
        )
    parts = call.path.strip("/").split("/")
    with standin.lock:
        if parts[:4] == ["crm", "v3", "objects", "contacts"] and len(parts) == 5:
            return _hs_contact(standin, call, parts[4])
        if parts == ["crm", "v3", "properties", "contacts", "hs_lead_status"]:
            options = [
                {"label": v.replace("_", " ").title(), "value": v, "hidden": False}
                for v in LEAD_STATUSES
            ]
            return 200, {}, {"name": "hs_lead_status", "type": "enumeration", "options": options}
        if parts == ["crm", "v3", "objects", "notes"] and call.method == "POST":
            return _hs_note(standin, call)
        if parts == ["crm", "v3", "owners"]:
            email = call.query.get("email", "").lower()
            found = [o for o in standin.owners if not email or o["email"].lower() == email]
            return 200, {}, {"results": found[: int(call.query.get("limit", "100"))]}
        if parts[:4] == ["crm", "v3", "objects", "deals"] and len(parts) == 5:
            deal = standin.deals.get(parts[4])
            if deal is None:
                return 404, {}, _not_found(parts[4])
            return 200, {}, _object(parts[4], deal["properties"])
        if parts[:4] == ["crm", "v4", "objects", "deals"] and parts[5:] == [
            "associations",
            "contacts",
        ]:
            deal = standin.deals.get(parts[4])
            if deal is None:
                return 404, {}, _not_found(parts[4])
            results = [
                {
                    "toObjectId": int(c),
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}
                    ],
                }
                for c in deal["contacts"]
            ]
            return 200, {}, {"results": results}
    return 404, {}, hs_error(f"Unable to route {call.method} {call.path}", "OBJECT_NOT_FOUND")


def _hs_contact(standin: CrmStandIn, call: Call, contact_id: str) -> Answer:
    contact = standin.contacts.get(contact_id)
    if contact is None:
        return 404, {}, _not_found(contact_id)
    if call.method == "GET":
        wanted = [p for p in call.query.get("properties", "").split(",") if p]
        return 200, {}, _object(contact_id, {p: contact.get(p) for p in wanted})
    if call.method != "PATCH":
        return 405, {}, hs_error("Method not allowed", "VALIDATION_ERROR")
    properties = (call.body or {}).get("properties")
    if not isinstance(properties, dict):
        return 400, {}, hs_error("Invalid input JSON: properties missing", "VALIDATION_ERROR")
    problems = []
    for name, value in properties.items():
        if name not in CONTACT_PROPERTIES and name not in contact:
            problems.append(f'Property "{name}" does not exist')
        elif name == "hs_lead_status" and value not in LEAD_STATUSES:
            problems.append(f"{value} was not one of the allowed options: {list(LEAD_STATUSES)}")
        elif name == "hubspot_owner_id" and value not in {o["id"] for o in standin.owners}:
            problems.append(f"{value} is not a valid owner id")
        elif name == "lifecyclestage":
            current = contact.get("lifecyclestage")
            if current in LIFECYCLE and LIFECYCLE.index(str(value)) < LIFECYCLE.index(current):
                problems.append(f"lifecyclestage cannot move backwards from {current} to {value}")
    if problems:
        return (
            400,
            {},
            hs_error("Property values were not valid: " + "; ".join(problems), "VALIDATION_ERROR"),
        )
    contact.update({k: str(v) for k, v in properties.items()})
    return 200, {}, _object(contact_id, dict(contact))


def _hs_note(standin: CrmStandIn, call: Call) -> Answer:
    body = call.body or {}
    properties = body.get("properties") or {}
    if "hs_timestamp" not in properties:
        return 400, {}, hs_error("hs_timestamp is required", "VALIDATION_ERROR")
    for association in body.get("associations") or []:
        target = str(association["to"]["id"])
        types = [t.get("associationTypeId") for t in association.get("types", [])]
        if target not in standin.contacts or types != [202]:
            return (
                400,
                {},
                hs_error(f"Invalid association to {target} with types {types}", "VALIDATION_ERROR"),
            )
    note_id = str(next(standin.ids))
    standin.notes.append({"id": note_id, **body})
    return 201, {}, _object(note_id, properties)


def _object(object_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    stamp = "2026-12-01T09:00:00.000Z"
    return {
        "id": object_id,
        "properties": properties,
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": False,
    }


def hs_error(message: str, category: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "correlationId": "3f5a0c1e-0000-4000-8000-standin00001",
        "category": category,
    }


def _not_found(object_id: str) -> dict[str, Any]:
    body = hs_error("Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND")
    return {**body, "context": {"id": [object_id]}}
