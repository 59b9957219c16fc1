"""Score to revenue by cohort: per month of hand-off and tier, checked against counts
made here from the same rows; the monthly report posted once; the command."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from bot.cli import main
from bot.config import DEFAULT_REJECT_REASONS
from bot.reports.format import FORMATTERS
from bot.reports.revenue import last_months, month_period, post_monthly_if_due, revenue_report
from bot.slack.text import mrkdwn
from store.models import Handoff, Outbox, OutboxKind, Outcome
from tests.helpers import NOW, RULES_TOML, TEAM_TOML, context
from tests.scenarios import build


def add_outcomes(engine: Engine) -> dict[int, str]:
    """Gives the first handed-off leads an opportunity, a win and a loss."""
    with Session(engine) as session:
        leads = sorted({h.lead_id for h in session.scalars(select(Handoff))})
        stages = {leads[0]: "closed_won", leads[1]: "closed_won", leads[2]: "opportunity"}
        stages[leads[3]] = "closed_lost"
        for lead_id, stage in stages.items():
            amount = 2500.0 if stage == "closed_won" else None
            session.add(
                Outcome(
                    lead_id=lead_id, stage=stage, amount=amount, occurred_at=NOW, created_at=NOW
                )
            )
        if stages:
            session.add(
                Outcome(lead_id=leads[0], stage="opportunity", occurred_at=NOW, created_at=NOW)
            )
        session.commit()
    return stages


def test_months_are_calendar_months_in_the_team_time_zone() -> None:
    period = month_period("2026-11", timezone="America/New_York")
    assert period.start == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # midnight EDT
    assert period.end == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # midnight EST
    assert last_months(3, now=NOW, timezone="UTC") == ["2026-09", "2026-10", "2026-11"]
    assert last_months(2, now=datetime(2027, 1, 5, tzinfo=UTC), timezone="UTC") == [
        "2026-12",
        "2027-01",
    ]
    with pytest.raises(ValueError, match="not a month"):
        month_period("2026-13", timezone="UTC")


def test_revenue_by_cohort_matches_an_independent_count(engine: Engine) -> None:
    build(engine)
    stages = add_outcomes(engine)
    team = context().team
    with Session(engine) as session:
        report = revenue_report(
            session=session,
            team=team,
            reasons=DEFAULT_REJECT_REASONS,
            months=["2026-10", "2026-11"],
        ).model_dump()
        rows = session.scalars(select(Handoff)).all()
    november = {row["tier"]: row for row in report["cohorts"] if row["month"] == "2026-11"}
    assert not [row for row in report["cohorts"] if row["month"] == "2026-10"]
    tiers = {h.tier for h in rows}
    assert set(november) == tiers
    for tier in tiers:
        leads = {h.lead_id for h in rows if h.tier == tier}
        accepted = {h.lead_id for h in rows if h.tier == tier and h.status == "accepted"}
        won = {lead for lead in leads if stages.get(lead) == "closed_won"}
        opportunities = {
            lead
            for lead in leads
            if stages.get(lead) in ("closed_won", "opportunity", "closed_lost")
        }
        row = november[tier]
        assert row["handed_off"] == len(leads)
        assert row["accepted"] == len(accepted)
        assert row["closed_won"] == len(won)
        assert row["opportunities"] == len(opportunities)
        assert row["won_amount"] == 2500.0 * len(won)
    assert report["month"] == "2026-11"
    assert sum(r["count"] for r in report["reject_reasons"]) == sum(
        h.status == "rejected" for h in rows
    )
    assert report["rejected_signals"][0]["label"] in {
        "Company size matches ICP",
        "Requested a demo",
    }


def test_the_monthly_report_is_posted_once(engine: Engine) -> None:
    build(engine)
    add_outcomes(engine)

    def post(at: datetime) -> str | None:
        with Session(engine) as session:
            month = post_monthly_if_due(
                session=session,
                team=context().team,
                reasons=DEFAULT_REJECT_REASONS,
                channel="C0LEADERS",
                now=at,
            )
            session.commit()
        return month

    assert post(datetime(2026, 11, 25, tzinfo=UTC)) is None  # October had no hand-offs
    assert post(datetime(2026, 12, 1, 15, tzinfo=UTC)) == "2026-11"
    assert post(datetime(2026, 12, 2, 15, tzinfo=UTC)) is None
    with Session(engine) as session:
        (entry,) = session.scalars(select(Outbox).where(col(Outbox.channel) == "C0LEADERS")).all()
    assert entry.kind == OutboxKind.REVENUE_REPORT
    # As the Slack surface words it when it sends the entry.
    text = mrkdwn("revenue.md.j2", r=entry.payload["report"], **FORMATTERS)
    assert text.startswith(":moneybag: *Score to revenue")
    assert "2026-11 sql:" in text
    assert "*2026-11: why sales rejected leads*" in text


def test_report_revenue_command(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    assert main(["report", "revenue", "--months", "3", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {
        "months",
        "cohorts",
        "month",
        "reject_reasons",
        "rejected_signals",
        "shadow",
        "feedback",
    }
    assert len(report["months"]) == 3
    assert main(["report", "revenue"]) == 0
    assert capsys.readouterr().out.startswith("Score to revenue by month of hand-off and tier")
    assert main(["report", "revenue", "--post"]) == 2
    assert "set [calibration] channel or sla.escalation_channel" in capsys.readouterr().err


def test_the_report_says_what_sales_answered_after_accepting(engine: Engine) -> None:
    """The feedback sales gives after Accept is read by the revenue report: the month's
    accepted hand-offs by answer, the unanswered ones too, adding up to all accepted."""
    from sqlalchemy import update

    build(engine)
    with Session(engine) as session:
        accepted = session.scalars(
            select(col(Handoff.id))
            .where(col(Handoff.status) == "accepted")
            .order_by(col(Handoff.id))
        ).all()
        assert len(accepted) >= 2
        session.execute(
            update(Handoff).where(col(Handoff.id) == accepted[0]).values(feedback="meeting_booked")
        )
        session.commit()
        report = revenue_report(
            session=session,
            team=context().team,
            reasons=DEFAULT_REJECT_REASONS,
            months=["2026-11"],
        )
    assert report.feedback["meeting_booked"] == 1
    assert sum(report.feedback.values()) == len(accepted)
    text = mrkdwn("revenue.md.j2", r=report, **FORMATTERS)
    assert f"what sales said after accepting* ({len(accepted)} accepted hand-offs)" in text
    assert "Meeting booked 1" in text
    assert f"not answered {len(accepted) - 1}" in text
