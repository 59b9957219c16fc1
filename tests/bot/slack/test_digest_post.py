"""The weekly digest in Slack: Block Kit from the numbers, and its chart through Slack's
file upload flow, against the local sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from bot.config import DEFAULT_REJECT_REASONS, DigestConfig
from bot.messaging.pacer import Pacer
from bot.messaging.sender import Deliverer
from bot.reports.digest import post_if_due
from bot.reports.numbers import DigestNumbers
from bot.sandbox.slack_api import SlackSandbox
from bot.slack.blocks.cards import to_dicts
from bot.slack.blocks.digest import digest_blocks
from bot.slack.surface import SlackSurface, web_client
from store.models import Outbox, table
from tests.helpers import context
from tests.scenarios import build

DIGEST_CHANNEL = "C0456DIGEST"
TUESDAY = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)


def numbers(**changes: object) -> dict[str, object]:
    """A week whose parts add up: 40 leads, 41 hand-offs (one moved), 12 judged by the SLA."""
    base: dict[str, object] = {
        "period": "2026-W47",
        "period_start": "2026-11-16T00:00:00-05:00",
        "period_end": "2026-11-23T00:00:00-05:00",
        "leads_in": 120,
        "leads_in_by_source": {"webinar": 70, "paid search": 50},
        "handed_off": 40,
        "handed_off_by_tier": {"high_priority": 40},
        "handed_off_rate": 0.3333,
        "leads_accepted": 25,
        "lead_acceptance_rate": 0.625,
        "handoffs": 41,
        "handoffs_by_tier": {"high_priority": 41},
        "accepted": 25,
        "rejected": 9,
        "pending": 6,
        "reassigned": 1,
        "expired": 0,
        "decided": 34,
        "acceptance_rate": 0.7353,
        "response_minutes": {"high_priority": {"median": 9.5, "p90": 31.0}},
        "tiers": [
            {
                "tier": "high_priority",
                "handoffs": 41,
                "within": 12,
                "breached": 3,
                "not_yet_due": 4,
                "moved_in_time": 0,
                "no_deadline": 22,
                "compliance": 0.8,
                "median_minutes": 9.5,
                "p90_minutes": 31.0,
            }
        ],
        "sla": {
            "within": 12,
            "breached": 3,
            "not_yet_due": 4,
            "moved_in_time": 0,
            "no_deadline": 22,
        },
        "sla_compliance": {
            "overall": 0.8,
            "by_tier": {"high_priority": 0.8},
            "by_rep": {"U0ALICE": 0.8},
        },
        "breaches": 3,
        "breaches_by_tier": {"high_priority": 3},
        "escalations": 2,
        "unassigned": 0,
        "reject_reasons": [
            {"code": "other", "label": "Other", "count": 4, "sample_note": "<!channel> fix this"}
        ],
        "reps": [
            {
                "rep": "U0ALICE",
                "name": "Alice <!here>",
                "handoffs": 41,
                "accepted": 25,
                "rejected": 9,
                "pending": 6,
                "reassigned": 1,
                "within": 12,
                "breached": 3,
                "compliance": 0.8,
            }
        ],
        "outcomes": None,
        "change": {
            "leads_in": 20,
            "handed_off": 0,
            "handoffs": 1,
            "accepted": None,
            "rejected": None,
            "acceptance_rate": None,
            "lead_acceptance_rate": None,
            "breaches": -1,
            "escalations": 0,
            "sla_compliance": 0.05,
        },
    }
    return {**base, **changes}


def test_digest_blocks_show_the_numbers_and_escape_what_people_wrote() -> None:
    blocks = to_dicts(digest_blocks(DigestNumbers.model_validate(numbers())))
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "Lead hand-off digest, 2026-W47"
    text = json.dumps(blocks, ensure_ascii=False)
    assert "*Leads in:* 120 (+20 vs last week)" in text
    assert "*SLA compliance:* 80% (12 within of 15 due) (+5 pts vs last week)" in text
    assert "*Hand-offs:* 41 = 25 accepted + 9 rejected + 6 pending + 1 moved" in text
    assert "*Acceptance rate:* 74% (25 of 34 decided)" in text
    assert "High priority: 41 hand-offs" in text
    assert "*breaches:* 3 (-1 vs last week)" in text
    assert "median 10 min, p90 31 min" in text
    assert "<@U0ALICE>: 41 hand-offs, 25 accepted" in text
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; fix this" in text
    assert "Monday 2026-11-16 to Sunday 2026-11-22" in text
    assert "Pipeline" not in text  # no outcomes yet


def test_digest_blocks_show_pipeline_once_outcomes_exist() -> None:
    band = {
        "label": "80+",
        "handed_off": 10,
        "with_outcome": 4,
        "opportunities": 4,
        "closed_won": 2,
        "won_amount": 12500.0,
        "opportunity_rate": 0.4,
        "win_rate": 0.2,
    }
    outcomes = {"by_score_band": [band], "by_source": [{**band, "label": "webinar"}]}
    text = json.dumps(
        to_dicts(digest_blocks(DigestNumbers.model_validate(numbers(outcomes=outcomes)))),
        ensure_ascii=False,
    )
    assert "score 80+: 10 handed off → 4 opp. (40%), 2 won (20%), 12,500" in text
    assert "webinar: 10 handed off → 4 opp., 2 won" in text


@pytest.fixture
def sandbox() -> Iterator[SlackSandbox]:
    with SlackSandbox() as running:
        yield running


def deliver(engine: Engine, sandbox: SlackSandbox) -> None:
    ctx = context()
    mono = [0.0]  # the pacer's sleep moves the clock Slack's rate limit reads

    def sleep(seconds: float) -> None:
        mono[0] += seconds

    sandbox.state.rules.clock = lambda: mono[0]
    Deliverer(
        engine=engine,
        surface=SlackSurface(web_client(token="xoxb-test", api_url=sandbox.url)),
        team=ctx.team,
        reasons=DEFAULT_REJECT_REASONS,
        clock=lambda: TUESDAY,
        pacer=Pacer(clock=lambda: mono[0], sleep=sleep),
    ).deliver_due()


def queue(engine: Engine) -> str | None:
    with Session(engine) as session:
        week = post_if_due(
            session=session,
            team=context().team,
            digest=DigestConfig(channel=DIGEST_CHANNEL),
            reasons=DEFAULT_REJECT_REASONS,
            now=TUESDAY,
        )
        session.commit()
    return week


def test_digest_goes_out_as_blocks_then_its_chart(engine: Engine, sandbox: SlackSandbox) -> None:
    build(engine)
    assert queue(engine) == "2026-W47"
    deliver(engine, sandbox)
    digest, chart = sandbox.channel(DIGEST_CHANNEL)
    assert digest["blocks"][0]["text"]["text"] == "Lead hand-off digest, 2026-W47"
    assert digest["text"].startswith(":bar_chart: *Lead hand-off digest, 2026-W47*")
    assert chart["subtype"] == "file_share"
    (shared,) = chart["files"]
    assert shared["name"] == "handoff-digest-2026-W47.png"
    assert shared["title"] == "Funnel and SLA compliance by rep, 2026-W47"
    png = sandbox.file_bytes(shared["id"])
    assert png is not None
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5000
    flow = [
        c.method
        for c in sandbox.state.calls
        if c.method.startswith("files.")
        or c.method == "upload"
        or c.args.get("channel") == DIGEST_CHANNEL
    ]
    assert flow == [
        "chat.postMessage",
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    with Session(engine) as session:
        assert set(session.scalars(select(col(Outbox.status)))) == {"sent"}


def test_a_failed_upload_is_retried_without_posting_the_digest_twice(
    engine: Engine, sandbox: SlackSandbox
) -> None:
    build(engine)
    queue(engine)
    sandbox.fail("files.getUploadURLExternal", status=500)
    deliver(engine, sandbox)
    assert len(sandbox.channel(DIGEST_CHANNEL)) == 1
    with Session(engine) as session:
        statuses = session.execute(
            select(col(Outbox.kind), col(Outbox.status))
            .where(col(Outbox.channel) == DIGEST_CHANNEL)
            .order_by(col(Outbox.id))
        ).all()
        assert [tuple(row) for row in statuses] == [("digest", "sent"), ("digest_chart", "pending")]
        session.execute(table(Outbox).update().values(next_attempt_at=TUESDAY))
        session.commit()
    deliver(engine, sandbox)
    assert [m.get("subtype") for m in sandbox.channel(DIGEST_CHANNEL)] == [None, "file_share"]


def test_without_the_charts_extra_the_digest_is_text_alone(
    engine: Engine, sandbox: SlackSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.reports.digest.charts_available", lambda: False)
    build(engine)
    queue(engine)
    deliver(engine, sandbox)
    (digest,) = sandbox.channel(DIGEST_CHANNEL)
    assert digest["blocks"][0]["type"] == "header"
    assert not sandbox.calls_to("files.getUploadURLExternal")
