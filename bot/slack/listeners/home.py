"""App Home: a rep's pending leads with Accept / Reject, a manager's team with what is
past its deadline and this week's numbers. Published on `app_home_opened` and again
after every click made from it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View
from sqlmodel import Session

from bot.config import TeamConfig
from bot.handoffs.queue import Queue, QueueItem, load_queue
from bot.reports.digest import week_so_far
from bot.reports.format import duration, ordinal, tier_label, time_left
from bot.reports.numbers import DigestNumbers
from bot.slack.blocks.cards import CONTEXT_MAX, SECTION_MAX, cut
from bot.slack.blocks.digest import digest_blocks
from bot.slack.blocks.notices import escalation_actions
from bot.slack.ids import ActionId, BlockId
from bot.slack.listeners.dms import tell
from bot.slack.text import Mrkdwn, date_token, escape, mention, mrkdwn

log = logging.getLogger(__name__)

MAX_VIEW_BLOCKS = 100


def register(app: App) -> None:
    """Registers the Home tab's listener."""
    app.event("app_home_opened")(on_home_opened)


def on_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Publishes the Home tab when someone opens it."""
    if event.get("tab", "home") == "home":
        publish_home(client=client, context=context, user=event["user"])


def publish_home(
    *, client: WebClient, context: BoltContext, user: str, notice: str | None = None
) -> None:
    """Publishes `user`'s Home tab as it stands now (with `notice` on top, if any)."""
    deps = context["deps"]
    now = deps.clock()
    with Session(deps.engine) as session:
        queue = load_queue(session=session, team=deps.team, user=user, now=now)
        week = (
            week_so_far(session=session, team=deps.team, reasons=deps.reasons, now=now)
            if queue.is_manager
            else None
        )
    view = home_view(queue, team=deps.team, week=week, updated=date_token(now), notice=notice)
    try:
        client.views_publish(user_id=user, view=view.to_dict())
    except SlackApiError as exc:  # the click's result must still reach the clicker
        log.warning("App Home of %s not published: %s", user, exc.response.get("error"))
        if notice:
            tell(client, user=user, channel=None, text=notice)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=cut(text, SECTION_MAX)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=cut(text, CONTEXT_MAX))])


def home_view(
    queue: Queue,
    *,
    team: TeamConfig,
    week: DigestNumbers | None,
    updated: Mrkdwn,
    notice: str | None,
) -> View:
    """Gets the Home tab of one person (`week`: their team's numbers, for a manager),
    within Slack's 100 blocks: fewer leads per list ("and M more") rather than a cut view."""
    shown = max(len(queue.mine), len(queue.team))
    while True:
        blocks = _home_blocks(queue, team, week, updated, notice, shown)
        if len(blocks) <= MAX_VIEW_BLOCKS or shown == 0:
            return View(type="home", blocks=blocks[:MAX_VIEW_BLOCKS])
        shown -= 1


def _home_blocks(
    queue: Queue,
    team: TeamConfig,
    week: DigestNumbers | None,
    updated: Mrkdwn,
    notice: str | None,
    shown: int,
) -> list[Block]:
    """Gets the Home tab's blocks with at most `shown` leads in each list."""
    channel = Mrkdwn(f"<#{escape(team.channel)}>")
    blocks: list[Block] = [HeaderBlock(text="Lead hand-off")]
    if notice:
        blocks.append(_context(f":information_source: {notice}"))
    blocks.append(_section(mrkdwn("home_intro.md.j2", q=queue, mention=mention, channel=channel)))
    if queue.is_rep:
        title = f"Your pending leads ({queue.mine_total})"
        blocks += _leads(title, queue.mine[:shown], queue.mine_total, now=queue.as_of)
    if queue.is_manager and week is not None:
        late = len(queue.team_breached)
        blocks += [
            DividerBlock(),
            HeaderBlock(text="Your team this week"),
            *digest_blocks(week)[1:],  # the digest's own sections, so the numbers agree
        ]
        title = f"Team's pending leads ({queue.team_total}), {late} past deadline"
        team_items = queue.team[:shown]
        blocks += _leads(title, team_items, queue.team_total, now=queue.as_of, manager=True)
    blocks += [DividerBlock(), _context(mrkdwn("home_footer.md.j2", updated=updated))]
    return blocks


def _leads(
    title: str, items: list[QueueItem], total: int, *, now: datetime, manager: bool = False
) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=cut(title, 150))]
    if not items:
        blocks.append(_section(mrkdwn("home_empty.md.j2", whose=None)))
    for item in items:
        rep = mention(item.rep_slack_id) if manager and item.rep_slack_id else None
        due = date_token(item.due_at) if item.due_at else None
        line = mrkdwn(
            "home_item.md.j2",
            item=item,
            rep=rep,
            due=due,
            now=now,
            ordinal=ordinal,
            duration=duration,
            **_labels(item, now),
        )
        blocks.append(_section(line))
        buttons = _manager_buttons(item) if manager else _rep_buttons(item)
        if buttons:
            blocks.append(
                ActionsBlock(block_id=f"{BlockId.HOME_LEAD}:{item.handoff_id}", elements=buttons)
            )
    if total > len(items):
        blocks.append(_context(mrkdwn("home_more.md.j2", more=total - len(items))))
    return blocks


def _labels(item: QueueItem, now: datetime) -> dict[str, str]:
    return {"tier_label": tier_label(item.tier), "time_left": time_left(item.due_at, now)}


def _rep_buttons(item: QueueItem) -> list[Any]:
    value = str(item.handoff_id)
    return [
        ButtonElement(text="Accept", action_id=ActionId.ACCEPT, value=value, style="primary"),
        ButtonElement(text="Reject", action_id=ActionId.REJECT, value=value, style="danger"),
    ]


def _manager_buttons(item: QueueItem) -> list[Any]:
    """A breached lead gets the manager's actions (Reassign, a pick of the new owner, Remind
    rep, Take it); the rest need nothing from a manager."""
    if not item.breached:
        return []
    return list(escalation_actions(item.handoff_id, list(item.candidates)).elements)
