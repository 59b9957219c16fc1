"""The HTTP app: intake API and health. Built by `create_api`; served by uvicorn.

Errors are plain JSON a client can act on: 401 for a missing or wrong token, 413 for a
body over 1 MiB, 422 with each bad field named, 404 for an activity of an unknown lead.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, QueuePool
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.config import HubSpotConfig, SlaConfig, TeamConfig
from bot.handoffs.inputs import LeadIn, OutcomeIn, StandaloneActivityIn, field_errors
from bot.handoffs.intake import Context, UnknownLead, ingest_activity, ingest_leads
from bot.handoffs.outcomes import record
from bot.runtime.batch import add_batch_route
from bot.runtime.problems import REFUSALS, UNKNOWN_LEAD, HealthRefusal
from bot.runtime.webhooks import add_webhook_routes
from scoring import ScoringRules
from store.db import is_sqlite
from store.dead_letters import health
from store.health import probe_write
from store.lease import lease_state

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 1.5  # /healthz answers within 2 s, whatever holds the database
TRANSIENT_TRIES = 3  # tries of a request's transaction when the database error is transient
RETRY_AFTER_S = 5  # what a 503 tells the client to wait
MAX_GUESS_DELAY_S = 2.0  # the longest a wrong token's answer waits
GUESS_MEMORY_S = 600.0  # wrong tokens are counted per address over this quiet spell

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
    sla: SlaConfig | None = None
    # Signed webhooks in: HubSpot's (with [crm.hubspot] and HUBSPOT_CLIENT_SECRET) and
    # Standard Webhooks to /webhooks/leads (HANDOFF_WEBHOOK_SECRET).
    hubspot: HubSpotConfig | None = None
    hubspot_secret: str | None = None
    webhook_secret: str | None = None


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


def database_workers(engine: Engine) -> int:
    """Gets how many requests may work on the database at once: SQLite takes one writer
    at a time (see store.db), PostgreSQL as many as the connection pool holds."""
    if is_sqlite(engine):
        return 1
    pool = engine.pool
    return pool.size() if isinstance(pool, QueuePool) else 5


def create_api(state: AppState) -> FastAPI:
    """Builds the HTTP app around shared state."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Database work runs on this executor, not on the framework's shared thread pool:
        # waiting requests queue on the event loop instead of as blocked threads
        # contending for the GIL and the connection, which kept p99 latency high.
        workers = database_workers(state.engine)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="db") as executor:
            app.state.executor = executor
            yield

    app = FastAPI(title="Lead hand-off", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.handoff = state
    app.state.guesses = Guesses()
    app.add_middleware(BodyLimit)
    app.add_exception_handler(RequestValidationError, _invalid_body)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(UnknownLead, _unknown_lead)  # type: ignore[arg-type]
    app.add_exception_handler(OperationalError, _database_busy)  # type: ignore[arg-type]
    _routes(app)
    return app


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.handoff
    return state


def _token_ok(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    # Constant-time comparison: response time must not tell how much of a guess was right.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), _state(request).api_token.encode()
    )


# Dependencies are `async` on purpose: FastAPI runs a sync dependency in its thread pool,
# and these do no I/O, so a thread hop per dependency would cost more than the work.
async def _authorised(request: Request) -> AppState:
    if not _token_ok(request):
        raise _Unauthorised
    return _state(request)


class Guesses:
    """Wrong tokens per client address: after a few, each answer waits longer (doubling up
    to MAX_GUESS_DELAY_S), so guessing is slow; an address forgotten after a quiet spell."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[int, float]] = {}

    def delay(self, address: str) -> float:
        """Counts a wrong token from `address`; gets how long to wait before answering."""
        now = time.monotonic()
        count, last = self.seen.get(address, (0, now))
        count = 1 if now - last > GUESS_MEMORY_S else count + 1
        if len(self.seen) >= 10_000:  # a bounded memory, whatever the traffic
            self.seen.clear()
        self.seen[address] = (count, now)
        free = 3
        return 0.0 if count <= free else min(0.1 * 2 ** (count - free - 1), MAX_GUESS_DELAY_S)


class _Unauthorised(Exception):
    pass


Authorised = Annotated[AppState, Depends(_authorised)]


def _routes(app: FastAPI) -> None:
    @app.exception_handler(_Unauthorised)
    async def _unauthorised(request: Request, _exc: _Unauthorised) -> JSONResponse:
        return await _refused(request)

    @app.post("/api/leads", responses=REFUSALS)
    async def post_lead(request: Request, lead: LeadIn, state: Authorised) -> JSONResponse:
        """Takes in one lead (and its activities); scores it; hands it off if it qualifies."""

        def work(session: Session, context: Context) -> dict[str, Any]:
            (outcome,) = ingest_leads(session=session, leads=[lead], context=context)
            return outcome.to_response()

        answer = await _in_transaction(request, state, work)
        _wake_if_handed_off(request, answer)
        return JSONResponse(answer)

    @app.post("/api/activities", responses={**REFUSALS, **UNKNOWN_LEAD})
    async def post_activity(
        request: Request, activity: StandaloneActivityIn, state: Authorised
    ) -> JSONResponse:
        """Adds one activity to a known lead and re-scores it."""

        def work(session: Session, context: Context) -> dict[str, Any]:
            outcome = ingest_activity(session=session, activity_in=activity, context=context)
            return {**outcome.to_response(), "added": outcome.activities_added > 0}

        answer = await _in_transaction(request, state, work)
        _wake_if_handed_off(request, answer)
        return JSONResponse(answer)

    @app.post("/api/outcomes", responses={**REFUSALS, **UNKNOWN_LEAD})
    async def post_outcome(request: Request, outcome: OutcomeIn, state: Authorised) -> JSONResponse:
        """Records what became of a lead (opportunity, closed-won, closed-lost); sending
        the same outcome again changes nothing."""

        def work(session: Session, context: Context) -> dict[str, Any]:
            unknown = record(session=session, outcomes=[outcome], now=context.now)
            if unknown:
                raise UnknownLead(
                    f"no lead {outcome.lead_external_id!r} from {outcome.source_system!r}: "
                    "post the lead to /api/leads first"
                )
            return {
                "source_system": outcome.source_system,
                "lead_external_id": outcome.lead_external_id,
                "stage": outcome.stage,
                "recorded": True,
            }

        return JSONResponse(await _in_transaction(request, state, work))

    add_batch_route(app, _in_transaction, _authorised, _wake_if_handed_off)
    _health(app)
    add_webhook_routes(app, _in_transaction)


def _health(app: FastAPI) -> None:
    @app.get(
        "/healthz",
        responses={503: {"model": HealthRefusal, "description": "the database cannot be written"}},
    )
    async def healthz(request: Request) -> JSONResponse:
        """Tells whether the app can write to its database (a write rolled back, within
        2 seconds), how the Slack outbox stands (dead and overdue entries), and which
        process holds the worker lease, since when, and how long ago it renewed it."""
        state = _state(request)

        def check() -> tuple[dict[str, Any], dict[str, Any] | None]:
            probe_write(state.engine, timeout_s=HEALTH_TIMEOUT_S)
            now = state.clock()
            with Session(state.engine) as session:
                lease = lease_state(session=session)
                return health(session=session, now=now), None if lease is None else lease.report(
                    now
                )

        loop = asyncio.get_running_loop()
        try:
            outbox, worker = await asyncio.wait_for(
                loop.run_in_executor(None, check), timeout=HEALTH_TIMEOUT_S + 0.5
            )
        except (SQLAlchemyError, sqlite3.Error, TimeoutError) as exc:
            log.warning("health check: database cannot be written: %r", exc)
            body = {"status": "error", "database": "cannot be written"}
            return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
        # No live worker: no reminder, no card and no digest goes out.
        stalled = worker is None or worker["expired"]
        status = "degraded" if outbox["dead"] or outbox["overdue"] or stalled else "ok"
        return JSONResponse(
            {"status": status, "database": "ok", "outbox": outbox, "worker": worker}
        )


def _wake_if_handed_off(request: Request, answer: dict[str, Any]) -> None:
    """Wakes this process's worker (if it runs one) when a hand-off is open: its card and
    CRM writes go out now, not at the next tick."""
    wake = getattr(request.app.state, "wake_sender", None)
    if wake is not None and answer.get("handoff"):
        wake()


async def _in_transaction(
    request: Request, state: AppState, work: Callable[[Session, Context], dict[str, Any]]
) -> dict[str, Any]:
    """Runs `work` in one transaction on the database executor; gets its result."""

    def once() -> dict[str, Any]:
        context = Context(rules=state.rules, team=state.team, now=state.clock(), sla=state.sla)
        with Session(state.engine, expire_on_commit=False) as session:
            result = work(session, context)
            session.commit()
        return result

    def run() -> dict[str, Any]:
        # A deadlock, a serialization failure or a dropped connection is retried here a
        # few times, before anything is answered: the client sees one 200, or one 503.
        for attempt in range(1, TRANSIENT_TRIES + 1):
            try:
                return once()
            except OperationalError as exc:
                if attempt == TRANSIENT_TRIES or not _transient(exc):
                    raise
                log.info("Retrying a request after a transient database error: %s", exc.orig)
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    executor: ThreadPoolExecutor = request.app.state.executor
    return await asyncio.get_running_loop().run_in_executor(executor, run)


async def _refused(request: Request) -> JSONResponse:
    """401, after a wait that grows with the wrong tokens this address sent lately."""
    address = request.client.host if request.client else "unknown"
    wait = request.app.state.guesses.delay(address)
    log.warning(
        "Refused %s %s from %s: missing or wrong API token",
        request.method,
        request.url.path,
        address,
    )
    if wait:
        await asyncio.sleep(wait)
    return JSONResponse(
        {"detail": UNAUTHORISED}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
    )


async def _invalid_body(request: Request, exc: RequestValidationError) -> JSONResponse:
    if request.url.path.startswith("/api/") and not _token_ok(request):
        return await _refused(request)  # who asks comes before what they sent
    errors = field_errors(exc.errors())
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return JSONResponse({"detail": f"invalid request body: {summary}", "errors": errors}, 422)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """FastAPI's own refusals: a body it cannot decode (400) is reported after the token
    is checked, and says what to send."""
    if exc.status_code == 400 and request.url.path.startswith("/api/"):
        if not _token_ok(request):
            return await _refused(request)
        detail = "the request body is not JSON text in UTF-8: send a JSON object"
        return JSONResponse({"detail": detail}, status_code=400)
    return await http_exception_handler(request, exc)


def _transient(exc: OperationalError) -> bool:
    """Tells whether retrying the transaction may succeed: PostgreSQL's deadlock and
    serialization failures, and dropped connections. (SQLite's "database is locked" comes
    after its busy timeout has waited already: not retried.)"""
    code = getattr(exc.orig, "sqlstate", None) or ""
    return code in ("40001", "40P01") or code.startswith("08") or exc.connection_invalidated


async def _database_busy(request: Request, exc: OperationalError) -> JSONResponse:
    """The database is locked, read-only, full or down: 503, to be tried again, with what
    happened (the request changed nothing)."""
    log.warning(
        "Refused %s %s: database unavailable: %s", request.method, request.url.path, exc.orig
    )
    body = {
        "detail": "the database cannot take this now (locked, read-only, full or down); "
        "nothing was stored: send it again later",
    }
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})


async def _unknown_lead(_request: Request, exc: UnknownLead) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)
