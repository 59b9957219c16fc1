"""Signed webhooks in: HubSpot's events at /webhooks/hubspot (its v3 signature) and leads
or activities at /webhooks/leads (Standard Webhooks, e.g. from a Salesforce Flow).

Each is checked before its body is read as anything; a refusal is one log line. HubSpot's
batch is stored (each event once, by its id) and answered at once; the worker takes the
events in. A signed lead is taken in like a POST to /api/leads.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlmodel import Session
from standardwebhooks import Webhook, WebhookVerificationError

from bot.crm.hubspot import request_problem
from bot.handoffs.inputs import LeadIn, StandaloneActivityIn, field_errors
from bot.handoffs.intake import Context, ingest_activity, ingest_leads
from store.models import NotificationKind
from store.outbox import OutboxEntry, claim_notification, enqueue

if TYPE_CHECKING:
    from bot.runtime.api import AppState

log = logging.getLogger(__name__)

MAX_EVENTS = 1000  # HubSpot sends up to 100 a batch
InTransaction = Callable[
    [Request, "AppState", Callable[[Session, Context], dict[str, Any]]],
    Awaitable[dict[str, Any]],
]


def add_webhook_routes(app: FastAPI, in_transaction: InTransaction) -> None:
    """Adds the two webhook routes (vendors call them: not in the API's schema)."""

    @app.post("/webhooks/hubspot", include_in_schema=False)
    async def hubspot_webhook(request: Request) -> JSONResponse:
        return await _hubspot_webhook(request, in_transaction)

    @app.post("/webhooks/leads", include_in_schema=False)
    async def signed_lead(request: Request) -> JSONResponse:
        return await _signed_lead(request, in_transaction)


async def _hubspot_webhook(request: Request, in_transaction: InTransaction) -> JSONResponse:
    """Checks HubSpot's signature, then stores each new event of the batch."""
    state: AppState = request.app.state.handoff
    if state.hubspot is None or not state.hubspot_secret:
        return _no(
            404,
            "HubSpot webhooks are not set up here: add [crm.hubspot] to the "
            "config and set HUBSPOT_CLIENT_SECRET",
        )
    body = await request.body()
    uri = _signed_uri(state.hubspot.public_url, request)
    problem = request_problem(
        secret=state.hubspot_secret,
        method=request.method,
        uri=uri,
        body=body,
        headers=request.headers,
        now=state.clock(),
    )
    if problem:
        return _refuse(request, problem)
    events = _events(body)
    if isinstance(events, str):
        return _no(400, events)

    def work(session: Session, context: Context) -> dict[str, Any]:
        new = []
        for event in events:
            key = f"hubspot:{event['eventId']}:{event.get('occurredAt', '')}"
            if claim_notification(
                session=session,
                key=key[:200],
                kind=NotificationKind.CRM_EVENT,
                handoff_id=None,
                level=0,
                now=context.now,
            ):
                new.append(OutboxEntry.hubspot_event(event=event))
        enqueue(session=session, entries=new, now=context.now)
        return {"received": len(events), "new": len(new)}

    return JSONResponse(await in_transaction(request, state, work))


async def _signed_lead(request: Request, in_transaction: InTransaction) -> JSONResponse:
    """Checks the Standard Webhooks signature, then takes the lead or activity in."""
    state: AppState = request.app.state.handoff
    if not state.webhook_secret:
        return _no(404, "signed webhooks are not set up here: set HANDOFF_WEBHOOK_SECRET")
    body = await request.body()
    try:
        Webhook(state.webhook_secret).verify(body, dict(request.headers), json_parse=False)
    except WebhookVerificationError as exc:
        return _refuse(request, str(exc))
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _no(400, "the body is not JSON: send a lead or an activity as /api/ takes them")
    try:
        if isinstance(data, dict) and "lead_external_id" in data:
            activity = StandaloneActivityIn.model_validate(data)
            work = _activity_work(activity)
        else:
            lead = LeadIn.model_validate(data)
            work = _lead_work(lead)
    except ValidationError as exc:
        errors = field_errors(exc.errors())
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        body_out = {"detail": f"invalid webhook body: {summary}", "errors": errors}
        return JSONResponse(body_out, status_code=422)
    answer = await in_transaction(request, state, work)
    wake = getattr(request.app.state, "wake_sender", None)
    if wake is not None and answer.get("handoff"):
        wake()  # its card goes out now, not at the next tick
    return JSONResponse(answer)


def _lead_work(lead: LeadIn) -> Callable[[Session, Context], dict[str, Any]]:
    def work(session: Session, context: Context) -> dict[str, Any]:
        (outcome,) = ingest_leads(session=session, leads=[lead], context=context)
        return outcome.to_response()

    return work


def _activity_work(activity: StandaloneActivityIn) -> Callable[[Session, Context], dict[str, Any]]:
    def work(session: Session, context: Context) -> dict[str, Any]:
        outcome = ingest_activity(session=session, activity_in=activity, context=context)
        return {**outcome.to_response(), "added": outcome.activities_added > 0}

    return work


def _signed_uri(public_url: str | None, request: Request) -> str:
    """Gets the URI HubSpot signed: the configured public URL of this route (what HubSpot
    called, behind any proxy), else the URL of the request."""
    if public_url is None:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return public_url + query


def _events(body: bytes) -> list[dict[str, Any]] | str:
    """Reads HubSpot's batch: a JSON array of events, each with an eventId and a type;
    gets the events, or what is wrong with them."""
    try:
        events = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "the body is not JSON"
    if not isinstance(events, list) or len(events) > MAX_EVENTS:
        return f"the body is not a JSON array of at most {MAX_EVENTS} events"
    for number, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("eventId"), int | str):
            return f"event [{number}] has no eventId"
        if not isinstance(event.get("subscriptionType"), str) or "objectId" not in event:
            return f"event [{number}] has no subscriptionType or objectId"
    return events


def _refuse(request: Request, why: str) -> JSONResponse:
    address = request.client.host if request.client else "unknown"
    log.warning("Refused %s %s from %s: %s", request.method, request.url.path, address, why)
    return _no(401, f"invalid signature: {why}")


def _no(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)
