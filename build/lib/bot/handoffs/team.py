"""The sales team: reps kept in step with the config, and out of office.

One `set_away` is behind both `/handoff ooo` and `handoff rep ooo`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import TeamConfig
from store.models import Rep
from store.queues import pending_of
from store.reps import set_out_of_office, sync_reps


def rep_rows(team: TeamConfig) -> list[dict[str, object]]:
    """Gets the Rep columns for each rep in the config, in config order."""
    return [
        {
            "slack_id": rep.slack_id,
            "name": rep.name,
            "email": rep.email,
            "manager_slack_id": rep.manager,
            "timezone": rep.timezone or team.timezone,
            "territories": list(rep.territories),
            "capacity": rep.capacity,
            "active": rep.active,
        }
        for rep in team.reps
    ]


def sync_team(*, engine: Engine, team: TeamConfig) -> list[Rep]:
    """Makes the Rep table match [[team.reps]]."""
    with Session(engine, expire_on_commit=False) as session:
        reps = sync_reps(session=session, reps=rep_rows(team))
        session.commit()
    return reps


@dataclass(frozen=True)
class Away:
    """A rep's out-of-office state after a change: `name` None when no such rep;
    `pending`, the leads they still hold (moved to a colleague by the next sweep when away)."""

    slack_id: str
    name: str | None
    away: bool
    pending: int


def set_away(*, session: Session, slack_id: str, away: bool) -> Away:
    """Marks a rep out of office (no new leads; their pending leads move) or back."""
    rep = set_out_of_office(session=session, slack_id=slack_id, away=away)
    if rep is None:
        return Away(slack_id, None, away, 0)
    _, pending = pending_of(session=session, rep_slack_ids=[slack_id], limit=0)
    return Away(slack_id, rep.name, away, pending)
