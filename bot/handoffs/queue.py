"""What a person has waiting: their pending leads and, for a manager, their team's.

Shown in App Home and by `/handoff queue`; no Slack here (`bot/slack/listeners/home.py` and
`bot/slack/listeners/commands.py` render it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session

from bot.config import TeamConfig
from bot.handoffs.cards import lead_name
from bot.handoffs.reassign import candidates
from scoring.rules import Tier
from store.queues import QueuedHandoff, pending_of
from store.reps import find_rep

SHOWN = 20  # leads listed per queue (App Home allows 100 blocks; each lead takes two)


@dataclass(frozen=True)
class QueueItem:
    """One pending lead as a queue line shows it."""

    handoff_id: int
    name: str
    company: str | None
    tier: Tier
    score: float
    rep_slack_id: str | None
    due_at: datetime | None
    breached: bool
    first_handed_at: datetime  # the lead's age counts from its first hand-off
    step: int  # 1 for the first owner; 3: moved twice
    # For a manager's breached lead: the reps they may move it to (Slack id, name).
    candidates: tuple[tuple[str, str], ...] = ()

    def age_minutes(self, now: datetime) -> float:
        """Gets how long ago the lead was first handed off, in minutes."""
        return max((now - self.first_handed_at).total_seconds() / 60, 0.0)


@dataclass(frozen=True)
class Queue:
    """A person's view of the hand-off: their leads, and their team's if they manage one."""

    user: str
    is_rep: bool
    away: bool
    mine: list[QueueItem]
    mine_total: int
    reports: list[str]
    team: list[QueueItem]
    team_total: int
    as_of: datetime

    @property
    def is_manager(self) -> bool:
        """Tells whether anyone in [[team.reps]] reports to this person."""
        return bool(self.reports)

    @property
    def team_breached(self) -> list[QueueItem]:
        """Gets the team's listed leads past their deadline."""
        return [item for item in self.team if item.breached]


def _item(row: QueuedHandoff, now: datetime) -> QueueItem:
    tier = Tier(row.tier)
    return QueueItem(
        handoff_id=row.id,
        name=lead_name(row.first_name, row.last_name, row.email, row.external_id),
        company=row.company,
        tier=tier,
        score=row.total,
        rep_slack_id=row.rep_slack_id,
        due_at=row.due_at,
        breached=row.due_at is not None and row.due_at <= now,
        first_handed_at=row.first_handed_at,
        step=row.step,
    )


def _with_candidates(session: Session, team: TeamConfig, item: QueueItem) -> QueueItem:
    if not item.breached:
        return item
    reps = candidates(session=session, handoff_id=item.handoff_id, team=team)
    return replace(item, candidates=tuple((rep.slack_id, rep.name) for rep in reps))


def load_queue(*, session: Session, team: TeamConfig, user: str, now: datetime) -> Queue:
    """Gets what `user` (a Slack id) has waiting, and their team's when they manage anyone."""
    rep = find_rep(session=session, slack_id=user)
    is_rep = any(r.slack_id == user for r in team.reps)
    mine, mine_total = pending_of(session=session, rep_slack_ids=[user], limit=SHOWN)
    reports = [r.slack_id for r in team.reps if r.manager == user]
    team_rows, team_total = (
        pending_of(session=session, rep_slack_ids=reports, limit=SHOWN) if reports else ([], 0)
    )
    return Queue(
        user=user,
        is_rep=is_rep,
        away=bool(rep and rep.out_of_office),
        mine=[_item(row, now) for row in mine],
        mine_total=mine_total,
        reports=reports,
        team=[_with_candidates(session, team, _item(row, now)) for row in team_rows],
        team_total=team_total,
        as_of=now,
    )
