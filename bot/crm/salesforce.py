"""Salesforce: the REST calls the hand-off makes, with the OAuth 2.0 refresh-token flow.

A new access token is asked for when there is none and when a call answers 401
(`INVALID_SESSION_ID`: the session expired), once; then the call is made again.
Shapes from Salesforce's public reference: POST {login_url}/services/oauth2/token
(grant_type=refresh_token), PATCH /services/data/vXX.X/sobjects/Lead/{id} (204),
POST /services/data/vXX.X/sobjects/Task (201), GET /services/data/vXX.X/query?q=SOQL.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.crm.http import TIMEOUT, CrmError, refusal, send

SOURCE_SYSTEM = "salesforce"


@dataclass
class Salesforce:
    """Salesforce's REST API for one org, reached through a connected app."""

    login_url: str
    api_version: str
    client_id: str
    client_secret: str
    refresh_token: str
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=TIMEOUT))
    access_token: str | None = None
    instance_url: str | None = None
    users: dict[str, str | None] = field(default_factory=dict)  # email -> user id
    lock: threading.Lock = field(default_factory=threading.Lock)
    refreshes: int = 0

    def close(self) -> None:
        """Closes the connections."""
        self.client.close()

    def _refresh(self) -> None:
        """Gets a new access token (and the org's instance URL) from the refresh token."""
        response = send(
            self.client,
            "POST",
            f"{self.login_url.rstrip('/')}/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "refresh_token": self.refresh_token,
            },
        )
        if response.status_code != 200:
            raise refusal(
                "Salesforce login",
                response,
                fix="Check SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET and "
                "SALESFORCE_REFRESH_TOKEN (a refresh token of the connected app, not revoked)",
            )
        body = response.json()
        with self.lock:
            self.access_token = str(body["access_token"])
            self.instance_url = str(body["instance_url"]).rstrip("/")
            self.refreshes += 1

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        if self.access_token is None:
            self._refresh()
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.access_token}"}
            url = f"{self.instance_url}/services/data/{self.api_version}{path}"
            response = send(self.client, method, url, headers=headers, **kwargs)
            if response.status_code == 401 and attempt == 1:
                self._refresh()  # the session expired: a new token, once
                continue
            if response.status_code >= 300:
                fix = {
                    401: "The new access token was refused too: check the connected app",
                    403: "Give the integration user access to Leads, Tasks and Users",
                }.get(response.status_code, "")
                raise refusal("Salesforce", response, fix=fix)
            return response.json() if response.content else None
        raise CrmError("unreachable")

    def update_lead(self, lead_id: str, fields: dict[str, Any]) -> None:
        """Sets fields of a Lead (OwnerId, Status…)."""
        if not re.fullmatch(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?", lead_id):
            raise CrmError(
                "invalid_id", permanent=True, hint=f"{lead_id!r} is not a Salesforce record id"
            )
        self._call("PATCH", f"/sobjects/Lead/{lead_id}", json=fields)

    def create_task(self, fields: dict[str, Any]) -> str:
        """Creates a Task (a completed activity on a Lead); gets its id."""
        created = self._call("POST", "/sobjects/Task", json=fields)
        return str(created.get("id", ""))

    def user_id(self, email: str) -> str | None:
        """Gets the id of the active Salesforce user with that email, asked once."""
        key = email.strip().lower()
        with self.lock:
            if key in self.users:
                return self.users[key]
        quoted = key.replace("\\", "\\\\").replace("'", "\\'")
        soql = f"SELECT Id FROM User WHERE Email = '{quoted}' AND IsActive = true LIMIT 1"
        body = self._call("GET", "/query", params={"q": soql})
        records = body.get("records") or []
        found = str(records[0]["Id"]) if records else None
        with self.lock:
            self.users[key] = found
        return found

    def lead_statuses(self) -> list[str]:
        """Gets the Lead Status values the org allows (for `handoff crm check`)."""
        body = self._call("GET", "/query", params={"q": "SELECT MasterLabel FROM LeadStatus"})
        return [str(r["MasterLabel"]) for r in body.get("records") or []]

    def check(self) -> None:
        """Proves the credentials: a token, then a cheap authenticated call."""
        self._call("GET", "/limits")
