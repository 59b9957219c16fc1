"""The sandbox answers, and the app asks, as Slack's own Web API description says.

The description (../shared/data/slack-api-specs) is Swagger 2.0 with known defects,
handled here: its response schemas forbid fields real responses carry (so
`additionalProperties: false` is relaxed), and it predates message metadata (so the
`metadata` and `include_all_metadata` parameters, documented at
https://api.slack.com/metadata/using, are allowed on top of it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.sandbox.slack_api import SlackSandbox
from bot.slack.surface import SlackSurface, web_client
from tests.bot.cards_helpers import sample_card

NEWER_THAN_THE_SPEC = {
    "chat.postMessage": {"metadata"},
    "conversations.history": {"include_all_metadata"},
}
# Methods newer than the description, with their documented parameters
# (https://api.slack.com/methods/files.getUploadURLExternal and
# https://api.slack.com/methods/files.completeUploadExternal); "upload" is the step
# between them, a POST of the bytes to the URL the first one gave.
NEWER_METHODS = {
    "files.getUploadURLExternal": {"filename", "length", "alt_txt", "snippet_type"},
    "files.completeUploadExternal": {
        "files",
        "channel_id",
        "channels",
        "initial_comment",
        "thread_ts",
        "blocks",
    },
    "upload": {"file_id", "bytes"},
}


@pytest.fixture
def spec(shared_data: Path) -> dict[str, Any]:
    path = shared_data / "slack-api-specs" / "slack_web_openapi_v2_without_examples.json"
    return dict(json.loads(path.read_text()))


def _relaxed(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: _relaxed(v)
            for k, v in node.items()
            if not (k == "additionalProperties" and v is False)
        }
    if isinstance(node, list):
        return [_relaxed(item) for item in node]
    return node


def response_schema(spec: dict[str, Any], method: str) -> dict[str, Any]:
    operation = next(iter(spec["paths"][f"/{method}"].values()))
    schema: dict[str, Any] = _relaxed(
        {**operation["responses"]["200"]["schema"], "definitions": spec["definitions"]}
    )
    return schema


def check(reply: Any, schema: dict[str, Any]) -> None:
    # Swagger 2.0 schemas are JSON Schema draft 4 (array-form `items` included).
    jsonschema.Draft4Validator(schema).validate(reply)


def parameters(spec: dict[str, Any], method: str) -> set[str]:
    if method in NEWER_METHODS:
        return NEWER_METHODS[method]
    operation = next(iter(spec["paths"][f"/{method}"].values()))
    return {p["name"] for p in operation.get("parameters", [])} | NEWER_THAN_THE_SPEC.get(
        method, set()
    )


@pytest.fixture
def sandbox() -> Iterator[SlackSandbox]:
    with SlackSandbox() as running:
        running.add_user("U0ALICE", "Alice Moreno")
        running.add_channel("C0123LEADS", "sales-leads")
        yield running


def test_replies_and_requests_match_slacks_description(
    spec: dict[str, Any], sandbox: SlackSandbox
) -> None:
    client = web_client(token="xoxb-test", api_url=sandbox.url)
    surface = SlackSurface(client)
    first = client.chat_postMessage(channel="C0123LEADS", text="hello").data
    assert isinstance(first, dict)
    first_ts = first["ts"]
    check(first, response_schema(spec, "chat.postMessage"))
    posted = surface.post_card(channel="C0123LEADS", card=sample_card())
    surface.update_card(posted=posted, card=sample_card(status="accepted"))
    assert surface.find_card(channel="C0123LEADS", handoff_ids=frozenset({7}), since=0) == posted
    replies = {
        "auth.test": client.auth_test().data,
        "users.info": client.users_info(user="U0ALICE").data,
        "conversations.open": client.conversations_open(users="U0ALICE").data,
        "chat.postEphemeral": client.chat_postEphemeral(
            channel="C0123LEADS", user="U0ALICE", text="hi"
        ).data,
        "conversations.history": client.conversations_history(channel="C0123LEADS").data,
        "views.publish": client.views_publish(
            user_id="U0ALICE", view={"type": "home", "blocks": []}
        ).data,
        # What the start-up checks ask (bot/slack/checks.py), and chat.delete.
        "conversations.list": client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=1000
        ).data,
        "conversations.info": client.conversations_info(channel="C0123LEADS").data,
        "conversations.join": client.conversations_join(channel="C0123LEADS").data,
        "chat.delete": client.chat_delete(channel="C0123LEADS", ts=str(first_ts)).data,
    }
    surface.upload_image(channel="C0123LEADS", png=b"\x89PNG-bytes", filename="c.png", title="C")
    for method, reply in replies.items():
        check(reply, response_schema(spec, method))
    for call in sandbox.state.calls:
        assert set(call.args) <= parameters(spec, call.method), (call.method, set(call.args))
    assert {call.token for call in sandbox.state.calls if call.method != "upload"} == {"xoxb-test"}


def test_switches_make_slack_misbehave(sandbox: SlackSandbox) -> None:
    import httpx

    sandbox.fail("chat.postMessage", status=429, retry_after=3)
    sandbox.fail("chat.postMessage", error="channel_not_found")
    url = sandbox.url + "chat.postMessage"
    auth = {"Authorization": "Bearer xoxb-test"}
    limited = httpx.post(url, data={"channel": "C1", "text": "x"}, headers=auth)
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "3")
    refused = httpx.post(url, data={"channel": "C1", "text": "x"}, headers=auth).json()
    assert refused == {"ok": False, "error": "channel_not_found"}
    fine = httpx.post(url, data={"channel": "C1", "text": "x"}, headers=auth).json()
    assert fine["ok"] is True
    assert httpx.post(url, data={"channel": "C1"}).json()["error"] == "not_authed"
    assert [c.args["channel"] for c in sandbox.calls_to("chat.postMessage")] == ["C1"] * 4
    assert len(sandbox.channel("C1")) == 1
