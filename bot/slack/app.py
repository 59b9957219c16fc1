"""The Bolt app: built by `create_app`, served at POST /slack/events (or over Socket Mode).

No listener is decorated at import time: `create_app` builds everything and each
listener module registers itself. What listeners need (the database, the config, the
clock, the sender to wake) reaches them through Bolt's context, put there by one
middleware.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.slack.deps import Deps
from bot.slack.listeners import commands, feedback, home
from bot.slack.listeners import decisions as listeners
from bot.slack.once import ONCE, first_time

log = logging.getLogger(__name__)
LISTENERS = 32  # Bolt's listener threads: a click holds one to ack, then waits for its work


def create_app(*, client: WebClient, signing_secret: str, deps: Deps) -> App:
    """Builds the Bolt app and registers every listener."""
    app = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=False,
        # A listener keeps its thread after the ack while its work waits its turn
        # (bot.slack.once.button); with Bolt's default of 5 threads, the 6th click of a
        # burst would wait for a thread before it could even ack.
        listener_executor=ThreadPoolExecutor(max_workers=LISTENERS, thread_name_prefix="slack"),
    )

    @app.middleware
    def add_deps(context: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
        context["deps"] = deps
        return next()

    @app.middleware
    def once(
        req: BoltRequest, context: dict[str, Any], next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        """A request Slack sent before (an event redelivered with X-Slack-Retry-Num, or the
        same interaction replayed) is answered without doing its work again. A button's
        check waits until its listener has acked (`repeated`): a write before the ack
        would queue the ack behind every other click's decision for the database."""
        if (req.body or {}).get("type") == "block_actions":
            context[ONCE] = partial(first_time, deps.engine, req, deps.clock())
            return next()
        if not first_time(deps.engine, req, deps.clock()):
            log.info("Ignored a repeated Slack request (%s)", req.body.get("type"))
            return BoltResponse(status=200, body="")
        return next()

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.exception("Slack listener failed on a %s payload: %s", body.get("type"), error)

    # Bolt logs a refused request's whole body at INFO (hundreds of kB from a scanner):
    # `mount` refuses those first, in one line.
    logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)
    listeners.register(app)
    feedback.register(app)
    home.register(app)
    commands.register(app)
    return app


def mount(api: FastAPI, app: App, *, signing_secret: str, path: str = "/slack/events") -> None:
    """Serves the Bolt app from the FastAPI app. The signature is checked before the body
    is parsed (a forged or broken request is refused without being read as JSON), then
    Bolt checks it again; a body Slack would never send is a 400, never a 500."""
    verifier = SignatureVerifier(signing_secret)

    @api.post(path, include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        if not verifier.is_valid_request(body, dict(request.headers)):
            # One line, never the body: it may be large, or carry what it should not.
            log.warning(
                "Refused %s %s: invalid or missing Slack signature (%d bytes)",
                request.method,
                request.url.path,
                len(body),
            )
            return JSONResponse({"error": "invalid request"}, status_code=401)
        try:
            bolt_request = to_bolt_request(request, body)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # not Slack's shape
            log.warning("Refused %s %s: unreadable body (%s)", request.method, path, exc)
            return JSONResponse({"error": "unreadable body"}, status_code=400)
        # Listeners make blocking calls (database, Web API): dispatch off the event loop.
        bolt_response = await asyncio.get_running_loop().run_in_executor(
            None, app.dispatch, bolt_request
        )
        return to_starlette_response(bolt_response)


def start_socket_mode(app: App, app_token: str) -> Any:
    """Connects the app to Slack over Socket Mode (no public URL needed); gets the handler
    (call `.close()` to disconnect)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token)
    handler.connect()  # type: ignore[no-untyped-call]
    return handler
