"""HubSpot: the webhook signature, the CRM calls the hand-off makes, and what its events
become (leads, activities, outcomes).

Shapes from HubSpot's public reference:
- signature v3: https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests
- contacts: GET and PATCH /crm/v3/objects/contacts/{id}; owners: GET /crm/v3/owners?email=;
  notes: POST /crm/v3/objects/notes, associated with the contact (type 202);
  deals: GET /crm/v3/objects/deals/{id}, and its contacts through
  GET /crm/v4/objects/deals/{id}/associations/contacts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.crm.http import TIMEOUT, CrmError, refusal, send

SOURCE_SYSTEM = "hubspot"
WINDOW_MS = 5 * 60 * 1000  # a signature older (or newer) than this is refused
NOTE_TO_CONTACT = 202  # HubSpot's association type id, note to contact
# HubSpot refuses to move a contact's lifecycle stage backwards (it must be cleared
# first); these are its default stages, in order.
LIFECYCLE = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)
# Characters HubSpot decodes in the URI before signing it (its v3 page's table).
_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def signature_v3(*, secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """Gets the X-HubSpot-Signature-v3 of a request: base64 of HMAC-SHA256, keyed with the
    app's client secret, over method + URI + body + timestamp."""
    for encoded, plain in _DECODED.items():
        uri = uri.replace(encoded, plain).replace(encoded.lower(), plain)
    message = method.upper().encode() + uri.encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_problem(
    *,
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: datetime,
) -> str | None:
    """Tells what is wrong with a request's v3 signature (None: it is HubSpot's)."""
    if not signature or not timestamp:
        return "no X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp header"
    if not (timestamp.isascii() and timestamp.isdigit()):
        return "X-HubSpot-Request-Timestamp is not a number of milliseconds"
    if abs(now.timestamp() * 1000 - int(timestamp)) > WINDOW_MS:
        return "the request is more than 5 minutes old (or from the future): a replay?"
    expected = signature_v3(secret=secret, method=method, uri=uri, body=body, timestamp=timestamp)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return (
            "the signature does not match "
            "(check HUBSPOT_CLIENT_SECRET and [crm.hubspot] public_url)"
        )
    return None


def signature_v1(*, secret: str, body: bytes) -> str:
    """Gets the v1 X-HubSpot-Signature of a request: SHA-256 (hex) of the client secret
    followed by the body (no method, URI or time)."""
    return hashlib.sha256(secret.encode() + body).hexdigest()


def request_problem(
    *,
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
) -> str | None:
    """Tells what is wrong with the signature of a request said to be HubSpot's (None:
    it is HubSpot's). v3 when the request carries it; else v1, which HubSpot still uses
    for some webhooks: it has no time, so a replay is only stopped by each event being
    taken once."""
    if headers.get("x-hubspot-signature-v3"):
        return signature_problem(
            secret=secret,
            method=method,
            uri=uri,
            body=body,
            signature=headers.get("x-hubspot-signature-v3"),
            timestamp=headers.get("x-hubspot-request-timestamp"),
            now=now,
        )
    given = headers.get("x-hubspot-signature")
    if given and headers.get("x-hubspot-signature-version", "").lower() == "v1":
        expected = signature_v1(secret=secret, body=body)
        if hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
            return None
        return "the v1 signature does not match (check HUBSPOT_CLIENT_SECRET)"
    return "no X-HubSpot-Signature-v3 (or v1 X-HubSpot-Signature) header"


