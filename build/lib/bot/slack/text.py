"""Slack's text: mrkdwn rendered from templates/*.j2, mentions and date tokens.

Every value put into a template is escaped for Slack (`&`, `<`, `>`), in mrkdwn and in
plain_text alike: Slack treats those three as control characters in every text object
and shows the entities as the characters
(https://api.slack.com/reference/surfaces/formatting#escaping). So a lead named
`<!channel>` pings nobody, not even through a message's notification text. Values we
build ourselves as mrkdwn (mentions, date tokens) are marked `Mrkdwn` and pass through.
Undefined names are errors, never blanks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.resources import environment


class Mrkdwn(str):
    """Text that is already valid mrkdwn, built by us: not escaped again."""

    __slots__ = ()


def escape(text: str) -> str:
    """Escapes text for Slack mrkdwn."""
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
