"""Block Kit for notices about a lead: a reminder or a nudge carries the card's Accept and
Reject, a breach told to a manager carries what they can do about it, feedback asks carry
the answers; each links to the lead's card. Once acted on, a DM is redrawn without its
buttons (`settled`)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot.handoffs.notices import Notice, NoticeKind
from bot.reports.format import feedback_label
from bot.slack.blocks.cards import CONTEXT_MAX, SECTION_MAX, cut
from bot.slack.ids import ActionId, BlockId
from bot.slack.text import Mrkdwn, mrkdwn
from store.models import Feedback

OPTION_MAX = 75
FEEDBACK_LABELS = {answer: feedback_label(answer.value) for answer in Feedback}
# Which of a DM's blocks hold buttons (dropped once the DM is acted on).
ACTION_BLOCKS = {BlockId.ESCALATION, BlockId.NOTICE_ACTIONS, BlockId.FEEDBACK}


def _link(permalink: str | None) -> list[Block]:
    if not permalink:
        return []
    text = mrkdwn("card_link.md.j2", url=permalink)
    return [ContextBlock(elements=[MarkdownTextObject(text=cut(text, CONTEXT_MAX))])]


def notice_blocks(text: Mrkdwn, notice: Notice, permalink: str | None) -> list[Block]:
    """Gets a notice's blocks: its text, the link to the card, and its actions."""
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=cut(text, SECTION_MAX)))]
    blocks += _link(permalink)
    value = str(notice.handoff_id)
    if notice.kind in (NoticeKind.REMINDER, NoticeKind.NUDGE):
        blocks.append(
            ActionsBlock(
                block_id=BlockId.NOTICE_ACTIONS,
                elements=[
                    ButtonElement(
                        text="Accept", action_id=ActionId.ACCEPT, value=value, style="primary"
                    ),
                    ButtonElement(
                        text="Reject", action_id=ActionId.REJECT, value=value, style="danger"
                    ),
                ],
            )
        )
    elif notice.kind is NoticeKind.BREACH_TO_MANAGER:
        blocks.append(escalation_actions(notice.handoff_id, notice.candidates))
    elif notice.kind is NoticeKind.FEEDBACK:
        blocks.append(
            ActionsBlock(
                block_id=BlockId.FEEDBACK,
                elements=[
                    ButtonElement(
                        text=label,
                        action_id=f"{ActionId.FEEDBACK}:{answer}",
                        value=value,
                        style="primary" if answer is Feedback.MEETING_BOOKED else None,
                    )
                    for answer, label in FEEDBACK_LABELS.items()
                ],
            )
        )
    return blocks


def escalation_actions(
    handoff_id: int, candidates: list[tuple[str, str]], *, remind: bool = True
) -> ActionsBlock:
    """Gets a manager's actions on a breach: Reassign (round robin), a pick of the new
    owner among the eligible reps, Remind rep, Take it."""
    value = str(handoff_id)
    elements: list[Any] = [
        ButtonElement(
            text="Reassign", action_id=ActionId.ESCALATION_REASSIGN, value=value, style="primary"
        )
    ]
    if candidates:
        elements.append(
            StaticSelectElement(
                action_id=ActionId.ESCALATION_PICK,
                placeholder="Pick the new owner",
                options=[
                    Option(value=f"{handoff_id}:{slack_id}", label=cut(name, OPTION_MAX))
                    for slack_id, name in candidates[:100]
                ],
            )
        )
    if remind:
        elements.append(
            ButtonElement(text="Remind rep", action_id=ActionId.ESCALATION_REMIND, value=value)
        )
    elements.append(ButtonElement(text="Take it", action_id=ActionId.ESCALATION_TAKE, value=value))
    return ActionsBlock(block_id=BlockId.ESCALATION, elements=elements)


def escalation_blocks(text: str, handoff_id: int) -> list[Block]:
    """Gets a manager's escalation message worded by an earlier version: the text, then
    what they can do about it."""
    return [
        SectionBlock(text=MarkdownTextObject(text=cut(text, SECTION_MAX))),
        escalation_actions(handoff_id, []),
    ]


def settled(
    blocks: list[dict[str, Any]], line: Mrkdwn, *, keep: bool = False
) -> list[dict[str, Any]]:
    """Redraws a DM that was acted on: its buttons gone (`keep`: kept, as after "Remind
    rep", but for that button) and a line saying what happened."""
    out = [b for b in blocks if b.get("block_id") != BlockId.SETTLED]
    if keep:
        for block in out:
            if block.get("block_id") == BlockId.ESCALATION:
                block["elements"] = [
                    e
                    for e in block.get("elements", [])
                    if e.get("action_id") != ActionId.ESCALATION_REMIND
                ]
    else:
        out = [b for b in out if b.get("block_id") not in ACTION_BLOCKS]
    element = MarkdownTextObject(text=cut(line, CONTEXT_MAX))
    out.append(ContextBlock(block_id=BlockId.SETTLED, elements=[element]).to_dict())
    return out
