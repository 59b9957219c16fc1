"""The HTTP app: intake API and health. Built by `create_api`; served by uvicorn.

Errors are plain JSON a client can act on: 401 for a missing or wrong token, 413 for a
body over 1 MiB, 422 with each bad field named, 404 for an activity of an unknown lead.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.config import TeamConfig
from bot.intake import Context, UnknownLead, ingest_activity, ingest_leads
from bot.intake_models import LeadIn, StandaloneActivityIn, field_errors
from scoring import ScoringRules

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
UNAUTHORISED = "missing or wrong API token: send `Authorization: Bearer $HANDOFF_API_TOKEN`"


@dataclass(frozen=True)
class AppState:
    """What request handlers share: the database, the rules, the team, the token."""

    engine: Engine
    rules: ScoringRules
    team: TeamConfig
    api_token: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


class BodyLimit:
    """Answers 413 to a request body over `limit` bytes, whether it says its length up
    front (Content-Length) or streams it in chunks.

    The body is read here (at most `limit` bytes are held) and replayed to the app, so
    the limit holds before any parsing starts.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await _too_large(self.limit)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await _too_large(self.limit)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        {"detail": f"request body over {limit // 1024} KiB; send fewer leads per request"},
        status_code=413,
    )


def create_api(state: AppState) -> FastAPI:
    """Builds the HTTP app around shared state."""
    app = FastAPI(title="Lead hand-off", docs_url=None, redoc_url=None)
    app.state.handoff = state
    app.add_middleware(BodyLimit)
    app.add_exception_handler(RequestValidationError, _invalid_body)  # type: ignore[arg-type]
    app.add_exception_handler(UnknownLead, _unknown_lead)  # type: ignore[arg-type]
    _routes(app)
    return app


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.handoff
    return state


def _authorised(request: Request) -> AppState:
    state = _state(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    # Constant-time comparison: response time must not tell how much of a guess was right.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), state.api_token.encode()
    ):
        raise _Unauthorised
    return state


class _Unauthorised(Exception):
    pass


def _session(state: Annotated[AppState, Depends(_authorised)]) -> Iterator[Session]:
    with Session(state.engine, expire_on_commit=False) as session:
        yield session


Authorised = Annotated[AppState, Depends(_authorised)]
DbSession = Annotated[Session, Depends(_session)]


def _routes(app: FastAPI) -> None:
    @app.exception_handler(_Unauthorised)
    async def _unauthorised(_request: Request, _exc: _Unauthorised) -> JSONResponse:
        return JSONResponse(
            {"detail": UNAUTHORISED},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.post("/api/leads")
    def post_lead(lead: LeadIn, state: Authorised, session: DbSession) -> dict[str, Any]:
        """Takes in one lead (and its activities); scores it; hands it off if it qualifies."""
        context = Context(rules=state.rules, team=state.team, now=state.clock())
        (outcome,) = ingest_leads(session=session, leads=[lead], context=context)
        session.commit()
        return outcome.to_response()

    @app.post("/api/activities")
    def post_activity(
        activity: StandaloneActivityIn, state: Authorised, session: DbSession
    ) -> dict[str, Any]:
        """Adds one activity to a known lead and re-scores it."""
        context = Context(rules=state.rules, team=state.team, now=state.clock())
        outcome = ingest_activity(session=session, activity_in=activity, context=context)
        session.commit()
        return {**outcome.to_response(), "added": outcome.activities_added > 0}

    @app.get("/healthz")
    def healthz(request: Request) -> JSONResponse:
        """Tells whether the app and its database answer."""
        try:
            with _state(request).engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.warning("health check: database unreachable: %s", exc)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})


async def _invalid_body(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = field_errors(exc.errors())
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return JSONResponse({"detail": f"invalid request body: {summary}", "errors": errors}, 422)


async def _unknown_lead(_request: Request, exc: UnknownLead) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)
