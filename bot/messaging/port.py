"""The interface the workflow uses to talk to a chat surface (Slack today).

The outbox sender calls these methods; `bot/slack/surface.py` implements them. Failures come
back as `DeliveryError`, saying whether to wait (rate limit), retry (transient) or give
up and tell an admin what to fix (permanent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.handoffs.cards import Card
from bot.handoffs.notices import Notice
from bot.reports.numbers import DigestNumbers, RevenueReport


@dataclass(frozen=True)
class Posted:
    """Where a card went: the channel it is in and its message id (Slack's ts)."""

    channel: str
    ts: str


class DeliveryError(Exception):
    """A chat call that failed: `retry_after` set for a rate limit, `permanent` for an
    error that retrying cannot fix (with `hint` saying what to do)."""

    def __init__(
        self,
        code: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        hint: str = "",
    ) -> None:
        super().__init__(f"{code}: {hint}" if hint else code)
        self.code = code
        self.retry_after = retry_after
        self.permanent = permanent
        self.hint = hint


class ChatSurface(Protocol):
    """What the workflow needs from a chat surface."""

    def post_card(self, *, channel: str, card: Card) -> Posted:
        """Posts a lead card."""
        ...

    def post_notice(self, *, channel: str, notice: Notice, card_at: Posted | None) -> Posted:
        """Posts a notice about a hand-off (reminder, breach, nudge, feedback) to a channel,
        or to a user id's DM, with the actions it offers and a link to the lead's card
        (`card_at`: where it is, when it was posted)."""
        ...

    def post_moved(self, *, channel: str, thread_ts: str | None, card: Card) -> Posted:
        """Tells in a card's thread (`thread_ts`; None: at the top of the channel) that the
        lead moved, mentioning its new owner."""
        ...

    def post_text(self, *, channel: str, text: str, actions_for: int | None = None) -> Posted:
        """Posts a message already worded as mrkdwn (entries queued by earlier versions);
        `actions_for`: the manager's escalation buttons for that hand-off."""
        ...

    def post_digest(self, *, channel: str, numbers: DigestNumbers) -> Posted:
        """Posts the weekly digest."""
        ...

    def post_revenue(self, *, channel: str, report: RevenueReport) -> Posted:
        """Posts the score-to-revenue report."""
        ...

    def upload_image(self, *, channel: str, png: bytes, filename: str, title: str) -> None:
        """Shares a PNG image in a channel."""
        ...

    def update_card(self, *, posted: Posted, card: Card) -> None:
        """Replaces a posted card with its current state."""
        ...

    def find_card(
        self, *, channel: str, handoff_ids: frozenset[int], since: float
    ) -> Posted | None:
        """Finds a card already posted for one of a lead's hand-offs (after a crash between
        posting and recording it), looking at messages newer than `since` (a Unix time)."""
        ...
