"""Slack's text: mrkdwn rendered from templates/*.j2, mentions and date tokens, and the
wording of what the workflow returns as data (notices, decisions, form problems).

Every value put into a template is escaped for Slack (`&`, `<`, `>`), in mrkdwn and in
plain_text alike: Slack treats those three as control characters in every text object
and shows the entities as the characters
(https://api.slack.com/reference/surfaces/formatting#escaping). So a lead named
`<!channel>` pings nobody, not even through a message's notification text. Values we
build ourselves as mrkdwn (mentions, date tokens) are marked `Mrkdwn` and pass through.
Undefined names are errors, never blanks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.config import RejectReason
from bot.handoffs.cards import Card, Leg
from bot.handoffs.decisions import NOTE_MAX, Decision, RejectProblem
from bot.handoffs.notices import Notice, NoticeKind
from bot.reports.format import (
    duration,
    feedback_label,
    moved_because,
    next_action,
    ordinal,
    tier_label,
)
from bot.reports.format import owners as owners_words
from bot.resources import environment


class Mrkdwn(str):
    """Text that is already valid mrkdwn, built by us: not escaped again."""

    __slots__ = ()


# Control characters (but tab and newline) and the bidirectional overrides and isolates,
# which can make a name read backwards: removed from every value shown in Slack.
_UNSHOWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def escape(text: str) -> str:
    """Escapes text for Slack mrkdwn (and drops control and bidi-override characters)."""
    text = _UNSHOWABLE.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(slack_user_id: str) -> Mrkdwn:
    """Gets a mention of a Slack user."""
    return Mrkdwn(f"<@{escape(slack_user_id)}>")


def date_token(when: datetime, *, fallback_format: str = "%Y-%m-%d %H:%M UTC") -> Mrkdwn:
    """Gets a Slack date token: each reader sees the time in their own time zone."""
    stamp = int(when.timestamp())
    fallback = when.strftime(fallback_format)
    return Mrkdwn(f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|{fallback}>")


def _finalize_mrkdwn(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Mrkdwn):
        return value
    return escape(str(value))


_MRKDWN = environment(_finalize_mrkdwn)


def mrkdwn(template: str, **values: Any) -> Mrkdwn:
    """Renders a template as mrkdwn, escaping every value put into it."""
    return Mrkdwn(_MRKDWN.get_template(template).render(**values).strip())


def plain(template: str, **values: Any) -> str:
    """Renders a template for a plain_text field or a message's fallback text (values
    escaped as for mrkdwn, which Slack expects there too)."""
    return str(mrkdwn(template, **values))


NOTICE_TEMPLATES = {
    NoticeKind.REMINDER: "reminder.md.j2",
    NoticeKind.BREACH_TO_MANAGER: "escalation_manager.md.j2",
    NoticeKind.BREACH_TO_CHANNEL: "escalation_channel.md.j2",
    NoticeKind.NUDGE: "remind_from_manager.md.j2",
    NoticeKind.FEEDBACK: "feedback_ask.md.j2",
}


def journey_text(
    *,
    first_handed_at: datetime,
    owners: int,
    assigned: bool,
    moves: Sequence[Leg],
    now: datetime | None = None,
) -> Mrkdwn:
    """Words a lead's journey: "3rd owner · first handed off 2 days ago · moved from @Alice
    after an SLA breach, then from @Bruno…". With `now`, the age is said outright (a view
    drawn on demand); without it, as a date token (a message that stays up)."""
    first: str = date_token(first_handed_at)
    if now is not None:
        first = f"{duration((now - first_handed_at).total_seconds() / 60)} ago"
    return mrkdwn(
        "journey.md.j2",
        assigned=assigned,
        ordinal=ordinal(owners),
        owners=owners_words(owners),
        first=Mrkdwn(first) if now is None else first,
        moves=[
            {
                "rep": mention(leg.rep_slack_id) if leg.rep_slack_id else "nobody",
                "why": moved_because(leg.moved_because),
            }
            for leg in moves
        ],
    )


def notice_text(notice: Notice) -> Mrkdwn:
    """Words a notice about a hand-off."""
    return mrkdwn(
        NOTICE_TEMPLATES[notice.kind],
        name=notice.lead_name,
        company=notice.company,
        tier_label=tier_label(notice.tier),
        next_action=next_action(notice.next_action, notice.tier, notice.sla),
        due=date_token(notice.due_at) if notice.due_at else "no deadline",
        late=duration(notice.late_minutes),
        rep=mention(notice.rep_slack_id) if notice.rep_slack_id else "nobody",
        manager=mention(notice.sender_slack_id) if notice.sender_slack_id else "Your manager",
        level=notice.level,
        score=f"{notice.score:.0f}" if notice.score is not None else "n/a",
        reminder=notice.reminder,
        accepted=date_token(notice.accepted_at) if notice.accepted_at else "earlier",
    )


def moved_text(card: Card) -> Mrkdwn:
    """Words a move, for the card's thread: from whom, why, and who has the lead now."""
    last = card.moves[-1] if card.moves else None
    return mrkdwn(
        "moved.md.j2",
        name=card.name,
        company=card.company,
        old=mention(last.rep_slack_id) if last and last.rep_slack_id else "nobody",
        why=moved_because(last.moved_because if last else None),
        new=mention(card.rep_slack_id) if card.rep_slack_id else None,
        due=date_token(card.due_at) if card.due_at else None,
        reason=card.unassigned_reason or "no eligible rep",
    )


def decision_text(
    decision: Decision, *, plain_text: bool = False, clicker: str | None = None
) -> str:
    """Words how a click went, for the clicker ("you" when they are the one it names);
    `plain_text` for a dialog's error, where a mention would show unrendered ("@U123")."""
    who = None
    if decision.who and decision.who == clicker:
        who = "you"
    elif decision.who:
        who = f"@{decision.who}" if plain_text else mention(decision.who)
    render = plain if plain_text else mrkdwn
    return render(
        "decision.md.j2",
        verdict=decision.verdict,
        who=who,
        status=decision.status,
        lead=decision.lead,
        answer=feedback_label(decision.status or ""),
    )


def reject_problem_text(problem: RejectProblem, reason: RejectReason | None) -> str:
    """Words what is wrong with a reject form (a dialog's error: plain text)."""
    label = reason.label if reason else ""
    return plain("reject_problem.txt.j2", problem=problem, label=label, limit=NOTE_MAX)
