"""Shadow rules: a candidate rule set scores every new lead beside the live one, routes
nothing, and the monthly report says how often they disagree and which did better."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from bot.config import DEFAULT_REJECT_REASONS, ConfigError, load_config
from bot.handoffs.inputs import LeadIn
from bot.handoffs.intake import Context, ingest_leads
from bot.handoffs.team import sync_team
from bot.reports.revenue import revenue_report
from store.models import Handoff, Outcome, ShadowScore
from tests.helpers import NOW, RULES_TOML, TEAM_TOML, context, demo, lead_body, team

# The candidate values company size twice as much: a lead of the right size with no
# activity is an MQL for it, nurture for the live rules.
CANDIDATE = RULES_TOML.replace('version = "test-rules"', 'version = "candidate"').replace(
    "points = 30\n[[scoring.intent]]", "points = 60\n[[scoring.intent]]", 1
)


def write_configs(tmp_path: Path) -> Path:
    (tmp_path / "candidate.toml").write_text(CANDIDATE)
    live = RULES_TOML.replace(
        'version = "test-rules"\n', 'version = "test-rules"\nshadow = "candidate.toml"\n'
    )
    path = tmp_path / "handoff.toml"
    path.write_text(live + TEAM_TOML)
    return path


def test_shadow_rules_score_every_lead_and_route_nothing(engine: Engine, tmp_path: Path) -> None:
    config = load_config(write_configs(tmp_path))
    rules = config.scoring
    assert rules.shadow_rules is not None
    assert rules.shadow_rules.version == "candidate"
    sync_team(engine=engine, team=config.team)
    leads = [
        LeadIn.model_validate(lead_body("fit-only", employees=200, country="US")),
        LeadIn.model_validate(lead_body("demo", employees=200, country="US", activities=[demo()])),
        LeadIn.model_validate(lead_body("small", employees=3, country="US")),
    ]
    with Session(engine) as session:
        done = ingest_leads(
            session=session, leads=leads, context=Context(rules=rules, team=config.team, now=NOW)
        )
        session.commit()
    assert [d.handed_off for d in done] == [False, True, False]  # the live rules route
    with Session(engine) as session:
        shadows = {s.lead_id: s for s in session.scalars(select(ShadowScore))}
        assert len(shadows) == 3
        assert shadows[done[0].lead_id].tier == "mql"  # would have been routed by the candidate
        assert session.scalar(select(func.count()).select_from(Handoff)) == 1
        session.add(
            Outcome(lead_id=done[0].lead_id, stage="closed_won", occurred_at=NOW, created_at=NOW)
        )
        session.commit()
        report = revenue_report(
            session=session, team=team(), reasons=DEFAULT_REJECT_REASONS, months=["2026-11"]
        ).model_dump()
    shadow = report["shadow"]
    assert shadow["scored"] == 3
    assert shadow["tier_disagreements"] == 2  # fit-only: nurture vs mql; demo: sql vs high
    assert shadow["won"] == 1
    assert shadow["shadow"]["routable"] == 2
    assert shadow["live"]["routable"] == 1
    assert shadow["better"] in ("live", "shadow")


def test_a_missing_shadow_file_is_a_clear_config_error(tmp_path: Path) -> None:
    path = write_configs(tmp_path)
    (tmp_path / "candidate.toml").unlink()
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    assert problem.startswith(
        f"{path}:3: scoring.shadow: cannot read {tmp_path / 'candidate.toml'}"
    )


def test_without_shadow_rules_nothing_is_recorded(engine: Engine) -> None:
    with Session(engine) as session:
        ingest_leads(
            session=session,
            leads=[LeadIn.model_validate(lead_body("A", employees=100))],
            context=context(),
        )
        session.commit()
        assert session.scalar(select(func.count()).select_from(ShadowScore)) == 0
        report = revenue_report(
            session=session, team=team(), reasons=DEFAULT_REJECT_REASONS, months=["2026-11"]
        ).model_dump()
    assert report["shadow"] is None
