"""Digest numbers from SQL against an independent computation over the same rows."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from bot.cli import main
from bot.config import DEFAULT_REJECT_REASONS, DigestConfig
from bot.handoffs.decisions import Actor, accept
from bot.handoffs.reassign import Move, reassign
from bot.handoffs.sweep import sweep
from bot.handoffs.team import sync_team
from bot.reports.digest import last_scheduled, metrics, post_if_due, week_period
from bot.reports.format import FORMATTERS
from bot.slack.text import mention, mrkdwn
from store.models import Handoff, Lead, MoveReason, Notification, Outbox, Outcome, Rep
from tests.bot.slack.listeners.bolt import hand_off
from tests.helpers import NOW, RULES_TOML, TEAM_TOML, context
from tests.scenarios import MONDAY, SLA, build, sla_of


def test_digest_matches_an_independent_count(engine: Engine) -> None:
    build(engine)
    week, period = week_period("2026-W47", team=context().team, now=MONDAY)
    with Session(engine) as session:
        got = metrics(
            session=session, week=week, period=period, reasons=DEFAULT_REJECT_REASONS
        ).model_dump()
        rows = session.scalars(select(Handoff)).all()
        reps = {rep.id: rep.slack_id for rep in session.scalars(select(Rep))}
    decided = [h for h in rows if h.status in ("accepted", "rejected")]
    minutes = sorted(
        (h.decided_at - h.created_at).total_seconds() / 60 for h in decided if h.decided_at
    )
    accepted = sum(h.status == "accepted" for h in rows)
    rejected = sum(h.status == "rejected" for h in rows)
    assert got["period"] == "2026-W47"
    assert got["leads_in"] == 12
    assert got["leads_in_by_source"] == {"webinar": 6, "paid search": 6}
    # Leads and hand-offs are counted apart, and every total is the sum of its parts.
    assert got["handed_off"] == len({h.lead_id for h in rows}) == 9
    assert got["handoffs"] == len(rows)
    statuses = ("accepted", "rejected", "pending", "reassigned", "expired")
    assert sum(got[s] for s in statuses) == got["handoffs"]
    assert sum(got["handoffs_by_tier"].values()) == got["handoffs"]
    assert sum(r["handoffs"] for r in got["reps"]) + got["unassigned"] == got["handoffs"]
    assert (got["accepted"], got["rejected"], got["decided"]) == (
        accepted,
        rejected,
        accepted + rejected,
    )
    assert got["acceptance_rate"] == round(accepted / (accepted + rejected), 4)
    accepted_leads = {h.lead_id for h in rows if h.status == "accepted"}
    assert got["leads_accepted"] == len(accepted_leads)
    assert got["lead_acceptance_rate"] == round(len(accepted_leads) / 9, 4)
    sql = got["response_minutes"]["sql"]
    assert sql["median"] == round(statistics.median(minutes), 1)
    assert sql["p90"] == round(statistics.quantiles(minutes, n=10, method="inclusive")[8], 1)
    # Deadlines, judged here independently of the SQL, as of the end of the week.
    where = {h.id: sla_of(h, period.end) for h in rows}
    assert got["sla"] == {part: list(where.values()).count(part) for part in got["sla"]}
    assert sum(got["sla"].values()) == got["handoffs"]
    within = sum(1 for w in where.values() if w == "within")
    breached = sum(1 for w in where.values() if w == "breached")
    assert got["sla_compliance"]["overall"] == round(within / (within + breached), 4)
    for rep_id, slack_id in reps.items():
        held = [h for h in rows if h.rep_id == rep_id]
        if not held:
            continue
        mine = [where[h.id] for h in held]
        judged = mine.count("within") + mine.count("breached")
        assert got["sla_compliance"]["by_rep"][slack_id] == (
            round(mine.count("within") / judged, 4) if judged else None
        )
    top = got["reject_reasons"][0]
    assert set(top) == {"code", "label", "count", "sample_note"}
    assert sum(r["count"] for r in got["reject_reasons"]) == rejected


def test_weeks_are_iso_weeks_in_the_team_time_zone() -> None:
    week, period = week_period("2026-W47", team=context().team, now=MONDAY)
    assert week == "2026-W47"
    assert period.start == datetime(2026, 11, 16, 5, 0, tzinfo=UTC)  # Monday 00:00 New York
    assert period.end - period.start == timedelta(days=7)
    assert week_period(None, team=context().team, now=MONDAY)[0] == "2026-W47"
    with pytest.raises(ValueError, match="not an ISO week"):
        week_period("week 47", team=context().team, now=MONDAY)


def test_digest_command(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    assert main(["digest", "--week", "2026-W47", "--format", "json"]) == 0
    import json

    numbers = json.loads(capsys.readouterr().out)
    assert {
        "period",
        "leads_in",
        "handed_off",
        "accepted",
        "rejected",
        "pending",
        "acceptance_rate",
        "lead_acceptance_rate",
        "handoffs",
        "sla",
        "tiers",
        "response_minutes",
        "sla_compliance",
        "reject_reasons",
        "reps",
    } <= set(numbers)
    assert main(["digest", "--week", "2026-W47"]) == 0
    assert capsys.readouterr().out.startswith("Lead hand-off digest, 2026-W47")
    assert main(["digest", "--week", "2026-W99"]) == 2
    assert "2026 has no week 99" in capsys.readouterr().err
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["digest", "--week", "2026-W47", "--post"]) == 0
    assert capsys.readouterr().out.strip() == "Digest of 2026-W47 queued for C0123LEADS."


def test_last_scheduled_posting_in_the_team_time_zone() -> None:
    monday_9am = DigestConfig(day="mon", time="09:00")
    zone = "America/New_York"
    assert last_scheduled(
        monday_9am, timezone=zone, now=datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    ) == (datetime(2026, 11, 23, 14, 0, tzinfo=UTC))  # 09:00 EST
    assert last_scheduled(
        monday_9am, timezone=zone, now=datetime(2026, 11, 23, 13, 59, tzinfo=UTC)
    ) == (datetime(2026, 11, 16, 14, 0, tzinfo=UTC))  # a week earlier
    # Across the DST change: Monday 2026-11-02 09:00 is 14:00 UTC, 2026-10-26 09:00 was 13:00.
    assert last_scheduled(
        monday_9am, timezone=zone, now=datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    ) == (datetime(2026, 10, 26, 13, 0, tzinfo=UTC))


def test_digest_is_posted_once_per_week_and_late_after_downtime(engine: Engine) -> None:
    build(engine)
    digest = DigestConfig(day="mon", time="09:00", channel="C0456DIGEST")

    def post(at: datetime) -> str | None:
        with Session(engine) as session:
            week = post_if_due(
                session=session,
                team=context().team,
                digest=digest,
                reasons=DEFAULT_REJECT_REASONS,
                now=at,
            )
            session.commit()
        return week

    # The worker was down on Monday morning: the W47 digest goes out on Tuesday, once.
    assert post(datetime(2026, 11, 24, 16, 0, tzinfo=UTC)) == "2026-W47"
    assert post(datetime(2026, 11, 24, 16, 1, tzinfo=UTC)) is None
    assert post(datetime(2026, 11, 30, 13, 59, tzinfo=UTC)) is None  # before the next Monday 9:00
    # Week 48 had nothing in it (no leads, no hand-offs): nothing to post.
    assert post(datetime(2026, 11, 30, 14, 0, tzinfo=UTC)) is None
    with Session(engine) as session:
        queued = session.execute(
            select(col(Outbox.kind), col(Outbox.payload)).where(
                col(Outbox.channel) == "C0456DIGEST"
            )
        ).all()
    assert [kind for kind, _ in queued] == ["digest", "digest_chart"]
    text = mrkdwn(
        "digest.md.j2", m=queued[0][1]["numbers"], mention=mention, **FORMATTERS
    )  # as Slack gets it
    assert text.startswith(":bar_chart: *Lead hand-off digest, 2026-W47*")
    assert "*Leads in:* 12 (+12 vs last week)" in text
    assert queued[0][1]["numbers"]["period"] == queued[1][1]["numbers"]["period"] == "2026-W47"


def test_breaches_escalations_and_outcomes_match_an_independent_count(engine: Engine) -> None:
    build(engine)
    team = context().team
    late_sweep = MONDAY + timedelta(days=3)
    with Session(engine) as session:
        sweep(session=session, now=late_sweep, team=team, sla=SLA, reasons=[])
        session.commit()
    handoffs_by_lead: dict[int, Handoff] = {}
    with Session(engine) as session:
        for handoff in session.scalars(select(Handoff).order_by(col(Handoff.id))):
            handoffs_by_lead.setdefault(handoff.lead_id, handoff)
        lead_ids = sorted(handoffs_by_lead)
        won, opportunity = lead_ids[:2], lead_ids[2:5]
        for lead_id in won:
            session.add(
                Outcome(
                    lead_id=lead_id,
                    stage="closed_won",
                    amount=1000.0,
                    occurred_at=NOW,
                    created_at=NOW,
                )
            )
        for lead_id in opportunity:
            session.add(
                Outcome(lead_id=lead_id, stage="opportunity", occurred_at=NOW, created_at=NOW)
            )
        session.commit()
    as_of = MONDAY + timedelta(days=4)
    week, period = week_period("2026-W47", team=team, now=MONDAY)
    with Session(engine) as session:
        got = metrics(
            session=session, week=week, period=period, reasons=DEFAULT_REJECT_REASONS, as_of=as_of
        ).model_dump()
        rows = session.scalars(select(Handoff)).all()
        escalations = session.scalars(
            select(Notification).where(col(Notification.kind) == "escalation")
        ).all()
        sources = {lead.id: lead.source for lead in session.scalars(select(Lead))}
    late = [
        h
        for h in rows
        if h.due_at and (h.decided_at > h.due_at if h.decided_at else h.due_at <= as_of)
    ]
    assert late, "the fixture has overdue hand-offs"
    assert got["breaches"] == len(late)
    assert got["breaches_by_tier"] == {
        t: sum(h.tier == t for h in late) for t in {h.tier for h in late}
    }
    assert got["escalations"] == len(escalations) > 0
    assert sum(r["breached"] for r in got["reps"]) == sum(1 for h in late if h.rep_id)
    outcomes = got["outcomes"]
    assert outcomes is not None
    by_source = {r["label"]: r for r in outcomes["by_source"]}
    for source in {"webinar", "paid search"}:
        leads = [lead for lead in handoffs_by_lead if sources[lead] == source]
        row = by_source[source]
        assert row["handed_off"] == len(leads)
        assert row["closed_won"] == sum(lead in won for lead in leads)
        assert row["opportunities"] == sum(lead in won + opportunity for lead in leads)
        assert row["won_amount"] == 1000.0 * sum(lead in won for lead in leads)
    assert sum(r["handed_off"] for r in outcomes["by_score_band"]) == len(handoffs_by_lead)
    assert sum(r["closed_won"] for r in outcomes["by_score_band"]) == 2


def test_no_outcomes_means_no_outcome_section(engine: Engine) -> None:
    build(engine)
    week, period = week_period("2026-W47", team=context().team, now=MONDAY)
    with Session(engine) as session:
        got = metrics(
            session=session, week=week, period=period, reasons=DEFAULT_REJECT_REASONS
        ).model_dump()
    assert got["outcomes"] is None


def test_speed_to_lead_counts_from_the_first_hand_off_not_the_last_move(engine: Engine) -> None:
    """A lead moved after a breach and accepted by its second owner: its speed to lead runs
    from its first hand-off, so the move does not hide the wait."""
    team = context().team
    sync_team(engine=engine, team=team)
    first = hand_off(engine, "S1")
    moved_at, accepted_at = NOW + timedelta(hours=5), NOW + timedelta(hours=5, minutes=30)
    with Session(engine) as session:
        new = reassign(
            session=session,
            handoff_id=first,
            team=team,
            sla=SLA,
            now=moved_at,
            move=Move(MoveReason.BREACH),
        )
        assert new is not None
        assert new.rep_slack_id is not None
        accept(session=session, handoff_id=new.id, actor=Actor(new.rep_slack_id), now=accepted_at)
        session.commit()
    week, period = week_period("2026-W47", team=team, now=NOW + timedelta(days=3))
    with Session(engine) as session:
        got = metrics(session=session, week=week, period=period, reasons=DEFAULT_REJECT_REASONS)
    times = got.model_dump()["response_minutes"]["sql"]
    assert times["median"] == 330.0  # 5 h 30 min, not 30 min
