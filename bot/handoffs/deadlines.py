"""Response deadlines: when a hand-off is due, when its rep is warned, under which policy.

Deadlines are computed once, when the hand-off is created, and stored with the policy
version; a changed policy recomputes the pending ones (at start-up), from their start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.config import SlaConfig
from bot.handoffs.calendar import add_business_time, calendar_of
from scoring.rules import Tier
from store.handoffs import pending_deadlines, set_deadlines


@dataclass(frozen=True)
class Deadlines:
    """A hand-off's deadline, its warning time, and the policy they came from."""

    due_at: datetime | None
    warn_at: datetime | None
    policy_version: str | None

    def columns(self) -> dict[str, object]:
        """Gets the hand-off columns to store."""
        return {
            "due_at": self.due_at,
            "warn_at": self.warn_at,
            "policy_version": self.policy_version,
        }


NO_DEADLINE = Deadlines(None, None, None)


def deadlines(sla: SlaConfig | None, tier: Tier, start: datetime) -> Deadlines:
    """Gets the deadlines of a hand-off of `tier` created at `start` (none when the
    policy has no SLA for the tier)."""
    if sla is None or tier not in sla.tiers:
        return NO_DEADLINE
    policy = sla.tiers[tier]
    calendar = calendar_of(sla, tier)
    due = add_business_time(start, policy.respond_within, calendar)
    warn = None
    if policy.warn_before is not None:
        warn = add_business_time(start, policy.respond_within - policy.warn_before, calendar)
    return Deadlines(due, warn, sla.policy_version())


@dataclass(frozen=True)
class Terms:
    """A tier's response deadline: how long, and whether only business time counts."""

    minutes: float
    business_time: bool


def terms(sla: SlaConfig | None, tier: Tier) -> Terms | None:
    """Gets a tier's SLA terms (None when the policy has no SLA for the tier)."""
    if sla is None or tier not in sla.tiers:
        return None
    policy = sla.tiers[tier]
    return Terms(policy.respond_within / timedelta(minutes=1), policy.calendar != "24x7")


def recompute_pending(*, session: Session, sla: SlaConfig | None) -> int:
    """Recomputes the deadlines of pending hand-offs made under another policy; gets how
    many changed."""
    version = sla.policy_version() if sla else None
    changed = 0
    for handoff_id, tier, created_at in pending_deadlines(session=session, except_version=version):
        found = deadlines(sla, Tier(tier), created_at)
        set_deadlines(session=session, handoff_id=handoff_id, values=found.columns())
        changed += 1
    return changed
