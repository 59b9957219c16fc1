"""Lead cards in Block Kit: content, escaping, limits, decision states."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

from bot.handoffs.deadlines import Terms
from bot.slack.blocks.cards import (
    CONTEXT_MAX,
    card_blocks,
    card_text,
    cut,
    to_dicts,
)
from bot.slack.blocks.notices import escalation_blocks
from bot.slack.ids import ActionId, BlockId
from tests.bot.cards_helpers import sample_card


def rendered(**changes: object) -> str:
    card = sample_card(**changes)
    return json.dumps([card_text(card), *to_dicts(card_blocks(card))], ensure_ascii=False)


def test_card_shows_who_why_and_what_next() -> None:
    blocks = to_dicts(card_blocks(sample_card()))
    assert blocks[0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "emoji": True,
            "text": "High priority: Maria Garcia · Northwind",
        },
    }
    text = json.dumps(blocks, ensure_ascii=False)
    assert "*Score 104* (fit 55 · intent 49) · High priority · source: webinar" in text
    assert "+39 Requested a demo · +20 Company size matches ICP · -15 Personal email" in text
    assert "*Next:* Call within 15 minutes · *Owner:* <@U0ALICE>" in text
    actions = next(b for b in blocks if b.get("block_id") == BlockId.DECISION)
    assert [(e["action_id"], e.get("style"), e["value"]) for e in actions["elements"]] == [
        (ActionId.ACCEPT, "primary", "7"),
        (ActionId.REJECT, "danger", "7"),
    ]
    assert card_text(sample_card()) == "High priority lead: Maria Garcia (Northwind), score 104"


def test_unassigned_card_offers_claim_and_says_why() -> None:
    text = rendered(rep_slack_id=None, unassigned_reason="every eligible rep is at capacity")
    assert ActionId.CLAIM in text
    assert "*Unassigned*: every eligible rep is at capacity. Claim it to own it." in text


def test_user_text_is_escaped_so_nobody_is_pinged() -> None:
    text = rendered(
        name="<!channel> Eve", company="<https://evil.example|Bank> & Co", title="<@U0BOSS>"
    )
    assert "<!channel>" not in text
    assert "<@U0BOSS>" not in text
    assert "&lt;!channel&gt; Eve" in text
    assert "&lt;https://evil.example|Bank&gt; &amp; Co" in text


def test_long_values_are_cut_not_refused() -> None:
    blocks = to_dicts(
        card_blocks(sample_card(name="N" * 500, company="C" * 5000, details="d" * 5000))
    )
    assert len(blocks[0]["text"]["text"]) == 150
    assert blocks[0]["text"]["text"].endswith("…")
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")


def test_due_time_is_a_date_token() -> None:
    due = datetime(2026, 11, 20, 15, 15, tzinfo=UTC)
    assert f"<!date^{int(due.timestamp())}^{{date_short_pretty}} at {{time}}|" in rendered(
        due_at=due
    )


def test_decided_cards_replace_buttons_with_the_decision() -> None:
    accepted = rendered(
        status="accepted",
        decided_by="U0ALICE",
        decided_at=datetime(2026, 11, 20, 15, 7, tzinfo=UTC),
    )
    assert "Accepted by <@U0ALICE> in 7 min" in accepted
    assert ActionId.ACCEPT not in accepted
    rejected = rendered(
        status="rejected",
        decided_by="U0BEN",
        reject_label="Not our ideal customer",
        reject_note="<!here> tiny shop",
        disposition="disqualify",
    )
    assert "Rejected by <@U0BEN>: *Not our ideal customer*: &lt;!here&gt; tiny shop" in rejected
    assert ActionId.REJECT not in rejected


def test_accepted_card_shows_the_sla_beside_the_response_time() -> None:
    accepted = rendered(
        status="accepted",
        decided_by="U0ALICE",
        sla=Terms(15, business_time=False),
        decided_at=datetime(2026, 11, 20, 15, 7, tzinfo=UTC),
    )
    assert "Accepted by <@U0ALICE> in 7 min (SLA 15 min)" in accepted


def test_escalation_message_carries_the_managers_buttons() -> None:
    blocks = to_dicts(escalation_blocks("<@U0ALICE> is late", 9))
    assert blocks[0]["text"]["text"] == "<@U0ALICE> is late"
    assert [(e["action_id"], e["value"]) for e in blocks[1]["elements"]] == [
        (ActionId.ESCALATION_REASSIGN, "9"),
        (ActionId.ESCALATION_REMIND, "9"),
        (ActionId.ESCALATION_TAKE, "9"),
    ]


def test_a_note_of_1500_ampersands_leaves_a_valid_redrawn_card() -> None:
    card = sample_card(
        status="rejected",
        decided_by="U0BEN",
        reject_label="Other",
        reject_note="&" * 1500,
        disposition="nurture",
    )
    blocks = to_dicts(card_blocks(card))  # slack_sdk checks every limit it knows here
    (decision,) = [b for b in blocks if b.get("block_id") == BlockId.DECISION]
    text = decision["elements"][0]["text"]
    assert len(text) <= CONTEXT_MAX
    assert text.endswith("&amp;…")  # cut after escaping, never inside an entity
    assert ActionId.ACCEPT not in json.dumps(blocks)


def test_control_and_bidi_override_characters_never_reach_slack() -> None:
    card = sample_card(name="Ev\u202eil\x00", company="Acme\u2066 Inc")
    shown = card_text(card) + "".join(_strings(to_dicts(card_blocks(card))))
    assert "Evil" in shown
    for hidden in ("\u202e", "\x00", "\u2066"):
        assert hidden not in shown
    assert cut("a &amp; b", 5) == "a…"
    assert cut("see <@U0ALICE> now", 9) == "see…"


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_the_footer_links_the_crm_record_and_only_a_plain_web_link() -> None:
    from bot.handoffs.cards import record_url

    url = "https://app.hubspot.com/contacts/4242/record/0-1/501?a=1&b=2"
    assert record_url({"record_url": url}) == url
    for bad in (
        "javascript:alert(1)",
        "https://x.test/a|b",
        "https://x.test/<!channel>",
        "https://x.test/\n",
        7,
    ):
        assert record_url({"record_url": bad}) is None
    text = rendered(record_url=url)
    assert (
        "(<https://app.hubspot.com/contacts/4242/record/0-1/501?a=1&amp;b=2|open the record>)"
        in text
    )
    assert "open the record" not in rendered()


def test_a_capped_score_says_so_beside_its_axes() -> None:
    capped = dataclasses.replace(sample_card(), total=100.0)  # 55 + 49 cut by total_max
    text = json.dumps(to_dicts(card_blocks(capped)), ensure_ascii=False)
    assert "*Score 100* (fit 55 · intent 49, capped at 100)" in text


def test_a_long_lead_id_is_short_in_the_footer() -> None:
    long_id = dataclasses.replace(sample_card(), external_id="e1e323ab" + "0" * 24)
    footer = to_dicts(card_blocks(long_id))[-1]["elements"][0]["text"]
    assert footer.startswith("Lead e1e323ab… from ")
    assert "0" * 24 not in footer
