"""`handoff serve` and `handoff db`: the long-running process and its database."""

from __future__ import annotations

import gc
import sys

import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.api import AppState, create_api
from bot.config import TeamConfig
from bot.runtime import open_database, sync_team
from bot.settings import Settings
from scoring import ScoringRules
from store.db import make_engine
from store.migrate import current_revision, head_revision, upgrade


def shown_url(url: str) -> str:
    """Gets a database URL fit to print (password hidden)."""
    return make_url(url).render_as_string(hide_password=True)


def database_command(action: str, settings: Settings) -> int:
    """Runs `handoff db upgrade` or `handoff db current`."""
    where = shown_url(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        if action == "upgrade":
            revision = upgrade(engine)
            print(f"{where}: at revision {revision} (newest: {head_revision()})")
            return 0
        revision = current_revision(engine)
    except OperationalError as exc:
        print(f"{where}: cannot reach the database: {exc.orig}", file=sys.stderr)
        print(
            "Check DATABASE_URL (e.g. sqlite:///handoff.db or postgresql+psycopg://user@host/db).",
            file=sys.stderr,
        )
        return 2
    finally:
        engine.dispose()
    state = "up to date" if revision == head_revision() else "run `handoff db upgrade`"
    print(f"{where}: at revision {revision or '(empty)'}; newest is {head_revision()} ({state})")
    return 0


def serve(
    settings: Settings, *, rules: ScoringRules, team: TeamConfig, host: str | None, port: int | None
) -> int:
    """Applies migrations, syncs reps, and serves HTTP until stopped."""
    problems = settings.missing_for_serve()
    if problems:
        for problem in problems:
            print(f"handoff serve: {problem}", file=sys.stderr)
        return 2
    try:
        engine, revision = open_database(settings.database_url)
    except OperationalError as exc:
        print(
            f"{shown_url(settings.database_url)}: cannot reach the database: {exc.orig}",
            file=sys.stderr,
        )
        return 2
    reps = sync_team(engine=engine, team=team)
    assert settings.handoff_api_token is not None
    app = create_api(
        AppState(
            engine=engine,
            rules=rules,
            team=team,
            api_token=settings.handoff_api_token.get_secret_value(),
        )
    )
    print(
        f"handoff serve: database {shown_url(settings.database_url)} at revision {revision}; "
        f"rules {rules.version}; {len(reps)} rep(s); cards to {team.channel}",
        flush=True,
    )
    # Everything made so far (modules, rules, the app) lives as long as the process:
    # freezing it keeps the garbage collector from rescanning it on every full collection.
    gc.freeze()
    try:
        uvicorn.run(
            app,
            host=host or settings.host,
            port=settings.port if port is None else port,
            log_level="info",
            access_log=False,
        )
    finally:
        engine.dispose()
    return 0
