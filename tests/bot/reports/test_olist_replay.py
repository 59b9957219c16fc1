"""The Olist marketing funnel (8,000 real MQLs, June 2017 to May 2018) replayed through
intake in date order with simulated decisions; every week's digest is checked against
counts the test keeps itself, from what it fed in and what it decided."""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from bot.config import DEFAULT_REJECT_REASONS, load_config
from bot.handoffs.decisions import Actor, accept, reject
from bot.handoffs.inputs import LeadIn
from bot.handoffs.intake import Context, ingest_leads
from bot.handoffs.team import sync_team
from bot.reports.digest import metrics, week_period
from bot.sandbox.samples import olist_leads
from store.models import Handoff
from tests.helpers import REPO, team
from tests.scenarios import SLA

REPLAY_TEAM = team(
    reps=[
        {"slack_id": slack_id, "name": name, "manager": "U0DANA"}
        for slack_id, name in (("U0ALICE", "Alice"), ("U0BEN", "Ben"), ("U0CHLOE", "Chloe"))
    ]
)
REASONS = list(DEFAULT_REJECT_REASONS)


@dataclass
class Fed:
    """What the test itself knows of one lead it fed in and what it did with it."""

    at: datetime
    source: str
    handoff_id: int | None = None
    tier: str | None = None
    rep: str | None = None
    status: str = "pending"
    decided_at: datetime | None = None
    reason: str | None = None


def replay(engine: Engine, folder: Path) -> list[Fed]:
    """Feeds every MQL in, a day at a time; decides 60% accept, 25% reject, 15% left."""
    rules = load_config(REPO / "examples" / "olist.toml").scoring
    sync_team(engine=engine, team=REPLAY_TEAM)
    rng = random.Random(2026)
    fed: list[Fed] = []
    for _, day in groupby(olist_leads(folder), key=lambda lead: lead.at.date()):
        batch = list(day)
        now = batch[-1].at
        context = Context(rules=rules, team=REPLAY_TEAM, now=now, sla=SLA)
        with Session(engine) as session:
            done = ingest_leads(
                session=session,
                leads=[LeadIn.model_validate(lead.body) for lead in batch],
                context=context,
            )
            for lead, intake in zip(batch, done, strict=True):
                record = Fed(now, lead.body["source"])
                fed.append(record)
                if intake.handoff is not None and intake.handed_off:
                    record.handoff_id = intake.handoff.id
                    record.tier = intake.score.tier.value
                    record.rep = intake.handoff.rep_slack_id
                    decide(session, record, rng)
            session.commit()
    return fed


def decide(session: Session, record: Fed, rng: random.Random) -> None:
    assert record.handoff_id is not None
    assert record.rep is not None
    roll = rng.random()
    if roll >= 0.85:
        return
    when = record.at + timedelta(minutes=rng.expovariate(1 / 90))
    actor = Actor(record.rep)
    if roll < 0.6:
        assert accept(session=session, handoff_id=record.handoff_id, actor=actor, now=when).ok
        record.status = "accepted"
    else:
        reason = rng.choice(REASONS)
        note = "replayed" if reason.note_required else ""
        decision = reject(
            session=session,
            handoff_id=record.handoff_id,
            actor=actor,
            reason=reason,
            note=note,
            now=when,
        )
        assert decision.ok
        record.status, record.reason = "rejected", reason.code
    record.decided_at = when


def test_every_week_of_the_olist_funnel_matches_an_independent_count(
    engine: Engine, shared_data: Path
) -> None:
    fed = replay(engine, shared_data / "olist")
    assert len(fed) == 8000
    handed = [f for f in fed if f.handoff_id is not None]
    assert len(handed) == 4665  # organic/paid search, direct traffic, referral
    with Session(engine) as session:
        due = dict(session.execute(select(col(Handoff.id), col(Handoff.due_at))).all())
    weeks: dict[str, list[Fed]] = defaultdict(list)
    for record in fed:
        label, _ = week_period(None, team=REPLAY_TEAM, now=record.at)
        weeks[label].append(record)
    assert len(weeks) >= 45
    for label, records in sorted(weeks.items()):
        _, period = week_period(label, team=REPLAY_TEAM, now=records[0].at)
        with Session(engine) as session:
            got = metrics(session=session, week=label, period=period, reasons=REASONS).model_dump()
        check_week(got, records, due)


def check_week(got: dict[str, object], records: list[Fed], due: dict[int, datetime | None]) -> None:
    handed = [r for r in records if r.handoff_id is not None]
    status = Counter(r.status for r in handed)
    decided = [r for r in handed if r.decided_at is not None]
    assert got["leads_in"] == len(records)
    assert got["leads_in_by_source"] == dict(Counter(r.source for r in records))
    assert got["handed_off"] == len(handed)
    assert got["handed_off_by_tier"] == dict(Counter(r.tier for r in handed))
    assert (got["accepted"], got["rejected"], got["pending"]) == (
        status["accepted"],
        status["rejected"],
        status["pending"],
    )
    decisions = status["accepted"] + status["rejected"]
    expected_rate = round(status["accepted"] / decisions, 4) if decisions else None
    assert got["acceptance_rate"] == expected_rate
    for tier in {r.tier for r in decided}:
        minutes = sorted(
            (r.decided_at - r.at).total_seconds() / 60
            for r in decided
            if r.tier == tier and r.decided_at
        )
        middle = statistics.median(minutes)
        p90 = (
            statistics.quantiles(minutes, n=10, method="inclusive")[8]
            if len(minutes) > 1
            else middle
        )
        response = got["response_minutes"][tier]  # type: ignore[index]
        assert response == {"median": round(middle, 1), "p90": round(p90, 1)}
    # Within: decided by the deadline; breached: the deadline passed first (decided late,
    # or still undecided at the end of the week).
    end = datetime.fromisoformat(str(got["period_end"]))
    judged = Counter(_judged(r, due[r.handoff_id or 0], end) for r in handed)
    within, breached = judged["within"], judged["breached"]
    compliance = got["sla_compliance"]["overall"]  # type: ignore[index]
    assert compliance == (round(within / (within + breached), 4) if within + breached else None)
    assert got["breaches"] == breached
    reasons = Counter(r.reason for r in handed if r.reason)
    top = [(row["code"], row["count"]) for row in got["reject_reasons"]]  # type: ignore[attr-defined]
    assert top == sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    per_rep = {row["rep"]: row["handoffs"] for row in got["reps"]}  # type: ignore[attr-defined]
    assert per_rep == dict(Counter(r.rep for r in handed))


def _judged(record: Fed, due: datetime | None, end: datetime) -> str | None:
    if due is None:
        return None
    if record.decided_at is not None:
        return "within" if record.decided_at <= due else "breached"
    return "breached" if due <= end else None
