"""What the HTTP API answers when it refuses a request, as its OpenAPI schema promises:
each refusal's status, meaning and body."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class FieldProblem(BaseModel):
    """One refused field: where it is in the body ("leads[0].employees") and why."""

    field: str
    message: str


class Problem(BaseModel):
    """Why a request was refused; `errors` lists each refused field (422 only)."""

    detail: str
    errors: list[FieldProblem] | None = None


class HealthRefusal(BaseModel):
    """/healthz when the database cannot be written."""

    status: str
    database: str


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


# What every /api/ route may answer besides 200, as the schema promises it.
REFUSALS: dict[int | str, dict[str, Any]] = {
    400: _problem("the body is not JSON text (UTF-8)"),
    401: _problem("missing or wrong API token (the answer is slower after several)"),
    413: _problem("request body over 1 MiB"),
    422: _problem("a field is missing or invalid: `errors` names each one"),
    503: _problem("the database cannot take this now; nothing was stored: see Retry-After"),
}
UNKNOWN_LEAD: dict[int | str, dict[str, Any]] = {404: _problem("no such lead: post it first")}
