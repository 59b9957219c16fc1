"""App Home stays within Slack's 100 blocks for the busiest person: a rep who manages a
team with many breached leads and the week's digest (30 leads in each list here, more
than the queue ever gives, so the view must make room). Fewer leads are listed, and the
rest are counted ("and M more"), rather than the view cut mid-way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.handoffs.queue import Queue, QueueItem
from bot.reports.numbers import DigestNumbers
from bot.slack.listeners.home import MAX_VIEW_BLOCKS, home_view
from bot.slack.text import Mrkdwn
from scoring.rules import Tier
from tests.bot.slack.test_digest_post import numbers
from tests.helpers import team

NOW = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def item(number: int, *, breached: bool) -> QueueItem:
    return QueueItem(
        handoff_id=number,
        name=f"Lead {number}",
        company="Acme",
        tier=Tier.SQL,
        score=75,
        rep_slack_id="U0BEN",
        due_at=NOW - timedelta(minutes=number),
        breached=breached,
        first_handed_at=NOW - timedelta(hours=2),
        step=1,
        candidates=(("U0CHLOE", "Chloe"),),
    )


def test_the_busiest_home_fits_and_counts_what_it_leaves_out() -> None:
    queue = Queue(
        user="U0DANA",
        is_rep=True,
        away=False,
        mine=[item(i, breached=False) for i in range(1, 31)],
        mine_total=35,
        reports=["U0BEN"],
        team=[item(9000 + i, breached=True) for i in range(30)],
        team_total=48,
        as_of=NOW,
    )
    week = DigestNumbers.model_validate(numbers())
    view = home_view(queue, team=team(), week=week, updated=Mrkdwn("now"), notice=None)
    blocks = view.to_dict()["blocks"]
    assert len(blocks) <= MAX_VIEW_BLOCKS
    text = str(blocks)
    assert "Updated now" in str(blocks[-1])  # the footer survived
    shown_team = sum(1 for b in blocks if str(b.get("block_id", "")).startswith("home_lead:90"))
    assert f"and {48 - shown_team} more" in text.replace("…", "")
