"""Schemathesis against the intake API's own OpenAPI schema, on SQLite and PostgreSQL:
valid and invalid requests generated from the schema (a fixed seed, a few hundred per
operation) are sent over HTTP to `handoff serve`, and none gets a 5xx or an answer the
schema does not promise (status, content type, body); every request the schema forbids
is refused.

One check is left out: that every request the schema allows is accepted. The API refuses
on purpose some values JSON Schema cannot describe (NUL characters anywhere, dates that
overflow when converted to UTC, NaN inside attributes), each with a 422 naming the field;
those refusals have their own tests (tests/bot/runtime/test_api.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings

from bot.runtime.api import AppState, create_api
from store.db import make_engine
from tests.helpers import AUTH, TOKEN, rules, serving_tests_config, team

EXAMPLES = 300
SEED = 20261205

# The schema the app publishes at /openapi.json (it does not depend on the database).
_published = create_api(
    AppState(engine=make_engine("sqlite://"), rules=rules(), team=team(), api_token=TOKEN)
).openapi()
schema = schemathesis.openapi.from_dict(_published)


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[str]:
    with serving_tests_config(tmp_path, database_url, TOKEN) as url:
        yield url


@schema.parametrize()
@seed(SEED)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_5xx_or_an_answer_the_schema_does_not_promise(
    case: Any, server: str
) -> None:
    case.call_and_validate(
        base_url=server,
        headers=AUTH,
        timeout=30,
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
