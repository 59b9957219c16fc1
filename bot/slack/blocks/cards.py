"""Block Kit for lead cards, built from a `Card` by pure functions.

slack_sdk's block classes validate most limits when serialised; on top of them every text
is cut to its limit here (with an ellipsis), so an unusually long lead never makes a
message fail, and a message never has more than Slack's 50 blocks.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.config import RejectReason
from bot.handoffs.cards import Card
from bot.handoffs.decisions import NOTE_MAX
from bot.reports.format import duration, next_action, sla_terms, tier_label
from bot.slack.ids import ActionId, BlockId, CallbackId
from bot.slack.text import Mrkdwn, date_token, journey_text, mention, mrkdwn, plain
from store.models import HandoffStatus

MAX_BLOCKS = 50
HEADER_MAX = 150
SECTION_MAX = 3000
CONTEXT_MAX = 2000
FALLBACK_MAX = 3000


# What a cut must not split: an escaped character (&amp; &lt; &gt;) or a Slack token
# (<@U123>, <#C123>, <!date^…|…>, <url|text>).
_WHOLE = re.compile(r"&(?:amp|lt|gt);|<[^<>]*>")


def cut(text: str, limit: int) -> str:
    """Shortens escaped text to `limit` characters, ending with an ellipsis when cut, and
    never inside an entity or a Slack token (the cut moves before it)."""
    if len(text) <= limit:
        return text
    end = limit - 1
    for whole in _WHOLE.finditer(text):
        if whole.start() >= end:
            break
        if whole.end() > end:
            end = whole.start()
            break
    return text[:end].rstrip() + "…"


def short_ref(external_id: str) -> str:
    """Gets a lead's reference as the card's footer shows it: a long id (Olist's 32 hex
    digits) cut to its first 8 characters; in full in the JSON and the CRM link."""
    return external_id if len(external_id) <= 16 else external_id[:8] + "…"


def _points(value: float) -> str:
    """Shows a factor's points as a whole number, as the score is (the JSON keeps decimals)."""
    return f"{round(value):+d}"


def card_text(card: Card) -> str:
    """Gets the card's plain fallback text (notifications, screen readers)."""
    return cut(
        plain(
            "card_fallback.txt.j2",
            tier_label=tier_label(card.tier),
            name=card.name,
            company=card.company,
            total=f"{card.total:.0f}",
        ),
        FALLBACK_MAX,
    )


def card_blocks(card: Card) -> list[Block]:
    """Gets the blocks of a lead card in its current state."""
    header = plain(
        "card_header.txt.j2", tier_label=tier_label(card.tier), name=card.name, company=card.company
    )
    summary = mrkdwn(
        "card_summary.md.j2",
        name=card.name,
        title=card.title,
        company=card.company,
        details=card.details,
        total=f"{card.total:.0f}",
        fit=f"{card.fit:.0f}",
        intent=f"{card.intent:.0f}",
        capped=card.total < card.fit + card.intent - 0.05,  # total_max cut the sum
        tier_label=tier_label(card.tier),
        source=card.source,
    )
    blocks: list[Block] = [
        HeaderBlock(text=cut(header, HEADER_MAX)),
        SectionBlock(text=MarkdownTextObject(text=cut(summary, SECTION_MAX))),
    ]
    if card.factors:
        factors = [{"label": f["label"], "points": _points(f["points"])} for f in card.factors]
        reasons = mrkdwn("card_reasons.md.j2", factors=factors)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=cut(reasons, SECTION_MAX))))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=cut(_next(card), SECTION_MAX))))
    if card.moves:
        history = card_journey(card)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut(history, CONTEXT_MAX))]))
    blocks.append(_decision(card))
    footer = mrkdwn(
        "card_footer.md.j2",
        external_id=short_ref(card.external_id),
        source_system=card.source_system,
        record_url=card.record_url,
        rules_version=card.rules_version,
        handoff_id=card.handoff_id,
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut(footer, CONTEXT_MAX))]))
    return blocks[:MAX_BLOCKS]


def card_journey(card: Card, now: datetime | None = None) -> Mrkdwn:
    """Words a card's journey ("2nd owner · first handed off … · moved from @Alice after an
    SLA breach"); `now`: say the age outright, for a view drawn on demand."""
    return journey_text(
        first_handed_at=card.first_handed_at,
        owners=card.owners,
        assigned=card.rep_slack_id is not None,
        moves=card.moves,
        now=now,
    )


def _next(card: Card) -> Mrkdwn:
    return mrkdwn(
        "card_next.md.j2",
        next_action=next_action(card.next_action, card.tier, card.sla),
        rep=mention(card.rep_slack_id) if card.rep_slack_id else None,
        unassigned_reason=card.unassigned_reason,
        due=date_token(card.due_at) if card.due_at else None,
    )


