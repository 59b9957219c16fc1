"""The local Slack's state: its messages, views, files, users, recorded calls and the
failures a test asked for."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "T0SANDBOX"
BOT_USER = "U0HANDOFFBOT"


@dataclass(frozen=True)
class Call:
    """One Web API call as the sandbox received it."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: float


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None
    times: int


@dataclass
class SandboxState:
    """What the sandbox knows: messages per channel, users, the calls, the failures."""

    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)
    modals: dict[str, dict[str, Any]] = field(default_factory=dict)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    base_url: str = ""
    # Unix time for message timestamps (the demo sets its fast-forwardable clock here).
    now: Callable[[], float] = time.time
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    clock: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    rules: Any = None  # bot.sandbox.slack_rules.Rules, set by the sandbox


class ApiError(Exception):
    """An error answer of Slack's Web API (`{"ok": false, "error": ...}`, with what was
    wrong in `response_metadata.messages`)."""

    def __init__(self, error: str, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []

    def body(self) -> dict[str, Any]:
        """Gets the answer's JSON."""
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


class RateLimited(ApiError):
    """Too many posts to one channel: HTTP 429 with Retry-After."""

    def __init__(self, wait_s: float) -> None:
        super().__init__("ratelimited")
        self.wait_s = wait_s


def json_arg(value: Any) -> Any:
    """Reads a Web API argument that may arrive JSON-encoded (form posts) or as JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value
