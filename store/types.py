"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones, so the value is stored as
    naive UTC text (which still sorts in time order) and made aware again on the way out.
    A naive datetime is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store times with a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        convert = self.process_bind_param
        last: list[tuple[datetime | None, str | None]] = [(None, None)]

        # One step instead of two (this type's, then SQLite DATETIME's `%`-formatting of
        # every part): bulk inserts bind hundreds of thousands of times. The text is the
        # same as DATETIME's, "YYYY-MM-DD HH:MM:SS.ffffff".
        def process(value: datetime | None) -> str | None:
            seen, text = last[0]
            if value is seen:  # the same object again: the rows of a batch share `now`
                return text
            naive = convert(value, dialect)
            text = None if naive is None else naive.isoformat(" ", "microseconds")
            last[0] = (value, text)
            return text

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        when: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


# JSON everywhere; JSONB on PostgreSQL (indexable, compact).
JSONType = JSON().with_variant(JSONB(), "postgresql")
