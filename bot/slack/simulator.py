"""Slack's side of the conversation, for the sandbox and the scripted demo: the signed
requests Slack sends to the app when someone clicks a button, submits a dialog, types a
slash command or opens the Home tab. Signed with slack_sdk's own signer, so the app checks
them exactly as it checks Slack's (https://api.slack.com/authentication/verifying-requests-from-slack).
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

TEAM = {"id": "T0SANDBOX", "domain": "sandbox"}
APP_ID = "A0HANDOFF"


def trigger_user(trigger_id: str) -> str | None:
    """Gets who a trigger id was made for (the sandbox opens a dialog for that person)."""
    parts = trigger_id.split(".")
    return parts[1] if len(parts) == 3 else None


def _who(user: str) -> dict[str, Any]:
    return {"id": user, "username": user.lower(), "team_id": TEAM["id"]}


def click_payload(
    *,
    user: str,
    action: dict[str, Any],
    trigger_id: str,
    channel: str | None = None,
    message: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Gets the block_actions payload of a button click on a message or in a view."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": TEAM,
        "user": _who(user),
        "api_app_id": APP_ID,
        "trigger_id": trigger_id,
        "actions": [{"type": "button", **action, "action_ts": str(time.time())}],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id")}
        payload["view"] = view
        return payload
    assert channel is not None, "a click on a message names its channel"
    assert message is not None, "a click on a message names the message"
    payload["container"] = {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": channel,
        "is_ephemeral": False,
    }
    payload["channel"] = {"id": channel}
    payload["message"] = message
    return payload


class Simulator:
    """Sends Slack's requests to the app at `events_url` (its /slack/events)."""

    def __init__(self, *, events_url: str, signing_secret: str, client: httpx.Client) -> None:
        self.events_url = events_url
        self.signer = SignatureVerifier(signing_secret)
        self.client = client
        self.counter = itertools.count(1)

    def _send(self, body: str, content_type: str) -> httpx.Response:
        stamp = str(int(time.time()))
        signature = self.signer.generate_signature(timestamp=stamp, body=body)
        assert signature is not None
        headers = {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
            "Content-Type": content_type,
        }
        return self.client.post(self.events_url, content=body, headers=headers, timeout=10)

    def _interaction(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self._send(body, "application/x-www-form-urlencoded")

    def _trigger(self, user: str) -> str:
        return f"{int(time.time())}.{user}.{next(self.counter)}"

    def click(
        self,
        *,
        user: str,
        action: dict[str, Any],
        channel: str | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """Clicks a button (`action`: action_id, block_id, value) on a message in a channel
        or DM, or in a view (App Home)."""
        payload = click_payload(
            user=user,
            action=action,
            trigger_id=self._trigger(user),
            channel=channel,
            message=message,
            view=view,
        )
        return self._interaction(payload)

    def submit(self, *, user: str, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """Submits a dialog with its inputs' `values` ({block_id: {action_id: value}});
        gets the app's answer ({} when it closed the dialog, else its `errors`)."""
        payload = {
            "type": "view_submission",
            "team": TEAM,
            "user": _who(user),
            "api_app_id": APP_ID,
            "trigger_id": self._trigger(user),
            "view": {**view, "state": {"values": values}},
        }
        response = self._interaction(payload)
        response.raise_for_status()
        return dict(response.json()) if response.content else {}

    def command(self, *, user: str, text: str, channel: str) -> str:
        """Types `/handoff …`; gets the app's (ephemeral) answer."""
        body = command_form(user=user, text=text, channel=channel, trigger_id=self._trigger(user))
        response = self._send(body, "application/x-www-form-urlencoded")
        response.raise_for_status()
        return str(response.json().get("text", "")) if response.content else ""

    def home_opened(self, *, user: str) -> httpx.Response:
        """Opens the app's Home tab."""
        return self._send(home_opened_event(user), "application/json")


def command_form(*, user: str, text: str, channel: str, trigger_id: str) -> str:
    """Gets a `/handoff` slash command's form body, as Slack sends it."""
    return urlencode(
        {
            "team_id": TEAM["id"],
            "team_domain": TEAM["domain"],
            "channel_id": channel,
            "user_id": user,
            "user_name": user.lower(),
            "command": "/handoff",
            "text": text,
            "api_app_id": APP_ID,
            "response_url": "https://hooks.slack.invalid/commands/sandbox",
            "trigger_id": trigger_id,
        }
    )


def home_opened_event(user: str) -> str:
    """Gets an `app_home_opened` event callback's JSON body, as Slack sends it."""
    return json.dumps(
        {
            "team_id": TEAM["id"],
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": f"D0{user}",
                "tab": "home",
                "event_ts": str(time.time()),
            },
        }
    )
