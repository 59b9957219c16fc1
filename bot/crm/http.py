"""What every CRM and webhook call shares: one error type that says whether to wait,
retry or give up, read from the answer the way each vendor words it.

- HubSpot: `{"status": "error", "message", "category", "correlationId", ...}`
  (https://developers.hubspot.com/docs/api-reference/latest/error-handling);
- Salesforce: `[{"errorCode", "message", "fields"}]`
  (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm);
- a webhook receiver: its status and the start of its body.
"""

from __future__ import annotations

import json
import math
from typing import Any

import httpx

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# HubSpot's 429 carries no Retry-After; its limits are per rolling 10 seconds.
DEFAULT_RATE_WAIT_S = 10.0
DAILY_LIMIT_WAIT_S = 3600.0
TRANSIENT_STATUSES = {408, 423, 425, 500, 502, 503, 504, 520, 521, 522, 523, 524}


class CrmError(Exception):
    """A CRM or webhook call that failed: `retry_after` set when the service said to wait
    (a rate limit), `permanent` when retrying cannot help (with `hint`: what to fix)."""

    def __init__(
        self,
        code: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        permanent: bool = False,
        hint: str = "",
    ) -> None:
        super().__init__(f"{code}: {hint}" if hint else code)
        self.code, self.status = code, status
        self.retry_after, self.permanent, self.hint = retry_after, permanent, hint


def send(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Makes a call; a timeout or a refused or broken connection is a transient CrmError."""
    try:
        return client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise CrmError("timeout", hint=f"{method} {url}: no answer in time ({exc!r})") from exc
    except httpx.TransportError as exc:
        raise CrmError("connection_error", hint=f"{method} {url}: {exc!r}") from exc


def refusal(service: str, response: httpx.Response, *, fix: str = "") -> CrmError:
    """Reads a non-2xx answer as a CrmError: a rate limit waits, 5xx and timeouts are
    retried, any other refusal is permanent and says what the service said."""
    code, message = _read(response)
    status = response.status_code
    where = f"{service} answered {status} to {response.request.method} {response.request.url.path}"
    hint = f"{where}: {message}" if message else where
    if status == 429 or code == "REQUEST_LIMIT_EXCEEDED":
        wait = _retry_after(response)
        if wait is None:
            daily = "daily" in message.lower() or code == "REQUEST_LIMIT_EXCEEDED"
            wait = DAILY_LIMIT_WAIT_S if daily else DEFAULT_RATE_WAIT_S
        return CrmError(code or "rate_limited", status=status, retry_after=wait, hint=hint)
    if status in TRANSIENT_STATUSES or status >= 500:
        return CrmError(code or f"http_{status}", status=status, hint=hint)
    if fix:
        hint = f"{hint}. {fix}"
    return CrmError(code or f"http_{status}", status=status, permanent=True, hint=hint)


RETRY_AFTER_MAX_S = 3600.0  # a longer (or absurd) Retry-After waits this long


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    if seconds is None or not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_S)


def _read(response: httpx.Response) -> tuple[str, str]:
    """Gets (error code, message) from an error body of any of the vendors."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "", response.text[:200].strip()
    if isinstance(body, list) and body and isinstance(body[0], dict):  # Salesforce
        first = body[0]
        return str(first.get("errorCode", "")), str(first.get("message", ""))
    if isinstance(body, dict):
        if "error" in body and "error_description" in body:  # OAuth 2.0
            return str(body["error"]), str(body["error_description"])
        code = body.get("category") or body.get("errorType") or body.get("error") or ""
        return str(code), str(body.get("message", ""))[:500]
    return "", str(body)[:200]
