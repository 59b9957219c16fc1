"""Block Kit for the weekly digest, built from its numbers by a pure function.

Every sentence comes from templates/digest_*.j2; values are escaped there (a rep's name
or a reject note cannot ping a channel).
"""

from __future__ import annotations

from datetime import date, timedelta

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.reports.format import FORMATTERS
from bot.reports.numbers import DigestNumbers
from bot.slack.blocks.cards import CONTEXT_MAX, HEADER_MAX, SECTION_MAX, cut
from bot.slack.text import mention, mrkdwn, plain


def _section(template: str, numbers: DigestNumbers) -> SectionBlock:
    text = mrkdwn(template, m=numbers, mention=mention, **FORMATTERS)
    return SectionBlock(text=MarkdownTextObject(text=cut(text, SECTION_MAX)))


def digest_blocks(numbers: DigestNumbers) -> list[Block]:
    """Gets the digest message: headline numbers, response times, reject reasons, reps,
    and (once outcomes exist) the pipeline it produced."""
    header = plain("digest_header.txt.j2", m=numbers)
    blocks: list[Block] = [
        HeaderBlock(text=cut(header, HEADER_MAX)),
        _section("digest_headline.md.j2", numbers),
        DividerBlock(),
        _section("digest_response.md.j2", numbers),
    ]
    if numbers.reject_reasons:
        blocks.append(_section("digest_reasons.md.j2", numbers))
    if numbers.reps:
        blocks.append(_section("digest_reps.md.j2", numbers))
    if numbers.outcomes:
        blocks.append(_section("digest_outcomes.md.j2", numbers))
    last_day = date.fromisoformat(numbers.period_end[:10]) - timedelta(days=1)
    context = mrkdwn("digest_context.md.j2", m=numbers, last_day=last_day.isoformat())
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut(context, CONTEXT_MAX))]))
    return blocks
