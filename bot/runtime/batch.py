"""`POST /api/leads/batch`: up to 500 leads in one request and one transaction, with a
result for each. A lead that is not valid is refused on its own (its index, field and
reason); the valid ones are taken in, as POST /api/leads would take each."""

# No `from __future__ import annotations` here: FastAPI reads the route's annotations,
# and the dependency in them is local to add_batch_route.
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session

from bot.handoffs.inputs import LeadIn, field_errors
from bot.handoffs.intake import Context, ingest_leads
from bot.runtime.problems import REFUSALS

if TYPE_CHECKING:
    from bot.runtime.api import AppState

MAX_BATCH = 500

InTransaction = Callable[
    [Request, "AppState", Callable[[Session, Context], dict[str, Any]]],
    Awaitable[dict[str, Any]],
]


class LeadBatchIn(BaseModel):
    """A batch of leads, each as POST /api/leads takes one."""

    leads: Annotated[
        list[dict[str, Any]],
        Field(
            min_length=1,
            max_length=MAX_BATCH,
            description="1 to 500 leads, each an object as POST /api/leads takes it",
        ),
    ]


def add_batch_route(
    app: FastAPI,
    in_transaction: InTransaction,
    authorised: Callable[..., Awaitable["AppState"]],
    wake: Callable[[Request, dict[str, Any]], None],
) -> None:
    """Adds POST /api/leads/batch."""

    @app.post("/api/leads/batch", responses=REFUSALS)
    async def post_leads(
        request: Request,
        batch: LeadBatchIn,
        state: Annotated[Any, Depends(authorised)],  # an AppState, once the token is checked
    ) -> JSONResponse:
        """Takes in up to 500 leads in one transaction: each valid one is scored and handed
        off if it qualifies; each invalid one is refused with its index and its errors.
        `accepted + refused` is the number of leads sent; `handed_off` counts the accepted
        leads that opened a hand-off."""
        valid: list[tuple[int, LeadIn]] = []
        results: list[dict[str, Any] | None] = [None] * len(batch.leads)
        for index, body in enumerate(batch.leads):
            try:
                valid.append((index, LeadIn.model_validate(body)))
            except ValidationError as exc:
                errors = field_errors(exc.errors())
                results[index] = {"index": index, "status": "refused", "errors": errors}

        def work(session: Session, context: Context) -> dict[str, Any]:
            leads = [lead for _, lead in valid]
            outcomes = ingest_leads(session=session, leads=leads, context=context) if leads else []
            for (index, _), outcome in zip(valid, outcomes, strict=True):
                results[index] = {"index": index, "status": "accepted", **outcome.to_response()}
            return {}

        await in_transaction(request, state, work)
        done = [r for r in results if r is not None]
        handed_off = sum(1 for r in done if r.get("handoff"))
        answer = {
            "accepted": len(valid),
            "refused": len(done) - len(valid),
            "handed_off": handed_off,
            "results": done,
        }
        wake(request, {"handoff": handed_off or None})
        return JSONResponse(answer)
