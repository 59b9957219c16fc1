"""A local Slack: a real HTTP server on 127.0.0.1 that speaks the Web API methods the app
uses, keeps the messages it is sent, and records every call with its body.

Point the app at it with SLACK_API_URL=http://127.0.0.1:PORT/api/. Tests use its switches
to make Slack misbehave the way it does in production: `fail(method, status=429,
retry_after=1)` for rate limits, `fail(method, status=500)` for outages,
`fail(method, error="channel_not_found")` for errors Slack reports in the body.
No Slack library is used here: it answers the protocol as a client sees it.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from bot.slack.simulator import trigger_user

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


class SlackSandbox:
    """The server; use as a context manager, or `start()` and `stop()`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = SandboxState()
        # The web page (bot/sandbox/web.py), once `handoff demo` connects the app to it.
        self.web: Any = None
        handler = type("Handler", (_Handler,), {"sandbox": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.state.base_url = self.url.removesuffix("api/")

    @property
    def url(self) -> str:
        """Gets the Web API base URL, as SLACK_API_URL takes it."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    def start(self) -> SlackSandbox:
        """Starts serving in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stops serving."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> SlackSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Makes the next `times` calls of `method` fail: an HTTP status (429 with
        Retry-After, 500…) or, with status 200, `{"ok": false, "error": error}`."""
        with self.state.lock:
            self.state.failures.setdefault(method, []).append(
                _Failure(
                    status, error or ("ratelimited" if status == 429 else None), retry_after, times
                )
            )

    def add_user(self, user_id: str, name: str, tz: str = "America/New_York") -> None:
        """Adds a workspace member (answered by users.info)."""
        with self.state.lock:
            self.state.users[user_id] = {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": name.lower().replace(" ", "."),
                "real_name": name,
                "tz": tz,
                "is_bot": False,
                "deleted": False,
                "profile": {"real_name": name, "display_name": name},
            }

    def calls_to(self, method: str) -> list[Call]:
        """Gets the recorded calls of one method, oldest first."""
        with self.state.lock:
            return [call for call in self.state.calls if call.method == method]

    def home(self, user_id: str) -> dict[str, Any] | None:
        """Gets the App Home view last published for a user."""
        with self.state.lock:
            return self.state.homes.get(user_id)

    def file_bytes(self, file_id: str) -> bytes | None:
        """Gets an uploaded file's content."""
        with self.state.lock:
            found = self.state.files.get(file_id)
            return None if found is None else found.get("content")

    def add_ephemeral(self, *, channel: str, user: str, text: str) -> None:
        """Shows a message to one person only (a slash command's answer)."""
        with self.state.lock:
            _ephemeral(self.state, {"channel": channel, "user": user, "text": text})

    def channel(self, channel: str) -> list[dict[str, Any]]:
        """Gets a channel's messages, oldest first."""
        with self.state.lock:
            return [dict(m) for m in self.state.messages.get(channel, [])]

    # -- the Web API ---------------------------------------------------------------------

    def answer(
        self, method: str, args: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answers one call: (HTTP status, JSON body, extra headers)."""
        failure = self._take_failure(method)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            if failure.status != 200:
                body = {"ok": False, "error": failure.error or "internal_error"}
                return failure.status, body, headers
            return 200, {"ok": False, "error": failure.error}, headers
        handler = _METHODS.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        with self.state.lock:
            return 200, {"ok": True, **handler(self.state, args)}, {}

    def _take_failure(self, method: str) -> _Failure | None:
        with self.state.lock:
            queue = self.state.failures.get(method) or []
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure


def _ts(state: SandboxState) -> str:
    return f"{int(state.now())}.{next(state.clock):06d}"


def _post(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    channel = str(args.get("channel") or "")
    if not channel:
        raise _ApiError("channel_not_found")
    message = {
        "type": "message",
        "user": BOT_USER,
        "bot_id": "B0HANDOFF",
        "ts": _ts(state),
        "text": args.get("text", ""),
        "blocks": _json(args.get("blocks")) or [],
    }
    metadata = _json(args.get("metadata"))
    if metadata:
        message["metadata"] = metadata
    state.messages.setdefault(channel, []).append(message)
    return {"channel": channel, "ts": message["ts"], "message": message}


def _update(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    channel, ts = str(args.get("channel")), str(args.get("ts"))
    for message in state.messages.get(channel, []):
        if message["ts"] == ts:
            message["text"] = args.get("text", message["text"])
            message["blocks"] = _json(args.get("blocks")) or message["blocks"]
            message["edited"] = {"user": BOT_USER, "ts": _ts(state)}
            return {"channel": channel, "ts": ts, "text": message["text"], "message": message}
    raise _ApiError("message_not_found")


def _ephemeral(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    message = {
        "type": "message",
        "ts": _ts(state),
        "channel": str(args.get("channel") or ""),
        "user": str(args.get("user") or ""),
        "text": args.get("text", ""),
        "blocks": _json(args.get("blocks")) or [],
        "is_ephemeral": True,
    }
    state.ephemerals.append(message)
    return {"message_ts": message["ts"]}


def _open_view(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    if not args.get("trigger_id"):
        raise _ApiError("invalid_trigger_id")
    view = _json(args.get("view")) or {}
    opened = {
        **view,
        "id": f"V{next(state.clock):08d}",
        "team_id": TEAM_ID,
        "state": {"values": {}},
        "hash": "sandbox",
    }
    user = trigger_user(str(args["trigger_id"]))
    if user is not None:  # the dialog shows for whoever clicked (the sandbox page reads it)
        state.modals[user] = opened
    return {"view": opened}


def _open_conversation(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    users = sorted(str(args.get("users") or "").split(","))
    return {"channel": {"id": f"D{zlib.crc32(','.join(users).encode()):010d}"}}


def _users_info(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    user = state.users.get(str(args.get("user")))
    if user is None:
        raise _ApiError("user_not_found")
    return {"user": user}


def _history(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    messages = list(reversed(state.messages.get(str(args.get("channel")), [])))
    oldest = float(args.get("oldest") or 0)
    found = [m for m in messages if float(m["ts"]) > oldest][: int(args.get("limit") or 100)]
    return {
        "messages": found,
        "has_more": False,
        "pin_count": 0,
        "channel_actions_ts": None,
        "channel_actions_count": 0,
    }


def _publish_view(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    user = str(args.get("user_id") or "")
    view = _json(args.get("view"))
    if not user:
        raise _ApiError("invalid_arguments")
    if not isinstance(view, dict) or view.get("type") != "home":
        raise _ApiError("invalid_arguments")
    published = {
        **view,
        "id": f"V{next(state.clock):08d}",
        "team_id": TEAM_ID,
        "state": {"values": {}},
        "hash": f"h{next(state.clock)}",
    }
    state.homes[user] = published
    return {"view": published}


def _upload_url(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    filename, length = str(args.get("filename") or ""), int(args.get("length") or 0)
    if not filename or length <= 0:
        raise _ApiError("invalid_arguments")
    file_id = f"F{next(state.clock):08d}"
    state.files[file_id] = {"id": file_id, "name": filename, "length": length, "content": None}
    return {"upload_url": f"{state.base_url}upload/{file_id}", "file_id": file_id}


def _complete_upload(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    requested = _json(args.get("files")) or []
    done = []
    for item in requested:
        found = state.files.get(str(item.get("id")))
        if found is None or found["content"] is None:
            raise _ApiError("file_not_found")
        found["title"] = item.get("title") or found["name"]
        done.append(_file_object(state, found))
    channel = args.get("channel_id")
    if channel:
        message = {
            "type": "message",
            "subtype": "file_share",
            "user": BOT_USER,
            "ts": _ts(state),
            "text": args.get("initial_comment") or "",
            "files": done,
        }
        state.messages.setdefault(str(channel), []).append(message)
    return {"files": [{"id": f["id"], "title": f["title"]} for f in done]}


def _file_object(state: SandboxState, found: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": found["id"],
        "name": found["name"],
        "title": found["title"],
        "mimetype": "image/png" if found["name"].endswith(".png") else "application/octet-stream",
        "size": len(found["content"]),
        "url_private": f"{state.base_url}files/{found['id']}",
    }


def _auth_test(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": "https://sandbox.slack.invalid/",
        "team": "Sandbox",
        "user": "handoff",
        "team_id": TEAM_ID,
        "user_id": BOT_USER,
        "bot_id": "B0HANDOFF",
    }


_METHODS: dict[str, Callable[[SandboxState, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": _auth_test,
    "chat.postMessage": _post,
    "chat.update": _update,
    "chat.postEphemeral": _ephemeral,
    "views.open": _open_view,
    "conversations.open": _open_conversation,
    "users.info": _users_info,
    "conversations.history": _history,
    "views.publish": _publish_view,
    "files.getUploadURLExternal": _upload_url,
    "files.completeUploadExternal": _complete_upload,
}


class _ApiError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


class _Handler(BaseHTTPRequestHandler):
    sandbox: SlackSandbox

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        if self._web("POST", self.rfile.read(length) if path.startswith("/_sandbox/") else b""):
            return
        if path.startswith("/upload/"):  # step 2 of the upload flow: the file's bytes
            self._upload(path.removeprefix("/upload/"), self.rfile.read(length))
            return
        method = path.removeprefix("/api/")
        raw = self.rfile.read(length).decode()
        if "json" in (self.headers.get("Content-Type") or ""):
            args = json.loads(raw or "{}")
        else:
            args = dict(parse_qsl(raw))
        auth = self.headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ").strip() or args.pop("token", None)
        with self.sandbox.state.lock:
            self.sandbox.state.calls.append(Call(method, args, token, time.time()))
        headers: dict[str, str] = {}
        if token is None:
            status, body = 200, {"ok": False, "error": "not_authed"}
        else:
            try:
                status, body, headers = self.sandbox.answer(method, args)
            except _ApiError as exc:
                status, body = 200, {"ok": False, "error": exc.error}
        self._reply(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

    def _web(self, method: str, body: bytes) -> bool:
        """Serves the sandbox's web page and its JSON, where a demo connected one."""
        path = self.path.split("?")[0]
        if self.sandbox.web is None or not (path == "/" or path.startswith("/_sandbox/")):
            return False
        status, content_type, payload = self.sandbox.web.handle(method, self.path, body)
        self._reply(status, payload, content_type)
        return True

    def do_GET(self) -> None:
        if self._web("GET", b""):
            return
        path = self.path.split("?")[0]
        if path.startswith("/files/"):
            content = self.sandbox.file_bytes(path.removeprefix("/files/"))
            if content is None:
                self._reply(404, b"no such file", "text/plain")
            else:
                self._reply(200, content, "image/png")
            return
        self.do_POST()

    def _upload(self, file_id: str, content: bytes) -> None:
        state = self.sandbox.state
        with state.lock:
            state.calls.append(
                Call("upload", {"file_id": file_id, "bytes": len(content)}, None, time.time())
            )
            found = state.files.get(file_id)
            if found is not None and found["length"] == len(content):
                found["content"] = content
        if found is None or found["length"] != len(content):
            self._reply(400, b"unknown upload or wrong length", "text/plain")
            return
        self._reply(200, f"OK - {len(content)}".encode(), "text/plain")

    def _reply(
        self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Stays quiet: calls are recorded, not logged."""
