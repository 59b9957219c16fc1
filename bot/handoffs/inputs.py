"""What intake accepts: the bodies of POST /api/leads and /api/activities, and CSV rows.

One model for every path in, so the API and `handoff import` agree on what is valid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from bot.config.tomllines import dotted

MAX_ACTIVITIES = 1000


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _id_text(value: Any) -> Any:
    # CRMs send numeric ids (HubSpot's are numbers); they are ids, not quantities.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


# Optional text fields: blank means absent; longer than the column is an error.
Text100 = Annotated[
    Annotated[str, StringConstraints(max_length=100)] | None, BeforeValidator(_blank_to_none)
]
Text200 = Annotated[
    Annotated[str, StringConstraints(max_length=200)] | None, BeforeValidator(_blank_to_none)
]
Text300 = Annotated[
    Annotated[str, StringConstraints(max_length=300)] | None, BeforeValidator(_blank_to_none)
]
Email = Annotated[
    Annotated[str, StringConstraints(max_length=320)] | None, BeforeValidator(_blank_to_none)
]


def _number(value: Any) -> Any:
    """Blank (null, "", spaces) is unknown; true/false is not a number."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return _blank_to_none(value)


# A head count: blank is unknown. The constraint sits on the number itself, never on the
# None a blank becomes (pydantic refuses to compare None with a bound).
MAX_EMPLOYEES = 10_000_000  # the largest employers have about 2 million
Employees = Annotated[
    Annotated[int, Field(ge=0, le=MAX_EMPLOYEES)] | None, BeforeValidator(_number)
]
# An amount of money: finite and not negative; blank is unknown.
Amount = Annotated[
    Annotated[float, Field(ge=0, allow_inf_nan=False)] | None, BeforeValidator(_number)
]


# An id as the schema publishes it: text with something besides spaces, or a number.
_ID_SCHEMA = {
    "anyOf": [{"type": "string", "pattern": "\\S", "maxLength": 255}, {"type": "integer"}]
}
ExternalId = Annotated[
    str,
    BeforeValidator(_id_text),
    StringConstraints(min_length=1, max_length=255),
    WithJsonSchema(_ID_SCHEMA),
]
# An activity's own id: blank or absent means "derive one from kind and time".
OptionalId = Annotated[
    ExternalId | None,
    BeforeValidator(_blank_to_none),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "maxLength": 255}, {"type": "integer"}, {"type": "null"}]}
    ),
]


def _aware(value: datetime) -> datetime:
    """Takes a time without an offset as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-12:00 is past the year 9999 in UTC
        raise ValueError("is out of range once converted to UTC") from None


def _not_a_number(value: Any) -> Any:
    """A time is written as ISO 8601: a bare number (0, 1700000000) is refused, not read
    as seconds since 1970."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("must be an ISO 8601 date-time, not a number")
    return value


Instant = Annotated[datetime, BeforeValidator(_not_a_number)]
_PLAIN = (int, bool, datetime)  # types that hold neither text nor a float


