"""`ChatSurface` on the Slack Web API, through slack_sdk's WebClient."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from bot.handoffs.cards import Card
from bot.handoffs.notices import Notice
from bot.messaging.port import DeliveryError, Posted
from bot.reports.format import FORMATTERS
from bot.reports.numbers import DigestNumbers, RevenueReport
from bot.slack.blocks.cards import (
    FALLBACK_MAX,
    card_blocks,
    card_text,
    cut,
    to_dicts,
)
from bot.slack.blocks.digest import digest_blocks
from bot.slack.blocks.notices import escalation_blocks, notice_blocks
from bot.slack.ids import METADATA_EVENT
from bot.slack.text import mention, moved_text, mrkdwn, notice_text

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"

# Errors that retrying cannot fix, and what an admin should do about each
# (https://api.slack.com/methods/chat.postMessage#errors).
PERMANENT = {
    "channel_not_found": "the channel does not exist or the app cannot see it: check "
    "team.channel in the config (a private channel needs the app invited first)",
    "not_in_channel": "invite the app to the channel: /invite @Lead Handoff",
    "is_archived": "the channel is archived: unarchive it or change team.channel",
    "invalid_auth": "SLACK_BOT_TOKEN is not valid: copy the Bot User OAuth Token again",
    "not_authed": "SLACK_BOT_TOKEN is missing",
    "account_inactive": "the token's workspace or user was deactivated: reinstall the app",
    "token_revoked": "the token was revoked: reinstall the app and update SLACK_BOT_TOKEN",
    "missing_scope": "the app lacks a scope: reinstall it from slack-manifest.yml",
    "invalid_blocks": "Slack refused the card's blocks: please report this as a bug",
    "msg_too_long": "the card is too long: please report this as a bug",
    "msg_blocks_too_long": "the card's blocks are too long: please report this as a bug",
    "message_not_found": "the card to update no longer exists in Slack",
    "not_allowed_token_type": "file uploads need a bot token (xoxb-): check SLACK_BOT_TOKEN",
}


def web_client(*, token: str, api_url: str = DEFAULT_API_URL) -> WebClient:
    """Creates the Web API client (connection errors retried once by slack_sdk)."""
    return WebClient(
        token=token,
        base_url=api_url,
        timeout=10,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
    )


def delivery_error(exc: SlackApiError) -> DeliveryError:
    """Says what a Slack error means for the outbox: wait, retry, or give up."""
    response = exc.response
    code = str(response.get("error") or f"http_{response.status_code}")
    if response.status_code == 429:
        retry_after = float(
            response.headers.get("Retry-After", response.headers.get("retry-after", 1))
        )
        return DeliveryError(code, retry_after=retry_after)
    if response.status_code >= 500:
        return DeliveryError(code)
    # Which field Slack refused, as it says ("[ERROR] must be less than 3001 characters
    # [json-pointer:/blocks/2/text/text]").
    said = "; ".join(
        str(m) for m in (response.get("response_metadata") or {}).get("messages") or []
    )
    if code in PERMANENT:
        hint = PERMANENT[code] + (f" (Slack said: {said})" if said else "")
        return DeliveryError(code, permanent=True, hint=hint)
    return DeliveryError(code, hint=f"Slack said: {said}" if said else "")


class SlackSurface:
    """Lead cards in Slack channels."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post_card(self, *, channel: str, card: Card) -> Posted:
        """Posts a card, with metadata naming its hand-off (for reconciliation)."""
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"handoff_id": card.handoff_id}}
        response = self._call(
            self.client.chat_postMessage,
            channel=channel,
            text=card_text(card),
            blocks=to_dicts(card_blocks(card)),
            metadata=metadata,
            unfurl_links=False,
        )
        return Posted(channel=str(response["channel"]), ts=str(response["ts"]))

    def post_notice(self, *, channel: str, notice: Notice, card_at: Posted | None) -> Posted:
        """Posts a reminder, a breach, a nudge or a feedback ask, with its actions and a
        link to the card (a breach told to the channel itself has no buttons)."""
        text = notice_text(notice)
        permalink = self._permalink(card_at) if card_at else None
        blocks = to_dicts(notice_blocks(text, notice, permalink))
        return self._post(channel=channel, text=text, blocks=blocks)

    def post_moved(self, *, channel: str, thread_ts: str | None, card: Card) -> Posted:
        """Replies in the card's thread that the lead moved, mentioning its new owner."""
        response = self._call(
            self.client.chat_postMessage,
            channel=channel,
            thread_ts=thread_ts,
            text=moved_text(card),
            unfurl_links=False,
        )
        return Posted(channel=str(response["channel"]), ts=str(response["ts"]))

    def _permalink(self, card_at: Posted) -> str | None:
        """Gets a link to the card (none when Slack will not say: the notice goes anyway)."""
        try:
            response = self.client.chat_getPermalink(channel=card_at.channel, message_ts=card_at.ts)
        except SlackApiError as exc:
            log.warning("No link to the card (%s): %s", card_at, exc.response.get("error"))
            return None
        link = response.get("permalink")
        return str(link) if link else None

    def post_text(self, *, channel: str, text: str, actions_for: int | None = None) -> Posted:
        """Posts a message already worded as mrkdwn (with the escalation buttons when asked)."""
        blocks = None if actions_for is None else to_dicts(escalation_blocks(text, actions_for))
        return self._post(channel=channel, text=text, blocks=blocks)

    def post_digest(self, *, channel: str, numbers: DigestNumbers) -> Posted:
        """Posts the weekly digest as Block Kit (with its text as the notification)."""
        text = mrkdwn("digest.md.j2", m=numbers, mention=mention, **FORMATTERS)
        return self._post(
            channel=channel, text=cut(text, FALLBACK_MAX), blocks=to_dicts(digest_blocks(numbers))
        )

    def post_revenue(self, *, channel: str, report: RevenueReport) -> Posted:
        """Posts the score-to-revenue report."""
        return self._post(channel=channel, text=mrkdwn("revenue.md.j2", r=report, **FORMATTERS))

    def _post(
        self, *, channel: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> Posted:
        response = self._call(
            self.client.chat_postMessage,
            channel=channel,
            text=text,
            blocks=blocks,
            unfurl_links=False,
        )
        return Posted(channel=str(response["channel"]), ts=str(response["ts"]))

    def upload_image(self, *, channel: str, png: bytes, filename: str, title: str) -> None:
        """Shares a PNG in a channel through Slack's upload flow (upload URL, then
        completion: https://api.slack.com/messaging/files#uploading_files)."""
        try:
            self._call(
                self.client.files_upload_v2,
                channel=channel,
                content=png,
                filename=filename,
                title=title,
                alt_txt=title,
            )
        except SlackRequestError as exc:  # the upload URL itself refused the bytes
            raise DeliveryError("upload_failed", hint=str(exc)) from exc

    def update_card(self, *, posted: Posted, card: Card) -> None:
        """Replaces a posted card with its current state."""
        self._call(
            self.client.chat_update,
            channel=posted.channel,
            ts=posted.ts,
            text=card_text(card),
            blocks=to_dicts(card_blocks(card)),
        )

    def find_card(
        self, *, channel: str, handoff_ids: frozenset[int], since: float
    ) -> Posted | None:
        """Looks through recent channel history for a card of one of the lead's hand-offs
        (for a card sent to a rep's user id, the history of the app's DM with them)."""
        if channel[:1] in ("U", "W"):  # history wants the DM's own id (D…), not the user's
            opened = self._call(self.client.conversations_open, users=channel)
            channel = str(opened["channel"]["id"])
        response = self._call(
            self.client.conversations_history,
            channel=channel,
            oldest=f"{since:.6f}",
            include_all_metadata=True,
            limit=200,
        )
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT
                and payload.get("handoff_id") in handoff_ids
            ):
                return Posted(channel=channel, ts=str(message["ts"]))
        return None

    @staticmethod
    def _call(method: Any, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            raise delivery_error(exc) from exc
