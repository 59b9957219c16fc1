"""The SLA figures against an independent computation, over generated journeys: leads
handed off once or several times (moved on, by a breach, a rep away or a manager),
decided on time or late, or still pending; on SQLite and PostgreSQL.

Checks the definitions (within, breached, compliance per tier and per rep) and that every
total is the sum of its parts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select
from sqlmodel import Session

from bot.config import DEFAULT_REJECT_REASONS
from bot.handoffs.team import sync_team
from bot.reports.digest import metrics
from store.metrics import Period
from store.models import Handoff, Lead, Rep, ScoreSnapshot
from tests.helpers import team
from tests.scenarios import sla_of

WEEK_START = datetime(2026, 11, 16, 5, 0, tzinfo=UTC)
PERIOD = Period(WEEK_START, WEEK_START + timedelta(days=7))
REPS = ("U0ALICE", "U0BEN", "U0CHLOE")
TIERS = ("high_priority", "sql", "mql")


@dataclass(frozen=True)
class Stint:
    """One hand-off of a lead: who held it, how long until it ended, its deadline."""

    rep: int | None
    tier: str
    lasted: int  # minutes until it was decided or moved on
    due_in: int | None  # minutes to the deadline, or no SLA


@dataclass(frozen=True)
class Journey:
    """A lead's hand-offs, each ended by a move but the last, and how the last ended."""

    start: int  # minutes into the week
    stints: list[Stint]
    last: str  # accepted, rejected, pending or expired


stints = st.builds(
    Stint,
    rep=st.one_of(st.none(), st.integers(0, len(REPS) - 1)),
    tier=st.sampled_from(TIERS),
    lasted=st.integers(0, 3 * 24 * 60),
    due_in=st.one_of(st.none(), st.sampled_from([15, 240, 1440, 2880])),
)
journeys = st.lists(
    st.builds(
        Journey,
        start=st.integers(0, 7 * 24 * 60 - 1),
        stints=st.lists(stints, min_size=1, max_size=4),
        last=st.sampled_from(["accepted", "rejected", "pending", "expired"]),
    ),
    max_size=12,
)


def store(engine: Engine, leads: list[Journey]) -> None:
    """Writes the journeys as leads with their hand-offs (after clearing earlier ones)."""
    with Session(engine) as session:
        for model in (Handoff, ScoreSnapshot, Lead):
            session.execute(delete(model))
        rep_ids = {r.slack_id: r.id for r in session.scalars(select(Rep))}
        for number, journey in enumerate(leads):
            _store_journey(session, number, journey, rep_ids)
        session.commit()


def _store_journey(
    session: Session, number: int, journey: Journey, rep_ids: dict[str, int | None]
) -> None:
    at = WEEK_START + timedelta(minutes=journey.start)
    lead = Lead(source_system="gen", external_id=f"L{number}", created_at=at, updated_at=at)
    session.add(lead)
    session.flush()
    assert lead.id is not None
    for position, stint in enumerate(journey.stints):
        snapshot = ScoreSnapshot(
            lead_id=lead.id,
            fit=1,
            intent=1,
            total=2,
            tier=stint.tier,
            routable=True,
            rules_version="v",
            computed_at=at,
        )
        session.add(snapshot)
        session.flush()
        assert snapshot.id is not None
        last = position == len(journey.stints) - 1
        status = journey.last if last else "reassigned"
        ended = at + timedelta(minutes=stint.lasted)
        session.add(
            Handoff(
                lead_id=lead.id,
                snapshot_id=snapshot.id,
                rep_id=None if stint.rep is None else rep_ids[REPS[stint.rep]],
                tier=stint.tier,
                status=status,
                created_at=at,
                due_at=None if stint.due_in is None else at + timedelta(minutes=stint.due_in),
                decided_at=None if status in ("pending", "expired") else ended,
            )
        )
        session.flush()
        at = ended


def rate(within: int, breached: int) -> float | None:
    return round(within / (within + breached), 4) if within + breached else None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(leads=journeys, later=st.integers(0, 3 * 24 * 60))
def test_sla_figures_follow_their_definitions_and_add_up(
    engine: Engine, leads: list[Journey], later: int
) -> None:
    """As of some minutes after the week (the digest is posted after it ends): a deadline
    that passed meanwhile without a decision is breached, wherever it fell."""
    as_of = PERIOD.end + timedelta(minutes=later)
    sync_team(engine=engine, team=team())
    store(engine, leads)
    with Session(engine) as session:
        got = metrics(
            session=session,
            week="gen",
            period=PERIOD,
            reasons=DEFAULT_REJECT_REASONS,
            as_of=as_of,
        ).model_dump()
        # The period's cohort: the hand-offs created in it (a later move may fall after).
        rows = [
            h for h in session.scalars(select(Handoff)) if PERIOD.start <= h.created_at < PERIOD.end
        ]
        slack_of = {r.id: r.slack_id for r in session.scalars(select(Rep))}
    where = {h.id: sla_of(h, as_of) for h in rows}
    # The five SLA states, each hand-off in exactly one.
    assert got["sla"] == {part: Counter(where.values())[part] for part in got["sla"]}
    assert sum(got["sla"].values()) == got["handoffs"] == len(rows)
    states = Counter(where.values())
    assert got["sla_compliance"]["overall"] == rate(states["within"], states["breached"])
    assert got["breaches"] == states["breached"]
    # Per tier: every tier that had hand-offs, and the tiers add up.
    for tier in {h.tier for h in rows}:
        mine = Counter(where[h.id] for h in rows if h.tier == tier)
        assert got["sla_compliance"]["by_tier"][tier] == rate(mine["within"], mine["breached"])
        assert got["handoffs_by_tier"][tier] == sum(mine.values())
    assert sum(got["handoffs_by_tier"].values()) == got["handoffs"]
    assert set(got["sla_compliance"]["by_tier"]) == {h.tier for h in rows}
    # Per rep: every rep who held a hand-off; a breach counts against the rep who held it.
    held = {h.rep_id for h in rows if h.rep_id is not None}
    assert set(got["sla_compliance"]["by_rep"]) == {slack_of[r] for r in held}
    for rep_id in held:
        mine = Counter(where[h.id] for h in rows if h.rep_id == rep_id)
        row = next(r for r in got["reps"] if r["rep"] == slack_of[rep_id])
        assert (row["handoffs"], row["within"], row["breached"]) == (
            sum(mine.values()),
            mine["within"],
            mine["breached"],
        )
        assert got["sla_compliance"]["by_rep"][slack_of[rep_id]] == row["compliance"]
        assert row["compliance"] == rate(mine["within"], mine["breached"])
    assert sum(r["handoffs"] for r in got["reps"]) + got["unassigned"] == got["handoffs"]
    assert sum(r["breached"] for r in got["reps"]) == sum(
        1 for h in rows if h.rep_id is not None and where[h.id] == "breached"
    )
    # Statuses add up; leads are counted apart from hand-offs.
    statuses = Counter(h.status for h in rows)
    assert {s: got[s] for s in statuses} == dict(statuses)
    assert (
        sum(got[s] for s in ("accepted", "rejected", "pending", "reassigned", "expired"))
        == (got["handoffs"])
    )
    assert got["decided"] == statuses["accepted"] + statuses["rejected"]
    assert got["acceptance_rate"] == (
        round(statuses["accepted"] / got["decided"], 4) if got["decided"] else None
    )
    assert got["handed_off"] == len({h.lead_id for h in rows})
    assert got["leads_accepted"] == len({h.lead_id for h in rows if h.status == "accepted"})