def storable(value: Any, where: str = "") -> Any:
    """Checks that a value can be stored as given, in text and JSON columns of both
    databases: no NUL character in any text, no NaN or infinite number, at any depth."""
    kind = type(value)
    if value is None or kind in _PLAIN or (kind is str and "\x00" not in value):
        return value  # the usual values, told at once (this runs for every field of a row)
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(f"{where + ': ' if where else ''}contains a NUL character (\\u0000)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where + ': ' if where else ''}must be a finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            storable(str(key), f"{where}.{key}" if where else str(key))
            storable(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            storable(item, f"{where}[{index}]")
    return value


class ActivityIn(BaseModel):
    """One activity of a lead. Without an `id`, one is derived from kind and time, so a
    replayed event is still recognised."""

    model_config = ConfigDict(extra="forbid")

    id: OptionalId = None
    kind: str = Field(min_length=1, max_length=100)
    occurred_at: Instant
    properties: dict[str, Any] = {}

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return value if isinstance(value, BaseModel) else storable(value)

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _aware(value)

    def event_id(self) -> str:
        """Gets the id that makes this activity unique for its lead."""
        return self.id or f"{self.kind}@{self.occurred_at.isoformat()}"

    def row(self) -> dict[str, Any]:
        """Gets the values to store."""
        return {
            "external_id": self.event_id(),
            "kind": self.kind,
            "occurred_at": self.occurred_at,
            "properties": self.properties,
        }


class LeadIn(BaseModel):
    """A lead as posted to /api/leads. Unknown top-level keys become attributes."""

    model_config = ConfigDict(extra="allow")

    source_system: str = Field(min_length=1, max_length=100)
    external_id: ExternalId
    email: Email = None
    first_name: Text200 = None
    last_name: Text200 = None
    title: Text300 = None
    company: Text300 = None
    employees: Employees = None
    industry: Text200 = None
    country: Text100 = None
    source: Text200 = None
    attributes: dict[str, Any] = {}
    activities: list[ActivityIn] = Field(default=[], max_length=MAX_ACTIVITIES)

    @field_validator("source_system", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return (
            value
            if isinstance(value, list) and value and isinstance(value[0], BaseModel)
            else storable(value)
        )

    @model_validator(mode="after")
    def _extras_are_attributes(self) -> Self:
        extra = self.model_extra or {}
        if extra:
            storable(extra)  # unknown keys become attributes: they must be storable too
            self.attributes = {**extra, **self.attributes}
            extra.clear()
        return self

    def values(self) -> dict[str, Any]:
        """Gets the lead's stored fields (those given in the request only, so a partial
        update leaves the other fields as they were)."""
        given = self.model_fields_set - {"source_system", "external_id", "activities"}
        known = type(self).model_fields
        values = {name: getattr(self, name) for name in given if name in known}
        if self.attributes:
            values["attributes"] = self.attributes
        return values


class StandaloneActivityIn(ActivityIn):
    """An activity posted on its own to /api/activities, naming its lead."""

    source_system: str = Field(min_length=1, max_length=100)
    lead_external_id: ExternalId


class OutcomeIn(BaseModel):
    """What became of a lead, as posted to /api/outcomes or read from an outcomes CSV."""

    model_config = ConfigDict(extra="forbid")

    source_system: str = Field(min_length=1, max_length=100)
    lead_external_id: ExternalId
    stage: Literal["opportunity", "closed_won", "closed_lost"]
    amount: Amount = None

    occurred_at: Instant

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable(value)

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _aware(value)

    @property
    def key(self) -> tuple[str, str]:
        """Gets the lead's (source_system, external_id)."""
        return (self.source_system, self.lead_external_id)


def field_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Gets each of pydantic's (or FastAPI's) errors as
    {"field": "activities[0].occurred_at", "message": "..."}."""
    return [
        {"field": "(body)", "message": _not_json(item)}
        if item.get("type") == "json_invalid"
        else {"field": field_name(item["loc"]), "message": clean_message(item)}
        for item in errors
    ]


def _not_json(item: Any) -> str:
    """Says where a body that is not JSON went wrong (the error's position, not a field)."""
    reason = (item.get("ctx") or {}).get("error")
    at = item["loc"][-1] if item.get("loc") else None
    where = f" at character {at}" if isinstance(at, int) else ""
    return f"the body is not valid JSON{where}" + (f": {reason}" if reason else "")


def field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """Writes an error location as `activities[0].occurred_at` (FastAPI's "body" dropped)."""
    return dotted([part for part in loc if part != "body"]) or "(body)"


def clean_message(item: Any) -> str:
    """Gets pydantic's message without its "Value error, " prefixes."""
    kind = str(item["type"])
    if kind == "missing":
        return "required"
    if kind in ("too_short", "string_too_short") and item.get("ctx", {}).get("min_length") == 1:
        return "must not be empty"
    message = str(item["msg"]).removeprefix("Value error, ")
    if kind.startswith(("datetime", "date_")):
        message += " (use ISO 8601, e.g. 2026-11-23T09:30:00Z)"
    return message
