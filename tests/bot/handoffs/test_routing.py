"""Who gets a lead: eligibility, round robin, and fairness kept in the database."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.handoffs.routing import Rotation, choose_rep
from bot.handoffs.team import sync_team
from store.reps import RepSlot, find_rep, routing_slots, save_turns, set_out_of_office
from tests.helpers import team

_ids = iter(range(1, 10_000))


def load(slack_id: str, pending: int = 0, **fields: Any) -> RepSlot:
    values = {"active": True, "out_of_office": False, **fields}
    return RepSlot(id=next(_ids), slack_id=slack_id, pending=pending, **values)


def pick(candidates: list[RepSlot], territory: object = "US") -> tuple[str | None, str | None]:
    chosen = choose_rep(candidates, territory=territory, territory_field="country")
    return (chosen.rep.slack_id if chosen.rep else None), chosen.reason


def test_first_eligible_in_round_robin_order() -> None:
    assert pick([load("A"), load("B")]) == ("A", None)


@pytest.mark.parametrize(
    ("candidates", "territory", "reason"),
    [
        ([], "US", "no reps in [team.reps]"),
        ([load("A", active=False)], "US", "no active rep in [team.reps]"),
        ([load("A", out_of_office=True)], "US", "every active rep is out of office"),
        ([load("A", territories=["GB"])], "US", "no available rep covers leads with country 'US'"),
        ([load("A", territories=["GB"])], None, "no available rep covers leads with no country"),
        ([load("A", pending=3, capacity=3)], "US", "every eligible rep is at capacity"),
    ],
)
def test_why_nobody_gets_the_lead(
    candidates: list[RepSlot], territory: object, reason: str
) -> None:
    assert pick(candidates, territory) == (None, reason)


def test_skips_ineligible_reps() -> None:
    candidates = [
        load("away", out_of_office=True),
        load("full", pending=1, capacity=1),
        load("gb", territories=["GB"]),
        load("us", territories=[" us "]),
        load("anywhere"),
    ]
    assert pick(candidates, "US") == ("us", None)
    assert pick(candidates, "FR") == ("anywhere", None)


def _assign_many(engine: Engine, territories: list[str]) -> list[str | None]:
    """Routes each lead in its own transaction, as separate requests would."""
    chosen = []
    for territory in territories:
        with Session(engine) as session:
            rotation = Rotation(routing_slots(session=session), territory_field="country")
            assignment = rotation.assign(territory)
            save_turns(session=session, turns=rotation.changed)
            chosen.append(assignment.rep.slack_id if assignment.rep else None)
            session.commit()
    return chosen


def test_turn_order_then_config_order() -> None:
    late = load("late", turn=5, position=0)
    early = load("early", turn=1, position=9)
    assert pick([late, early]) == ("early", None)
    rotation = Rotation([late, early], territory_field="country")
    chosen = [rotation.assign("US").rep for _ in range(3)]
    assert [rep.slack_id if rep else None for rep in chosen] == ["early", "late", "early"]


def test_rotation_counts_new_pending_against_capacity() -> None:
    rotation = Rotation([load("A", capacity=2)], territory_field="country")
    results = [rotation.assign("US") for _ in range(3)]
    assert [r.rep.slack_id if r.rep else r.reason for r in results] == [
        "A",
        "A",
        "every eligible rep is at capacity",
    ]


def test_round_robin_is_fair_and_survives_restarts(engine: Engine, database_url: str) -> None:
    sync_team(engine=engine, team=team())
    # Alice (US) and Chloe (anywhere) share US leads; a fresh engine is a restarted process.
    first = _assign_many(engine, ["US"] * 3)
    from store.db import make_engine

    restarted = make_engine(database_url)
    second = _assign_many(restarted, ["US"] * 3)
    restarted.dispose()
    assert first + second == ["U0ALICE", "U0CHLOE"] * 3
    assert Counter(first + second) == {"U0ALICE": 3, "U0CHLOE": 3}


def test_out_of_office_rep_gets_nothing(engine: Engine) -> None:
    sync_team(engine=engine, team=team())
    with Session(engine) as session:
        set_out_of_office(session=session, slack_id="U0ALICE", away=True)
        session.commit()
    assert _assign_many(engine, ["US", "US"]) == ["U0CHLOE", "U0CHLOE"]


def test_sync_keeps_runtime_state_and_retires_removed_reps(engine: Engine) -> None:
    sync_team(engine=engine, team=team())
    with Session(engine) as session:
        set_out_of_office(session=session, slack_id="U0CHLOE", away=True)
        session.commit()
    smaller = team(reps=[r.model_dump() for r in team().reps if r.slack_id != "U0ALICE"])
    sync_team(engine=engine, team=smaller)
    with Session(engine) as session:
        chloe = find_rep(session=session, slack_id="U0CHLOE")
        alice = find_rep(session=session, slack_id="U0ALICE")
        assert chloe is not None
        assert alice is not None
        assert chloe.out_of_office
        assert not alice.in_config
    assert _assign_many(engine, ["US"]) == [None]


def test_nobody_left_says_the_true_reason() -> None:
    """Alice held the lead; Chloe has not, but is full: the lead waits because of
    capacity, and with Chloe free it goes to her, never back to Alice."""
    alice, chloe = load("alice"), load("chloe", capacity=1, pending=1)
    chosen = choose_rep([alice, chloe], territory="US", territory_field="country", held=[alice.id])
    assert (chosen.rep, chosen.reason) == (None, "every eligible rep is at capacity")
    free = load("chloe", capacity=2, pending=1)
    chosen = choose_rep([alice, free], territory="US", territory_field="country", held=[alice.id])
    assert chosen.rep is free
    gone = choose_rep([alice], territory="US", territory_field="country", held=[alice.id])
    assert gone.reason == "every eligible rep has held this lead already"
