"""A local HubSpot, Salesforce and webhook receiver: a real HTTP server on 127.0.0.1 that
answers the calls the app makes with the shapes (and the refusals) of the vendors' public
references, keeps the records it is sent, and records every call.

Point the app at it with `[crm.hubspot] api_url` and `[crm.salesforce] login_url` set to
its URL, and a `[[webhooks.out]] url` at `<url>/hooks/<name>`. Tests make it misbehave:
`fail("/crm/v3", status=429)`, `fail("/services", status=503, times=60)`,
`expire_salesforce_tokens()`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.sandbox.standin_hubspot import hs_error, hubspot_answer
from bot.sandbox.standin_salesforce import salesforce_answer, token_answer


@dataclass
class Call:
    """One request the stand-in got."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float = field(default_factory=time.time)


@dataclass
class _Failure:
    prefix: str
    status: int
    times: int
    retry_after: float | None
    body: Any


class CrmStandIn:
    """The server; use as a context manager, or `start()` and `stop()`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.failures: list[_Failure] = []
        self.contacts: dict[str, dict[str, str | None]] = {}
        self.notes: list[dict[str, Any]] = []
        self.owners: list[dict[str, Any]] = []
        self.deals: dict[str, dict[str, Any]] = {}
        self.sf_leads: dict[str, dict[str, Any]] = {}
        self.sf_users: dict[str, str] = {}  # email -> id
        self.sf_tasks: list[dict[str, Any]] = []
        self.sf_tokens: set[str] = set()
        self.received: dict[str, list[Call]] = {}  # webhook receiver name -> deliveries
        self.ids = itertools.count(1001)
        self.delays: dict[str, float] = {}  # path prefix -> seconds before answering
        handler = type("Handler", (_Handler,), {"standin": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Gets the base URL (HubSpot's api_url, Salesforce's login and instance URL)."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> CrmStandIn:
        """Starts serving in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stops serving."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> CrmStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Switches and fixtures for tests and the demo.

    def fail(
        self,
        prefix: str,
        *,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        """Makes the next `times` calls whose path starts with `prefix` answer `status`
        (with the vendor's error body, unless `body` is given)."""
        with self.lock:
            self.failures.append(_Failure(prefix, status, times, retry_after, body))

    def slow(self, prefix: str, seconds: float) -> None:
        """Makes calls whose path starts with `prefix` wait `seconds` before answering
        (0: answer at once again)."""
        with self.lock:
            self.delays[prefix] = seconds

    def heal(self) -> None:
        """Ends every failure set with `fail`."""
        with self.lock:
            self.failures.clear()

    def add_contact(self, contact_id: str, **properties: str | None) -> None:
        """Adds a HubSpot contact."""
        with self.lock:
            self.contacts[contact_id] = {"hs_object_id": contact_id, **properties}

    def add_owner(self, owner_id: str, email: str, first: str = "", last: str = "") -> None:
        """Adds a HubSpot owner (a user who can own records)."""
        with self.lock:
            self.owners.append(
                {
                    "id": owner_id,
                    "email": email,
                    "type": "PERSON",
                    "firstName": first,
                    "lastName": last,
                    "userId": int(owner_id) + 1,
                    "archived": False,
                }
            )

    def add_deal(self, deal_id: str, contacts: list[str], **properties: str) -> None:
        """Adds a HubSpot deal associated with contacts."""
        with self.lock:
            self.deals[deal_id] = {"properties": dict(properties), "contacts": contacts}

    def add_sf_lead(self, lead_id: str, **fields: Any) -> None:
        """Adds a Salesforce Lead."""
        with self.lock:
            self.sf_leads[lead_id] = {"Id": lead_id, "Status": "Open - Not Contacted", **fields}

    def add_sf_user(self, user_id: str, email: str) -> None:
        """Adds an active Salesforce user."""
        with self.lock:
            self.sf_users[email.lower()] = user_id

    def expire_salesforce_tokens(self) -> None:
        """Ends every Salesforce session: the next call answers 401 INVALID_SESSION_ID."""
        with self.lock:
            self.sf_tokens.clear()

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        """Gets the calls whose method is `method` and whose path matches `pattern`."""
        with self.lock:
            return [c for c in self.calls if c.method == method and re.search(pattern, c.path)]

    # Answers.

    def answer(self, call: Call) -> tuple[int, dict[str, str], Any]:
        """Answers a call as the vendor would, or as a switch says."""
        with self.lock:
            self.calls.append(call)
            wait = max((s for p, s in self.delays.items() if call.path.startswith(p)), default=0)
        if wait:
            time.sleep(wait)
        with self.lock:
            failure = next((f for f in self.failures if call.path.startswith(f.prefix)), None)
            if failure is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return failure.status, headers, failure.body or _error_body(call.path, failure.status)
        if call.path.startswith("/hooks/"):
            with self.lock:
                self.received.setdefault(call.path.removeprefix("/hooks/"), []).append(call)
            return 204, {}, None
        if call.path == "/services/oauth2/token":
            return token_answer(self, call)
        if call.path.startswith("/services/data/"):
            return salesforce_answer(self, call)
        if call.path.startswith("/crm/"):
            return hubspot_answer(self, call)
        return 404, {}, {"status": "error", "message": f"no route {call.path}"}


def _error_body(path: str, status: int) -> Any:
    if path.startswith("/services"):
        if status == 503:
            return [{"errorCode": "SERVER_UNAVAILABLE", "message": "Server unavailable"}]
        return [{"errorCode": f"HTTP_{status}", "message": f"HTTP {status}"}]
    if status == 429:
        return {
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": "3f5a0c1e-0000-4000-8000-standin00002",
            "policyName": "TEN_SECONDLY_ROLLING",
            "category": "RATE_LIMITS",
        }
    return hs_error(f"HTTP {status}", "INTERNAL_ERROR" if status >= 500 else "VALIDATION_ERROR")


class _Handler(BaseHTTPRequestHandler):
    standin: CrmStandIn

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read the calls instead

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        kind = self.headers.get("content-type", "")
        body: Any = None
        if raw and "json" in kind:
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                body = raw.decode(errors="replace")
        elif raw and "form" in kind:
            body = dict(parse_qsl(raw.decode()))
        elif raw:
            body = raw.decode(errors="replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        if parts.path.startswith("/hooks/"):
            headers["raw-body"] = raw.decode(errors="replace")
        call = Call(self.command, parts.path, dict(parse_qsl(parts.query)), headers, body)
        status, extra, answer = self.standin.answer(call)
        data = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _handle