def _decision(card: Card) -> Block:
    if card.status == HandoffStatus.ACCEPTED and card.decided_at:
        minutes = (card.decided_at - card.created_at).total_seconds() / 60
        since_first = (card.decided_at - card.first_handed_at).total_seconds() / 60
        text = mrkdwn(
            "card_accepted.md.j2",
            actor=mention(card.decided_by or "unknown"),
            response=duration(minutes),
            sla=sla_terms(card.sla) if card.sla else None,
            speed_to_lead=duration(since_first) if card.moves else None,
        )
        return ContextBlock(block_id=BlockId.DECISION, elements=[MarkdownTextObject(text=text)])
    if card.status == HandoffStatus.REASSIGNED:
        text = mrkdwn(
            "card_reassigned.md.j2",
            old_rep=mention(card.rep_slack_id) if card.rep_slack_id else "nobody",
            new_rep=mention(card.reassigned_to) if card.reassigned_to else "nobody yet",
            after_breach=card.breached,
        )
        return ContextBlock(block_id=BlockId.DECISION, elements=[MarkdownTextObject(text=text)])
    if card.status == HandoffStatus.REJECTED:
        # Escaped first (a note of 1,500 "&" is 7,500 characters escaped), then cut.
        text = mrkdwn(
            "card_rejected.md.j2",
            actor=mention(card.decided_by or "unknown"),
            reason=card.reject_label or "no reason",
            note=card.reject_note,
            disposition=card.disposition,
        )
        element = MarkdownTextObject(text=cut(text, CONTEXT_MAX))
        return ContextBlock(block_id=BlockId.DECISION, elements=[element])
    return ActionsBlock(block_id=BlockId.DECISION, elements=_buttons(card))


def _buttons(card: Card) -> list[Any]:
    value = str(card.handoff_id)
    buttons = [
        ButtonElement(text="Accept", action_id=ActionId.ACCEPT, value=value, style="primary"),
        ButtonElement(text="Reject", action_id=ActionId.REJECT, value=value, style="danger"),
    ]
    if card.rep_slack_id is None:
        buttons.insert(0, ButtonElement(text="Claim", action_id=ActionId.CLAIM, value=value))
    return buttons


def to_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    """Gets blocks as the JSON the Web API takes (slack_sdk validates them here)."""
    return [block.to_dict() for block in blocks]


def reject_modal(
    *, handoff_id: int, lead_name: str, reasons: list[RejectReason], state: str
) -> View:
    """Gets the reject dialog: a required reason and a note (required for some reasons)."""
    return View(
        type="modal",
        callback_id=CallbackId.REJECT,
        private_metadata=state,
        title=PlainTextObject(text="Reject lead"),
        submit=PlainTextObject(text="Reject"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=cut(mrkdwn("reject_intro.md.j2", name=lead_name), SECTION_MAX)
                )
            ),
            reason_input(
                BlockId.REJECT_REASON,
                ActionId.REJECT_REASON,
                "Why is this lead not sales-ready?",
                reasons,
                dispatch=True,  # a chosen reason marks the note required at once
            ),
            note_input(BlockId.REJECT_NOTE, ActionId.REJECT_NOTE),
        ],
    )


def reason_input(
    block_id: str, action_id: str, label: str, reasons: list[RejectReason], *, dispatch: bool
) -> InputBlock:
    """Gets a dialog's required choice among the reject reasons (Slack allows 100 options
    of 75 characters)."""
    options = [Option(value=r.code, label=cut(r.label, 75)) for r in reasons[:100]]
    return InputBlock(
        block_id=block_id,
        dispatch_action=dispatch,
        label=PlainTextObject(text=label),
        element=StaticSelectElement(
            action_id=action_id, placeholder="Choose a reason", options=options
        ),
    )


def note_input(block_id: str, action_id: str) -> InputBlock:
    """Gets a dialog's optional note for marketing."""
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=NOTE_LABEL),
        optional=True,
        element=PlainTextInputElement(action_id=action_id, multiline=True, max_length=NOTE_MAX),
    )


NOTE_LABEL = "Note for marketing"


def note_required(blocks: list[dict[str, Any]], required: bool) -> list[dict[str, Any]]:
    """Gets the reject dialog's blocks with its note marked required, or optional."""
    out = [dict(block) for block in blocks]
    for block in out:
        if block.get("block_id") == BlockId.REJECT_NOTE:
            label = f"{NOTE_LABEL} (required)" if required else NOTE_LABEL
            block["label"] = {"type": "plain_text", "text": label}
            block["optional"] = not required
    return out
