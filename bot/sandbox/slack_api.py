"""A local Slack: a real HTTP server on 127.0.0.1 that speaks the Web API methods the app
uses, keeps the messages it is sent, and records every call with its body.

Point the app at it with SLACK_API_URL=http://127.0.0.1:PORT/api/. Tests use its switches
to make Slack misbehave the way it does in production: `fail(method, status=429,
retry_after=1)` for rate limits, `fail(method, status=500)` for outages,
`fail(method, error="channel_not_found")` for errors Slack reports in the body.
No Slack library is used here: it answers the protocol as a client sees it.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from bot.sandbox.slack_methods import METHODS, ephemeral
from bot.sandbox.slack_rules import Channel, Rules, dm_id
from bot.sandbox.slack_state import TEAM_ID, ApiError, Call, RateLimited, SandboxState, _Failure


class SlackSandbox:
    """The server; use as a context manager, or `start()` and `stop()`."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, rate: float | None = 1.0, burst: int = 3
    ) -> None:
        """`rate`: posts a second per channel after a burst of `burst`, beyond which Slack
        answers 429 with Retry-After (None: no limit, for tests that time nothing else)."""
        self.state = SandboxState()
        self.state.rules = Rules(per_second=rate, burst=burst)
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

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        private: bool = False,
        archived: bool = False,
        member: bool = True,
    ) -> None:
        """Adds a channel (any other id is a public channel the app is in)."""
        with self.state.lock:
            self.state.rules.channels[channel_id] = Channel(
                channel_id, name, private, archived, member
            )

    def limit_rate(self, per_second: float | None = 1.0, burst: int = 3) -> None:
        """Refuses posts to a channel beyond `per_second` (after a burst) with 429 and
        Retry-After, as Slack does (the default: 1 a second after 3); None: no limit."""
        with self.state.lock:
            self.state.rules.per_second, self.state.rules.burst = per_second, burst

    def revoke(self, token: str) -> None:
        """Revokes a token: every call with it answers token_revoked."""
        with self.state.lock:
            self.state.rules.revoked.add(token)

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
            ephemeral(self.state, {"channel": channel, "user": user, "text": text})

    def channel(self, channel: str) -> list[dict[str, Any]]:
        """Gets a channel's messages, oldest first (a user id: the app's DM with them)."""
        with self.state.lock:
            return [dict(m) for m in self.state.messages.get(dm_id(channel), [])]

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
                if failure.status == 429 and not failure.retry_after:
                    headers = {"Retry-After": "1"}  # Slack always says how long to wait
                return failure.status, body, headers
            return 200, {"ok": False, "error": failure.error}, headers
        handler = METHODS.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        with self.state.lock:
            try:
                return 200, {"ok": True, **handler(self.state, args)}, {}
            except RateLimited as limited:
                return 429, limited.body(), {"Retry-After": str(max(int(limited.wait_s), 1))}

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
                with self.sandbox.state.lock:
                    self.sandbox.state.rules.check_token(token)
                status, body, headers = self.sandbox.answer(method, args)
            except ApiError as exc:
                status, body = 200, exc.body()
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
