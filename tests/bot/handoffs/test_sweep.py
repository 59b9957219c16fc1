"""The SLA sweep at chosen instants: each reminder and escalation once, to the right person."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from bot.cli import main
from bot.config import DEFAULT_REJECT_REASONS, SlaConfig
from bot.handoffs.cards import load_card
from bot.handoffs.decisions import Actor, accept
from bot.handoffs.inputs import LeadIn
from bot.handoffs.intake import Context, ingest_leads
from bot.handoffs.sweep import sweep
from bot.handoffs.team import sync_team
from bot.slack.blocks.cards import card_blocks, to_dicts
from bot.slack.text import moved_text
from store.db import make_engine
from store.handoffs import newest_of_chain
from store.models import Handoff, Notification, Outbox
from store.reps import set_out_of_office
from tests.helpers import REPO, RULES_TOML, TEAM_TOML, context, demo, lead_body, notice_texts

SLA = SlaConfig.model_validate(tomllib.loads((REPO / "handoff.example.toml").read_text())["sla"])


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hand_off(engine: Engine, *, demos: int = 1) -> int:
    """An SQL lead for Alice (manager Dana) at Friday 2026-11-20 10:00 New York: due at
    14:00 (19:00 UTC), warned at 13:00 (18:00 UTC); level 2 at 16:00 (21:00 UTC)."""
    base = context()
    ctx = Context(rules=base.rules, team=base.team, now=base.now, sla=SLA)
    sync_team(engine=engine, team=ctx.team)
    acts = [demo(f"d{i}") for i in range(demos)]
    body = LeadIn.model_validate(lead_body("S", employees=100, country="US", activities=acts))
    with Session(engine) as session:
        (outcome,) = ingest_leads(session=session, leads=[body], context=ctx)
        session.commit()
    assert outcome.handoff is not None
    return outcome.handoff.id


def run(engine: Engine, at: datetime) -> list[str]:
    with Session(engine) as session:
        sent = sweep(
            session=session, now=at, team=context().team, sla=SLA, reasons=DEFAULT_REJECT_REASONS
        )
        session.commit()
    return [f"{s.kind}:{s.level}:{s.to}" for s in sent]


def test_reminder_then_each_level_once_to_the_right_people(engine: Engine) -> None:
    hand_off(engine)
    assert run(engine, utc(2026, 11, 20, 17, 59)) == []
    assert run(engine, utc(2026, 11, 20, 18, 1)) == ["reminder:0:U0ALICE"]
    assert run(engine, utc(2026, 11, 20, 18, 2)) == []
    assert run(engine, utc(2026, 11, 20, 19, 1)) == ["escalation:1:U0DANA"]
    assert run(engine, utc(2026, 11, 20, 19, 30)) == []
    # Level 2 also hands the lead to the next eligible rep (Chloe), with a fresh deadline.
    assert run(engine, utc(2026, 11, 20, 21, 1)) == [
        "escalation:2:#sales-leadership",
        "reassignment:0:U0CHLOE",
    ]
    assert run(engine, utc(2026, 11, 20, 21, 30)) == []
    with Session(engine) as session:
        texts = notice_texts(session)
    assert texts[0].startswith(":alarm_clock: Reminder: *")
    assert "SLA breach: <@U0ALICE> has not answered" in texts[1]
    assert "(level 2)" in texts[2]


def test_business_hours_tiers_wait_for_the_opening_and_catch_up_once(engine: Engine) -> None:
    hand_off(engine)
    # Friday night, New York: closed. Nothing is sent, however late it is.
    assert run(engine, utc(2026, 11, 21, 3, 0)) == []
    # Monday 09:05: the sweep catches up, each overdue level once, no stale reminder.
    assert run(engine, utc(2026, 11, 23, 14, 5)) == [
        "escalation:1:U0DANA",
        "escalation:2:#sales-leadership",
        "reassignment:0:U0CHLOE",
    ]
    assert run(engine, utc(2026, 11, 23, 14, 6)) == []


def test_a_decision_stops_the_ladder(engine: Engine) -> None:
    handoff_id = hand_off(engine)
    with Session(engine) as session:
        assert accept(
            session=session,
            handoff_id=handoff_id,
            actor=Actor("U0ALICE"),
            now=utc(2026, 11, 20, 18, 30),
        ).ok
        session.commit()
    assert run(engine, utc(2026, 11, 20, 21, 1)) == []


def test_twenty_four_seven_tiers_notify_at_night(engine: Engine) -> None:
    hand_off(engine, demos=1)
    # A high-priority lead: 30 fit + 40 demo + 30 pricing views (capped) = 100.
    base = context()
    ctx = Context(rules=base.rules, team=base.team, now=utc(2026, 11, 21, 3, 0), sla=SLA)
    views = [
        {"id": f"p{i}", "kind": "pricing_page_view", "occurred_at": "2026-11-21T02:00:00Z"}
        for i in range(2)
    ]
    body = LeadIn.model_validate(
        lead_body("H", employees=100, country="US", activities=[demo("hd"), *views])
    )
    with Session(engine) as session:
        (outcome,) = ingest_leads(session=session, leads=[body], context=ctx)
        session.commit()
    assert outcome.score.tier.value == "high_priority"
    assert run(engine, utc(2026, 11, 21, 3, 11)) == ["reminder:0:U0CHLOE"]
    assert run(engine, utc(2026, 11, 21, 3, 16)) == ["escalation:1:U0DANA"]


def test_sweep_and_out_of_office_commands(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sla_text = (REPO / "handoff.example.toml").read_text()
    start = sla_text.index("\n[sla]\n")
    sla_section = sla_text[start : sla_text.index("#####", start)]
    (tmp_path / "handoff.toml").write_text(RULES_TOML + TEAM_TOML + sla_section)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["rep", "ooo", "U0ALICE", "on"]) == 0
    assert "Alice (U0ALICE) is out of office" in capsys.readouterr().out
    assert main(["rep", "ooo", "U0NOBODY", "on"]) == 2
    assert "no rep U0NOBODY in [[team.reps]]" in capsys.readouterr().err
    (tmp_path / "leads.csv").write_text("external_id,employees,country\nL1,100,US\n")
    (tmp_path / "acts.csv").write_text("lead_id,kind,occurred_at\nL1,demo_request,2026-11-01\n")
    assert main(["import", "leads.csv", "--activities", "acts.csv"]) == 0
    capsys.readouterr()
    later = datetime.now(UTC) + timedelta(days=30)
    monday_10am_new_york = (later + timedelta(days=(7 - later.weekday()) % 7)).replace(
        hour=15, minute=0, second=0, microsecond=0
    )
    at = monday_10am_new_york.isoformat()
    # The future for real is refused; a dry run shows what would happen and changes nothing.
    assert main(["sweep", "--now", at]) == 2
    assert "is in the future" in capsys.readouterr().err
    assert main(["sweep", "--now", at, "--dry-run"]) == 0
    dry = capsys.readouterr().out.splitlines()
    assert dry[0].startswith("would send: escalation level 1 for hand-off 1")
    assert dry[-1].endswith("would be made; nothing was changed.")
    engine = make_engine(database_url)
    with Session(engine) as session:
        assert session.scalars(select(Outbox)).all() != []  # the import's card
        assert notice_texts(session) == []
        assert session.scalars(select(Notification)).all() == []
    engine.dispose()
    assert main(["sweep", "--now", at, "--simulate"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        "escalation level 1 for hand-off 1 to U0DANA",
        "escalation level 2 for hand-off 1 to #sales-leadership",
        "hand-off 1 reassigned to nobody (unassigned)",  # Alice away, Ben GB only
    ]
    assert out[3].endswith("2 notification(s) queued, 1 reassignment(s).")
    engine = make_engine(database_url)
    with Session(engine) as session:
        texts = notice_texts(session)
    engine.dispose()
    assert "<@U0CHLOE> has not answered" in texts[0]  # Alice was away


def test_an_away_reps_leads_move_at_the_next_sweep(engine: Engine) -> None:
    handoff_id = hand_off(engine)
    with Session(engine) as session:
        set_out_of_office(session=session, slack_id="U0ALICE", away=True)
        session.commit()
    assert run(engine, utc(2026, 11, 20, 15, 30)) == ["reassignment:0:U0CHLOE"]
    assert run(engine, utc(2026, 11, 20, 15, 31)) == []
    with Session(engine) as session:
        old = session.get(Handoff, handoff_id)
        assert old is not None
        assert old.status == "reassigned"
        card = load_card(
            session=session,
            handoff_id=handoff_id,
            team=context().team,
            reasons=DEFAULT_REJECT_REASONS,
        )
        kinds = session.scalars(select(col(Outbox.kind)).order_by(col(Outbox.id))).all()
    assert card.reassigned_to == "U0CHLOE"
    assert not card.breached
    # One card per lead: the move redraws it and says so in its thread. The first card was
    # not sent yet here, so the move queues its post too (the sender posts a lead's card
    # once, whichever of the two goes first).
    assert kinds == ["post_card", "post_card", "update_card", "thread_reply"]
    with Session(engine) as session:
        new = newest_of_chain(session=session, handoff_id=handoff_id)
        moved = load_card(
            session=session, handoff_id=new, team=context().team, reasons=DEFAULT_REJECT_REASONS
        )
    assert (moved.rep_slack_id, moved.owners, len(moved.moves)) == ("U0CHLOE", 2, 1)
    assert moved.first_handed_at == card.created_at
    shown = json.dumps(to_dicts(card_blocks(moved)))
    assert "2nd owner" in shown
    assert "moved from <@U0ALICE> while they were out of office" in shown
    assert "moved from <@U0ALICE> while they were out of office. Now <@U0CHLOE>'s" in moved_text(
        moved
    )


def test_an_unassigned_lead_waits_to_be_claimed_instead_of_being_posted_again(
    engine: Engine,
) -> None:
    """A Canadian lead while Chloe (the only rep for CA) is away: unassigned. Its breach is
    told, but the reassigning level does not post it again with a fresh deadline."""
    base = context()
    ctx = Context(rules=base.rules, team=base.team, now=base.now, sla=SLA)
    sync_team(engine=engine, team=ctx.team)
    with Session(engine) as session:
        set_out_of_office(session=session, slack_id="U0CHLOE", away=True)
        session.commit()
    body = LeadIn.model_validate(lead_body("CA1", employees=100, country="CA", activities=[demo()]))
    with Session(engine) as session:
        (outcome,) = ingest_leads(session=session, leads=[body], context=ctx)
        session.commit()
    assert outcome.handoff is not None
    assert outcome.handoff.rep_slack_id is None
    # Friday 15:00 and 16:30 in New York (level 1, then the reassigning level 2), and the
    # next Monday's working hours, when a fresh deadline would have breached again.
    for hours in (5, 6.5, 72, 78.5, 96):
        sent = run(engine, base.now + timedelta(hours=hours))
        assert not any(s.startswith("reassignment") for s in sent)
    with Session(engine) as session:
        levels = session.scalars(select(col(Notification.level))).all()
    assert sorted(levels) == [1, 2]  # the breach was told, once per level
    with Session(engine) as session:
        assert len(session.scalars(select(Handoff)).all()) == 1


def test_a_dry_run_refuses_a_database_it_would_have_to_create_or_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "handoff.toml").write_text(RULES_TOML + TEAM_TOML)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'typo.db'}")
    assert main(["sweep", "--dry-run"]) == 2
    assert "typo.db: no such database file" in capsys.readouterr().err
    assert not (tmp_path / "typo.db").exists()