@dataclass
class HubSpot:
    """HubSpot's CRM API with a private app's (or service key's) token."""

    api_url: str
    token: str
    client: httpx.Client = field(init=False)
    owners: dict[str, str | None] = field(default_factory=dict)  # email -> owner id
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.client = httpx.Client(
            base_url=self.api_url.rstrip("/"),
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=TIMEOUT,
        )

    def close(self) -> None:
        """Closes the connections."""
        self.client.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = send(self.client, method, path, **kwargs)
        if response.status_code >= 300:
            fix = {
                401: "Check HUBSPOT_ACCESS_TOKEN (a private app's or service key's token)",
                403: "Give the app the scopes crm.objects.contacts.read/write, "
                "crm.objects.deals.read and crm.objects.owners.read",
            }.get(response.status_code, "")
            raise refusal("HubSpot", response, fix=fix)
        return response.json() if response.content else None

    def contact(self, contact_id: str, properties: list[str]) -> dict[str, Any]:
        """Gets a contact's properties (absent ones are missing or null)."""
        body = self._call(
            "GET",
            f"/crm/v3/objects/contacts/{_id(contact_id)}",
            params={"properties": ",".join(properties)},
        )
        return dict(body.get("properties") or {})

    def update_contact(self, contact_id: str, properties: dict[str, str]) -> None:
        """Sets properties of a contact."""
        self._call(
            "PATCH", f"/crm/v3/objects/contacts/{_id(contact_id)}", json={"properties": properties}
        )

    def add_note(self, *, contact_id: str, body: str, at: datetime, owner_id: str | None) -> str:
        """Adds a note to a contact's timeline; gets its id."""
        properties = {"hs_timestamp": at.astimezone(UTC).isoformat(), "hs_note_body": body}
        if owner_id:
            properties["hubspot_owner_id"] = owner_id
        association = {
            "to": {"id": contact_id},
            "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}
            ],
        }
        created = self._call(
            "POST",
            "/crm/v3/objects/notes",
            json={"properties": properties, "associations": [association]},
        )
        return str(created.get("id", ""))

    def owner_id(self, email: str) -> str | None:
        """Gets the owner id of a HubSpot user by email, asked once per process."""
        key = email.strip().lower()
        with self.lock:
            if key in self.owners:
                return self.owners[key]
        body = self._call("GET", "/crm/v3/owners", params={"email": email, "limit": 1})
        results = body.get("results") or []
        found = str(results[0]["id"]) if results else None
        with self.lock:
            self.owners[key] = found
        return found

    def deal(self, deal_id: str) -> dict[str, Any]:
        """Gets a deal's stage, amount and close date."""
        body = self._call(
            "GET",
            f"/crm/v3/objects/deals/{_id(deal_id)}",
            params={"properties": "dealstage,amount,closedate,pipeline"},
        )
        return dict(body.get("properties") or {})

    def deal_contacts(self, deal_id: str) -> list[str]:
        """Gets the ids of the contacts associated with a deal."""
        ids: list[str] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 500}
            if after:
                params["after"] = after
            body = self._call(
                "GET", f"/crm/v4/objects/deals/{_id(deal_id)}/associations/contacts", params=params
            )
            ids += [str(item["toObjectId"]) for item in body.get("results") or []]
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return ids

    def lead_statuses(self) -> list[str]:
        """Gets the values the account's hs_lead_status property allows."""
        body = self._call("GET", "/crm/v3/properties/contacts/hs_lead_status")
        return [str(option["value"]) for option in body.get("options") or []]

    def check(self) -> None:
        """Makes the cheapest call that proves the token and its owners scope."""
        self._call("GET", "/crm/v3/owners", params={"limit": 1})


def _id(value: str) -> str:
    """Gets a record id fit for a URL path: HubSpot's are numbers; anything else (a lead
    id from another source, `1/../deals/5`) is refused, never sent."""
    if not (value.isascii() and value.isdigit()):
        raise CrmError(
            "invalid_id", permanent=True, hint=f"{value!r} is not a HubSpot record id (digits)"
        )
    return value


def forward_only(current: str | None, wanted: str) -> bool:
    """Tells whether setting the lifecycle stage to `wanted` moves it forward (HubSpot
    refuses a move backwards); a custom stage we do not know is never overwritten."""
    if not current:
        return True
    if current not in LIFECYCLE or wanted not in LIFECYCLE:
        return False
    return LIFECYCLE.index(wanted) > LIFECYCLE.index(current)
