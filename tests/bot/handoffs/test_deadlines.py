"""SLA policy: config errors, deadlines stored at hand-off, recomputation, the card."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from bot.config import ConfigError, SlaConfig, load_config
from bot.handoffs.deadlines import Terms, deadlines, recompute_pending, terms
from bot.handoffs.inputs import LeadIn
from bot.handoffs.intake import Context, ingest_leads
from bot.handoffs.team import sync_team
from bot.reports.format import sla_terms
from scoring import Tier
from store.models import Handoff
from tests.helpers import REPO, context, demo, lead_body

SLA = tomllib.loads((REPO / "handoff.example.toml").read_text())["sla"]
# NOW in tests.helpers is Friday 2026-11-20 15:00 UTC = 10:00 in New York.
FRIDAY_10AM = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def policy(**changes: Any) -> SlaConfig:
    return SlaConfig.model_validate({**SLA, **changes})


def test_deadlines_per_tier() -> None:
    sla = policy()
    high = deadlines(sla, Tier.HIGH_PRIORITY, FRIDAY_10AM)
    assert (high.due_at, high.warn_at) == (
        datetime(2026, 11, 20, 15, 15, tzinfo=UTC),
        datetime(2026, 11, 20, 15, 10, tzinfo=UTC),
    )
    mql = deadlines(sla, Tier.MQL, FRIDAY_10AM)
    # 24 business hours from Friday 10:00: Fri 7 h, Mon 8 h, Tue 8 h, Wed 1 h -> Wed 10:00 NY.
    assert mql.due_at == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert mql.warn_at == datetime(2026, 11, 24, 19, 0, tzinfo=UTC)  # 20 h in: Tue 14:00 NY
    assert mql.policy_version == sla.policy_version()
    assert deadlines(sla, Tier.NURTURE, FRIDAY_10AM).due_at is None
    assert deadlines(None, Tier.SQL, FRIDAY_10AM).due_at is None
    assert terms(sla, Tier.HIGH_PRIORITY) == Terms(15, business_time=False)
    assert sla_terms(Terms(15, business_time=False)) == "15 min"
    assert sla_terms(Terms(240, business_time=True)) == "4 h of business time"


def test_policy_version_follows_the_policy() -> None:
    assert policy().policy_version() == policy().policy_version()
    changed = policy(tiers={**SLA["tiers"], "sql": {"respond_within": "2h"}})
    assert changed.policy_version() != policy().policy_version()
    assert policy(version="2026-11").policy_version() == "2026-11"


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ('respond_within = "soon"', "sql.respond_within: 'soon' is not a duration"),
        ('calendar = "office"', "no calendar 'office' (known: 24x7, business)"),
        ('warn_before = "5h"', "warn_before must be more than zero and less than respond_within"),
        ('"09:00-17:00"], tue', "mon: windows overlap"),
    ],
)
def test_sla_mistakes_are_named(tmp_path: Path, mistake: str, message: str) -> None:
    text = (REPO / "handoff.example.toml").read_text()
    replacements = {
        'respond_within = "soon"': ('respond_within = "4h"', 'respond_within = "soon"'),
        'calendar = "office"': (
            'calendar = "business"\nwarn_before = "1h"',
            'calendar = "office"\nwarn_before = "1h"',
        ),
        'warn_before = "5h"': ('warn_before = "1h"', 'warn_before = "5h"'),
        '"09:00-17:00"], tue': ('mon = ["09:00-17:00"]', 'mon = ["09:00-17:00", "16:00-18:00"]'),
    }
    old, new = replacements[mistake]
    path = tmp_path / "handoff.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any(message in problem for problem in caught.value.problems), caught.value.problems
    assert all(problem.startswith(f"{path}:") for problem in caught.value.problems)


def hand_off(engine: Engine, ctx: Context) -> Handoff:
    sync_team(engine=engine, team=ctx.team)
    body = LeadIn.model_validate(lead_body("S", employees=100, country="US", activities=[demo()]))
    with Session(engine) as session:
        ingest_leads(session=session, leads=[body], context=ctx)
        session.commit()
    with Session(engine) as session:
        handoff = session.scalars(select(Handoff)).one()
        session.expunge(handoff)
        return handoff


def test_handoff_stores_its_deadlines_and_a_new_policy_recomputes_them(engine: Engine) -> None:
    ctx = context()
    handoff = hand_off(engine, Context(rules=ctx.rules, team=ctx.team, now=ctx.now, sla=policy()))
    assert handoff.tier == "sql"  # 30 fit + 40 demo
    assert handoff.due_at == datetime(2026, 11, 20, 19, 0, tzinfo=UTC)  # Fri 14:00 NY
    assert handoff.policy_version == policy().policy_version()
    faster = policy(tiers={**SLA["tiers"], "sql": {"respond_within": "1h", "calendar": "business"}})
    with Session(engine) as session:
        assert recompute_pending(session=session, sla=faster) == 1
        session.commit()
        again = session.get(Handoff, handoff.id)
        assert again is not None
        assert again.due_at == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
        assert again.warn_at is None
        assert again.policy_version == faster.policy_version()
        assert recompute_pending(session=session, sla=faster) == 0
