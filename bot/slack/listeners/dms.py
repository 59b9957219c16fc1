"""Direct messages that carry buttons (a reminder, a nudge, a manager's breach, a feedback
ask): once acted on, the message is redrawn in place without its buttons and with a line
saying what happened, so nobody clicks a stale button twice."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.handoffs.decisions import Decision, Verdict
from bot.slack.blocks.cards import cut
from bot.slack.blocks.notices import ACTION_BLOCKS, settled
from bot.slack.text import Mrkdwn, date_token, decision_text, mrkdwn

log = logging.getLogger(__name__)

# A DM is settled when the click did what it asked, or when it came too late to.
SETTLES = {
    Verdict.DONE,
    Verdict.REASSIGNED,
    Verdict.REMINDED,
    Verdict.ALREADY,
    Verdict.GONE,
    Verdict.FEEDBACK_SAVED,
    Verdict.FEEDBACK_POSTPONED,
}


def from_dm_actions(body: dict[str, Any]) -> bool:
    """Tells whether a click came from a notice's buttons (not a card's, not App Home)."""
    actions = body.get("actions") or [{}]
    return (
        actions[0].get("block_id") in ACTION_BLOCKS
        and (body.get("container") or {}).get("type") == "message"
    )


def settle(client: WebClient, body: dict[str, Any], line: str, *, keep: bool = False) -> bool:
    """Redraws the clicked message with `line` instead of its buttons (`keep`: buttons kept
    but the one clicked); False when Slack refused (the clicker is told otherwise)."""
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    if not channel or not message.get("ts"):
        return False
    blocks = settled(list(message.get("blocks") or []), Mrkdwn(line), keep=keep)
    try:
        client.chat_update(
            channel=channel, ts=message["ts"], text=message.get("text") or line, blocks=blocks
        )
    except SlackApiError as exc:
        log.warning("Could not redraw the message %s: %s", message["ts"], exc.response.get("error"))
        return False
    return True


def settle_line(decision: Decision, clicker: str, now: datetime) -> str:
    """Words what a click did, with when: "Reassigned to @Bob (today at 10:42)"."""
    return f"{decision_text(decision, clicker=clicker)} ({date_token(now)})"


def settle_after(
    client: WebClient, body: dict[str, Any], decision: Decision, clicker: str, now: datetime
) -> bool:
    """Settles a notice DM after a click, when the click decided something or came too
    late; gets whether the DM now says what happened."""
    if not from_dm_actions(body) or decision.verdict not in SETTLES:
        return False
    keep = decision.verdict is Verdict.REMINDED
    return settle(client, body, settle_line(decision, clicker, now), keep=keep)


def settle_later(client: WebClient, where: DmAt, line: str) -> None:
    """Settles a DM whose click went through a dialog (Reject): its text, then `line`."""
    blocks = settled(
        [{"type": "section", "text": {"type": "mrkdwn", "text": where.text}}], Mrkdwn(line)
    )
    try:
        client.chat_update(channel=where.channel, ts=where.ts, text=where.text, blocks=blocks)
    except SlackApiError as exc:
        log.warning("Could not redraw the message %s: %s", where.ts, exc.response.get("error"))


class DmAt(BaseModel):
    """Where a clicked DM is and what it said (kept in a dialog's metadata)."""

    channel: str
    ts: str
    text: str = Field(max_length=2000)

    @classmethod
    def of(cls, body: dict[str, Any]) -> DmAt | None:
        """Gets the DM a click came from, if it came from a notice's buttons."""
        if not from_dm_actions(body):
            return None
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id")
        if not channel or not message.get("ts"):
            return None
        return cls(
            channel=channel, ts=message["ts"], text=cut(str(message.get("text") or ""), 2000)
        )


def tell(client: WebClient, *, user: str, channel: str | None, text: str) -> bool:
    """Tells someone something privately: an ephemeral message in `channel`, else (the app
    cannot post there, or no channel) a direct message; gets whether either went out."""
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
            return True
        except SlackApiError as exc:
            log.info("Ephemeral to %s in %s refused (%s): by DM", user, channel, _error(exc))
    try:
        client.chat_postMessage(channel=user, text=text)
        return True
    except SlackApiError as exc:
        log.warning("Could not tell %s (%s): %s", user, _error(exc), text)
        return False


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or exc.response.status_code)


def open_dialog(
    client: WebClient, body: dict[str, Any], view: dict[str, Any], *, what: str
) -> None:
    """Opens a dialog for a click; when Slack will not (the click is over 3 seconds old:
    `expired_trigger_id`), tells the clicker to click again."""
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as exc:
        code = _error(exc)
        log.warning("The %s dialog did not open: %s", what, code)
        text = mrkdwn("dialog_failed.md.j2", what=what, code=code)
        channel = (body.get("channel") or {}).get("id")
        tell(client, user=body["user"]["id"], channel=channel, text=text)
