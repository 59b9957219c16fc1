"""How a click went, as data: the verdict, whom it names, and which lead. The chat
surface words it (templates/decision.md.j2)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """How a click went; the chat surface words it (see templates/decision.md.j2)."""

    DONE = "done"  # decided; the card shows it
    REMINDED = "reminded"  # `who`: the rep nudged
    REASSIGNED = "reassigned"  # `who`: the new owner (None: nobody, up for claiming)
    GONE = "gone"  # the hand-off no longer exists
    NOT_SALES = "not_sales"  # an unassigned lead, and the clicker is not a rep
    NOT_SALES_CLAIM = "not_sales_claim"  # a claim by someone who is not a rep
    NOT_YOURS = "not_yours"  # `who`: the owner (None: its rep)
    NOT_MANAGER = "not_manager"  # a manager's action by someone else
    HAS_OWNER = "has_owner"  # a claim of a lead that has an owner
    CHANGED_HANDS = "changed_hands"  # moved meanwhile: try again
    ALREADY = "already"  # `status` by `who` (None: someone else, or the system)
    NOT_ELIGIBLE = "not_eligible"  # `who`: the rep a manager picked, who cannot take it now
    FEEDBACK_SAVED = "feedback_saved"  # `status`: the answer to "How did it go?"
    FEEDBACK_POSTPONED = "feedback_postponed"  # "No answer yet": asked again later


DONE = {
    Verdict.DONE,
    Verdict.REMINDED,
    Verdict.REASSIGNED,
    Verdict.FEEDBACK_SAVED,
    Verdict.FEEDBACK_POSTPONED,
}


@dataclass(frozen=True)
class Decision:
    """How a click went: what happened (or why not), and whom it names (a Slack user id)."""

    verdict: Verdict
    who: str | None = None
    status: str | None = None
    lead: str | None = None  # which lead, as people call it: "Hana Prio (Prio Inc)"

    @property
    def ok(self) -> bool:
        """Tells whether the click did what it asked."""
        return self.verdict in DONE


@dataclass(frozen=True)
class Actor:
    """Who clicked, and what they may do."""

    slack_id: str
