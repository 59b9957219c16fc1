"""Start-up shared by the long-running commands: database up to date, reps in sync."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import TeamConfig
from store.db import make_engine
from store.migrate import upgrade
from store.models import Rep
from store.reps import sync_reps


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


def open_database(database_url: str) -> tuple[Engine, str | None]:
    """Connects and applies pending migrations; gets the engine and its revision."""
    engine = make_engine(database_url)
    return engine, upgrade(engine)


def sync_team(*, engine: Engine, team: TeamConfig) -> list[Rep]:
    """Makes the Rep table match [[team.reps]]."""
    with Session(engine, expire_on_commit=False) as session:
        reps = sync_reps(session=session, reps=rep_rows(team))
        session.commit()
    return reps
