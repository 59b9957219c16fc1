"""`handoff sweep` and `handoff rep ooo`: the SLA sweep on demand, and out of office."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import Config
from bot.delivery import Deliverer
from bot.digest import FORMATTERS, digest_channel, queue_digest, week_period, weekly_numbers
from bot.runtime import open_database, sync_team
from bot.settings import Settings
from bot.slack.surface import SlackSurface, web_client
from bot.sweep import sweep
from bot.text import terminal
from store.reps import set_out_of_office


def run_sweep(*, settings: Settings, config: Config, now: datetime | None) -> int:
    """Runs one sweep at `now` (default: the current time); prints what it sent."""
    team = config.team
    wall = datetime.now(UTC)
    at = now or wall
    engine, _ = open_database(settings.database_url)
    try:
        sync_team(engine=engine, team=team)
        with Session(engine) as session:
            sent = sweep(
                session=session,
                now=at,
                team=team,
                sla=config.settings.sla,
                reasons=config.settings.reject_reasons,
                send_from=min(at, wall),
            )
            session.commit()
        if config.settings.sla is None:
            print(f"{config.path}: no [sla] section: hand-offs have no deadlines to sweep")
        for item in sent:
            print(item)
        moved = sum(1 for item in sent if item.kind == "reassignment")
        print(
            f"Sweep at {at.isoformat(timespec='seconds')}: {len(sent) - moved} notification(s) "
            f"queued, {moved} reassignment(s)."
        )
        if sent and not settings.missing_for_slack():
            _deliver(settings, config, engine)
    finally:
        engine.dispose()
    return 0


def _deliver(settings: Settings, config: Config, engine: Engine) -> None:
    assert settings.slack_bot_token is not None
    client = web_client(
        token=settings.slack_bot_token.get_secret_value(), api_url=settings.slack_api_url
    )
    deliverer = Deliverer(
        engine=engine,
        surface=SlackSurface(client),
        team=config.team,
        reasons=config.settings.reject_reasons,
        clock=lambda: datetime.now(UTC),
        sla=config.settings.sla,
    )
    report = deliverer.deliver_due()
    print(
        f"Sent to Slack: {report.sent}; waiting for a retry: {report.rescheduled}; "
        f"given up: {report.dead}."
    )


def run_out_of_office(*, settings: Settings, config: Config, slack_id: str, away: bool) -> int:
    """Marks a rep out of office (no new leads) or back."""
    engine, _ = open_database(settings.database_url)
    try:
        sync_team(engine=engine, team=config.team)
        with Session(engine, expire_on_commit=False) as session:
            rep = set_out_of_office(session=session, slack_id=slack_id, away=away)
            session.commit()
    finally:
        engine.dispose()
    if rep is None:
        known = ", ".join(r.slack_id for r in config.team.reps)
        print(
            f"no rep {slack_id} in [[team.reps]] of {config.path} (known: {known})", file=sys.stderr
        )
        return 2
    state = (
        "out of office: no new leads until `handoff rep ooo " + slack_id + " off`"
        if away
        else "back: receiving leads again"
    )
    print(f"{rep.name} ({slack_id}) is {state}.")
    return 0


def run_digest(
    *, settings: Settings, config: Config, week: str | None, fmt: str, post: bool = False
) -> int:
    """Prints a week's digest (with its change from the week before), or posts it."""
    team = config.team
    now = datetime.now(UTC)
    try:
        label, _ = week_period(week, team=team, now=now)
    except ValueError as exc:
        print(f"handoff digest: {exc}", file=sys.stderr)
        return 2
    engine, _ = open_database(settings.database_url)
    try:
        with Session(engine) as session:
            numbers = weekly_numbers(
                session=session,
                team=team,
                reasons=config.settings.reject_reasons,
                week=label,
                now=now,
            )
            if post:
                queue_digest(
                    session=session,
                    team=team,
                    digest=config.settings.digest,
                    numbers=numbers,
                    now=now,
                )
                session.commit()
        if post:
            where = digest_channel(team=team, digest=config.settings.digest)
            print(f"Digest of {label} queued for {where}.")
            if not settings.missing_for_slack():
                _deliver(settings, config, engine)
            return 0
    finally:
        engine.dispose()
    print(json.dumps(numbers, indent=2) if fmt == "json" else digest_text(numbers))
    return 0


def digest_text(numbers: dict[str, object]) -> str:
    """Gets the digest as text."""
    return terminal("digest.txt.j2", m=numbers, **FORMATTERS)
