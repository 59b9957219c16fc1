"""Data that several test modules build the same way: a week of hand-offs with decisions."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import DEFAULT_REJECT_REASONS, SlaConfig
from bot.handoffs.decisions import Actor, accept, reject
from bot.handoffs.inputs import LeadIn
from bot.handoffs.intake import Context, ingest_leads
from bot.handoffs.team import sync_team
from store.models import Handoff
from tests.helpers import REPO, context, demo, lead_body

SLA = SlaConfig.model_validate(
    tomllib.loads((REPO / "handoff.example.toml").read_text(encoding="utf-8"))["sla"]
)
MONDAY = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # 10:00 in New York, week 2026-W47
REASONS = {r.code: r for r in DEFAULT_REJECT_REASONS}


def build(engine: Engine) -> None:
    """Twelve leads over the week: nine handed off, decided at different speeds."""
    base = context()
    sync_team(engine=engine, team=base.team)
    for i in range(12):
        at = MONDAY + timedelta(hours=5 * i)
        ctx = Context(rules=base.rules, team=base.team, now=at, sla=SLA)
        acts = [demo(f"d{i}", at.isoformat())] if i % 4 else []
        source = "webinar" if i % 2 else "paid search"
        body = LeadIn.model_validate(
            lead_body(f"W{i}", employees=100, country="US", source=source, activities=acts)
        )
        with Session(engine) as session:
            (outcome,) = ingest_leads(session=session, leads=[body], context=ctx)
            session.commit()
        if outcome.handoff is None:
            continue
        rep = outcome.handoff.rep_slack_id or "U0ALICE"
        decided = at + timedelta(minutes=7 * (i + 1) ** 2)
        with Session(engine) as session:
            if i % 3 == 0:
                reject(
                    session=session,
                    handoff_id=outcome.handoff.id,
                    actor=Actor(rep),
                    reason=REASONS["no_budget" if i % 2 else "other"],
                    note=f"note {i}",
                    now=decided,
                )
            elif i % 3 == 1:
                accept(
                    session=session, handoff_id=outcome.handoff.id, actor=Actor(rep), now=decided
                )
            session.commit()


def sla_of(handoff: Handoff, as_of: datetime) -> str:
    """Where a hand-off stands against its deadline, computed here independently of the
    SQL: within, breached, not_yet_due, moved_in_time or no_deadline."""
    due, decided = handoff.due_at, handoff.decided_at
    if due is None:
        return "no_deadline"
    if decided is not None:
        if decided > due:
            return "breached"
        return "within" if handoff.status in ("accepted", "rejected") else "moved_in_time"
    if due <= as_of:
        return "breached"
    # Undecided, deadline ahead: still pending, or ended (expired) before it.
    return "not_yet_due" if handoff.status == "pending" else "moved_in_time"
