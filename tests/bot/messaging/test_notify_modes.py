"""Where a tier's cards go (`team.notify`): the channel, the rep's DM, or both; DMs are
paced per DM, so in a burst each rep gets theirs at Slack's pace for them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from bot.config import DEFAULT_REJECT_REASONS, ConfigError, load_config
from bot.handoffs.cards import load_card
from bot.handoffs.decisions import accept
from bot.handoffs.inputs import LeadIn
from bot.handoffs.intake import ingest_leads
from bot.handoffs.reassign import Move, reassign
from bot.handoffs.team import sync_team
from bot.handoffs.verdicts import Actor
from bot.messaging.pacer import Pacer
from bot.messaging.sender import Deliverer
from bot.sandbox.slack_api import SlackSandbox
from bot.sandbox.slack_rules import dm_id
from bot.slack.ids import ActionId
from bot.slack.surface import SlackSurface, web_client
from scoring.rules import Tier
from store.models import Handoff, MoveReason, Outbox
from tests.bot.messaging.test_sender import CHANNEL, Clock, drain
from tests.helpers import NOW, RULES_TOML, TEAM_TOML, context, demo, lead_body, team

REPS = ("U0ALICE", "U0BEN", "U0CHLOE")
# Three reps who take leads from anywhere, in turn
ANYWHERE = [{"slack_id": rep, "name": rep[2:].title(), "manager": "U0DANA"} for rep in REPS]


@pytest.fixture
def sandbox() -> Any:
    with SlackSandbox() as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


def deliverer(engine: Engine, sandbox: SlackSandbox, clock: Clock, **team_changes: Any) -> Any:
    sandbox.state.rules.clock = lambda: clock.mono  # Slack's rate limit runs on our clock
    return Deliverer(
        engine=engine,
        surface=SlackSurface(web_client(token="xoxb-test", api_url=sandbox.url)),
        team=team(**{"reps": ANYWHERE, **team_changes}),
        reasons=DEFAULT_REJECT_REASONS,
        clock=clock.wall,
        pacer=Pacer(clock=lambda: clock.mono, sleep=clock.sleep),
    )


def take_in(engine: Engine, count: int, *, prefix: str = "N", **team_changes: Any) -> list[int]:
    """Takes in `count` SQL-tier leads (a fit and a demo: 70 points); gets their hand-offs."""
    ctx = context(**{"reps": ANYWHERE, **team_changes})
    sync_team(engine=engine, team=ctx.team)
    bodies = [
        LeadIn.model_validate(
            lead_body(f"{prefix}{i}", employees=100, country="US", activities=[demo()])
        )
        for i in range(count)
    ]
    with Session(engine) as session:
        ingest_leads(session=session, leads=bodies, context=ctx)
        session.commit()
        return list(session.scalars(select(col(Handoff.id)).order_by(col(Handoff.id))))


def cards(sandbox: SlackSandbox, where: str) -> list[dict[str, Any]]:
    return [m for m in sandbox.channel(where) if "metadata" in m]


def buttons(message: dict[str, Any]) -> list[str]:
    return [
        element["action_id"]
        for block in message.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements") or []
    ]


def test_dm_tier_card_goes_to_the_rep_only_and_is_updated_there(
    engine: Engine, sandbox: SlackSandbox, clock: Clock
) -> None:
    notify = {"sql": "dm"}
    ids = take_in(engine, 3, notify=notify)
    drain(deliverer(engine, sandbox, clock, notify=notify), clock, rounds=3)
    assert cards(sandbox, CHANNEL) == []
    assert [len(cards(sandbox, rep)) for rep in REPS] == [1, 1, 1]  # round robin
    (card,) = cards(sandbox, "U0ALICE")
    assert buttons(card)  # the DM card is the card: Accept and Reject on it
    with Session(engine) as session:
        first = session.get(Handoff, ids[0])
        assert first is not None
        assert first.channel == dm_id("U0ALICE")  # recorded where Slack put it (D…)
        assert accept(session=session, handoff_id=ids[0], actor=Actor("U0ALICE"), now=NOW).status
        session.commit()
    drain(deliverer(engine, sandbox, clock, notify=notify), clock, rounds=2)
    (card,) = cards(sandbox, "U0ALICE")
    assert not buttons(card)  # redrawn in place: decided
    assert cards(sandbox, CHANNEL) == []


def test_tiers_choose_their_own_mode_and_dm_reps_is_both() -> None:
    config = team(notify={"high_priority": "dm"}, dm_reps=True)
    assert config.notify_for(Tier.HIGH_PRIORITY) == "dm"
    assert config.notify_for(Tier.SQL) == "both"
    assert team().notify_for(Tier.SQL) == "channel"


def test_both_posts_in_the_channel_and_a_copy_by_dm(
    engine: Engine, sandbox: SlackSandbox, clock: Clock
) -> None:
    notify = {"sql": "both"}
    take_in(engine, 2, notify=notify)
    drain(deliverer(engine, sandbox, clock, notify=notify), clock, rounds=3)
    assert len(cards(sandbox, CHANNEL)) == 2
    assert [len(cards(sandbox, rep)) for rep in REPS] == [1, 1, 0]


def test_a_lead_no_rep_can_take_goes_to_the_channel_in_dm_mode(
    engine: Engine, sandbox: SlackSandbox, clock: Clock
) -> None:
    reps = [
        {"slack_id": "U0ALICE", "name": "Alice", "territories": ["GB"]},
    ]
    notify = {"sql": "dm"}
    take_in(engine, 1, notify=notify, reps=reps)  # a US lead: nobody covers it
    drain(deliverer(engine, sandbox, clock, notify=notify, reps=reps), clock, rounds=3)
    assert len(cards(sandbox, CHANNEL)) == 1
    assert cards(sandbox, "U0ALICE") == []


def test_a_moved_dm_lead_keeps_its_card_and_the_new_owner_gets_a_copy(
    engine: Engine, sandbox: SlackSandbox, clock: Clock
) -> None:
    notify = {"sql": "dm"}
    (first,) = take_in(engine, 1, notify=notify)
    drain(deliverer(engine, sandbox, clock, notify=notify), clock, rounds=3)
    with Session(engine) as session:
        moved = reassign(
            session=session,
            handoff_id=first,
            team=team(notify=notify, reps=ANYWHERE),
            sla=None,
            now=clock.wall(),
            move=Move(MoveReason.MANAGER, by="U0DANA"),
        )
        session.commit()
    assert moved is not None
    assert moved.rep_slack_id == "U0BEN"
    drain(deliverer(engine, sandbox, clock, notify=notify), clock, rounds=3)
    assert len(cards(sandbox, "U0ALICE")) == 1  # the card, redrawn, with the move threaded
    assert len(cards(sandbox, "U0BEN")) == 1  # the new owner's copy
    assert cards(sandbox, CHANNEL) == []


def test_a_dm_card_posted_but_not_recorded_is_found_not_posted_twice(
    engine: Engine, sandbox: SlackSandbox, clock: Clock
) -> None:
    """The sender died after Slack posted the card: the retry finds it in the DM's history
    (opened by the rep's user id, as history wants the D… id) instead of posting again."""
    notify = {"sql": "dm"}
    (handoff_id,) = take_in(engine, 1, notify=notify)
    sender = deliverer(engine, sandbox, clock, notify=notify)
    with Session(engine) as session:
        card = load_card(
            session=session, handoff_id=handoff_id, team=sender.team, reasons=sender.reasons
        )
        entry = session.scalars(select(Outbox)).one()
        entry.attempts = 1  # the try that posted, then died before recording it
        session.add(entry)
        session.commit()
    first = sender.surface.post_card(channel="U0ALICE", card=card)
    assert sender.deliver_due().sent == 1
    assert len(sandbox.calls_to("chat.postMessage")) == 1
    assert [call.args["users"] for call in sandbox.calls_to("conversations.open")] == ["U0ALICE"]
    with Session(engine) as session:
        found = session.get(Handoff, handoff_id)
        assert found is not None
        assert (found.channel, found.message_ts) == (dm_id("U0ALICE"), first.ts)


def test_a_burst_by_dm_reaches_each_rep_at_their_own_pace(
    engine: Engine, sandbox: SlackSandbox, clock: Clock
) -> None:
    """Twelve leads for three reps: through the channel the last card waits for the other
    eleven at one a second; by DM each rep's four go out at that rep's pace."""
    take_in(engine, 12, prefix="C")
    channel_sender = deliverer(engine, sandbox, clock)
    channel_sender.deliver_due()
    through_channel = clock.slept
    assert len(cards(sandbox, CHANNEL)) == 12

    clock.slept = 0.0
    notify = {"sql": "dm"}
    take_in(engine, 12, prefix="D", notify=notify)
    dm_sender = deliverer(engine, sandbox, clock, notify=notify)
    dm_sender.deliver_due()
    by_dm = clock.slept
    assert [len(cards(sandbox, rep)) for rep in REPS] == [4, 4, 4]
    # Slack's burst lets 3 go at once per conversation, then one a second
    assert through_channel >= 12 - 3
    assert by_dm <= 3 * (4 - 3) + 1
    assert by_dm < through_channel / 2


def test_an_unknown_mode_is_refused_with_file_line_and_what_to_write(tmp_path: Path) -> None:
    path = tmp_path / "handoff.toml"
    path.write_text(
        RULES_TOML + TEAM_TOML.replace("[team]\n", '[team]\nnotify = { sql = "slack" }\n')
    )
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    (problem,) = refused.value.problems
    assert problem.startswith(f"{path}:")
    assert "team.notify.sql" in problem
    assert "'channel', 'dm' or 'both'" in problem


def move(engine: Engine, handoff_id: int, clock: Clock, reps: list[dict[str, Any]]) -> Any:
    with Session(engine) as session:
        moved = reassign(
            session=session,
            handoff_id=handoff_id,
            team=team(notify={"sql": "dm"}, reps=reps),
            sla=None,
            now=clock.wall(),
            move=Move(MoveReason.MANAGER, by="U0DANA"),
        )
        session.commit()
    return moved


def test_a_dm_lead_moved_to_nobody_can_be_claimed_in_the_channel(
    engine: Engine, sandbox: SlackSandbox, clock: Clock
) -> None:
    """Its card stays in the old rep's DM, which nobody else sees: a copy goes to the
    channel, with Claim, as a lead no rep could take always does."""
    notify, reps = {"sql": "dm"}, ANYWHERE[:1]
    (first,) = take_in(engine, 1, notify=notify, reps=reps)
    drain(deliverer(engine, sandbox, clock, notify=notify, reps=reps), clock, rounds=3)
    moved = move(engine, first, clock, reps)  # Alice held it: there is no one else
    assert moved.rep_slack_id is None
    drain(deliverer(engine, sandbox, clock, notify=notify, reps=reps), clock, rounds=3)
    (copy,) = cards(sandbox, CHANNEL)
    assert buttons(copy) == [ActionId.CLAIM, ActionId.ACCEPT, ActionId.REJECT]


def test_a_dm_lead_moved_before_its_card_went_out_goes_to_its_new_owner(
    engine: Engine, sandbox: SlackSandbox, clock: Clock
) -> None:
    (first,) = take_in(engine, 1, notify={"sql": "dm"})
    moved = move(engine, first, clock, ANYWHERE)  # Alice's card is still queued
    assert moved.rep_slack_id == "U0BEN"
    drain(deliverer(engine, sandbox, clock, notify={"sql": "dm"}), clock, rounds=3)
    assert cards(sandbox, "U0ALICE") == []
    (card,) = cards(sandbox, "U0BEN")
    assert buttons(card) == [ActionId.ACCEPT, ActionId.REJECT]
    with Session(engine) as session:
        found = session.get(Handoff, moved.id)
        assert found is not None
        assert found.channel == dm_id("U0BEN")  # recorded: its updates go there
