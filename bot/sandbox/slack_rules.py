"""What makes the local Slack refuse like Slack: channels known by id (a `#name` only
where Slack takes one), membership and archived channels, tokens, trigger expiry, Block
Kit and text limits (and whatever slack_sdk's own models refuse, through
bot.slack.validation), chat.delete, and (when switched on) about one post a second per
channel.

Limits from Slack's reference: a message has at most 50 blocks and 40,000 characters of
text, a view 100 blocks; a section's text at most 3,000 characters, a header's 150, a
button's 75; an actions block at most 25 elements, a context block 10; a trigger id is
good for 3 seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.slack_state import ApiError, SandboxState
from bot.slack.validation import block_problems

MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100
TEXT_MAX = 40_000
TRIGGER_LIFE_S = 3.0
# Methods that take a channel's id only (chat.postMessage also takes a #name).
BY_ID_ONLY = {"chat.update", "chat.delete", "chat.getPermalink", "conversations.history"}
# Block type -> [(JSON pointer below the block, the longest text)].
TEXT_LIMITS = {
    "header": [("text/text", 150)],
    "section": [("text/text", 3000)],
}


@dataclass
class Channel:
    """A channel the sandbox was told about (others are public, with the app in them)."""

    id: str
    name: str
    private: bool = False
    archived: bool = False
    member: bool = True


@dataclass
class Rules:
    """The sandbox's strict state: channels, revoked tokens, the rate limit."""

    channels: dict[str, Channel] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    per_second: float | None = None  # None: no rate limit; SlackSandbox sets 1 a second
    burst: int = 3
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic  # the rate limit's; tests share their own

    def check_token(self, token: str) -> None:
        """Refuses a token that is not a bot token, or was revoked."""
        if token in self.revoked:
            raise ApiError("token_revoked")
        if not token.startswith("xoxb-"):
            raise ApiError("invalid_auth")

    def channel(self, method: str, given: str) -> str:
        """Gets the id of the channel a call names: a #name resolves (chat.postMessage
        only); an unknown name, or a name where Slack wants an id, is channel_not_found."""
        if given[:1] in ("U", "W"):
            if method == "chat.postMessage":
                return dm_id(given)  # a user id posts to the app's DM with them
            raise ApiError("channel_not_found")  # elsewhere Slack wants the D… id
        if given.startswith("#") or (given and not given[0].isupper()):
            if method in BY_ID_ONLY:
                raise ApiError("channel_not_found")
            name = given.removeprefix("#")
            found = next((c for c in self.channels.values() if c.name == name), None)
            if found is None:
                raise ApiError("channel_not_found")
            return found.id
        return given

    def may_post(self, channel_id: str) -> None:
        """Refuses a post to an archived channel, or to a private one the app is not in
        (chat:write.public lets it post to public channels it has not joined)."""
        known = self.channels.get(channel_id)
        if known is None:
            return
        if known.archived:
            raise ApiError("is_archived")
        if known.private and not known.member:
            raise ApiError("not_in_channel")

    def may_read(self, channel_id: str) -> None:
        """Refuses to read the history of a channel the app is not in."""
        known = self.channels.get(channel_id)
        if known is not None and not known.member:
            raise ApiError("not_in_channel")

    def rate_limited(self, channel_id: str) -> float | None:
        """Takes a post's token from the channel's bucket; gets the seconds to wait when
        there is none (Slack answers 429 then)."""
        if self.per_second is None:
            return None
        now = self.clock()
        tokens, stamp = self.buckets.get(channel_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.per_second)
        if tokens < 1:
            self.buckets[channel_id] = (tokens, now)
            return max((1 - tokens) / self.per_second, 1.0)
        self.buckets[channel_id] = (tokens - 1, now)
        return None


def dm_id(user: str) -> str:
    """Gets the id of the app's direct-message conversation with a user ("D…"): what
    Slack answers when a message is posted to a user id."""
    return "D" + user[1:] if user[:1] in ("U", "W") else user


def check_trigger(trigger_id: str) -> None:
    """Refuses a trigger id older than 3 seconds (the sandbox's carry their time)."""
    issued = trigger_id.split(".")[0]
    if not issued.isdigit():
        raise ApiError("invalid_trigger_id")
    if time.time() - int(issued) > TRIGGER_LIFE_S + 1:  # whole seconds: a second's grace
        raise ApiError("expired_trigger_id")


def check_message(text: Any, blocks: Any) -> None:
    """Refuses a message Slack would: too much text, too many or invalid blocks."""
    if isinstance(text, str) and len(text) > TEXT_MAX:
        raise ApiError("msg_too_long")
    if blocks:
        check_blocks(blocks, MESSAGE_BLOCKS, "msg_blocks_too_long")


def check_blocks(blocks: Any, most: int, too_many: str = "invalid_blocks") -> None:
    """Refuses blocks over Slack's limits, with its pointer to what is wrong."""
    if not isinstance(blocks, list):
        raise ApiError("invalid_blocks", ["[ERROR] must be an array [json-pointer:/blocks]"])
    if len(blocks) > most:
        raise ApiError(
            too_many, [f"[ERROR] no more than {most} items allowed [json-pointer:/blocks]"]
        )
    problems = []
    for number, block in enumerate(blocks):
        problems += _block_problems(number, block)
    # Then what slack_sdk's own models refuse (unknown types, missing fields…).
    problems = problems or block_problems(blocks)
    if problems:
        raise ApiError("invalid_blocks", problems)


def _block_problems(number: int, block: Any) -> list[str]:
    where = f"/blocks/{number}"
    if not isinstance(block, dict) or "type" not in block:
        return [f"[ERROR] missing required field: type [json-pointer:{where}]"]
    problems = []
    for pointer, longest in TEXT_LIMITS.get(str(block["type"]), []):
        value: Any = block
        for part in pointer.split("/"):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and len(value) > longest:
            problems.append(
                f"[ERROR] must be less than {longest + 1} characters "
                f"[json-pointer:{where}/{pointer}]"
            )
    elements = block.get("elements") or []
    if block["type"] == "actions" and len(elements) > 25:
        problems.append(f"[ERROR] no more than 25 items allowed [json-pointer:{where}/elements]")
    if block["type"] == "context" and len(elements) > 10:
        problems.append(f"[ERROR] no more than 10 items allowed [json-pointer:{where}/elements]")
    for index, element in enumerate(elements if block["type"] == "actions" else []):
        label = ((element or {}).get("text") or {}).get("text")
        if isinstance(label, str) and len(label) > 75:
            problems.append(
                f"[ERROR] must be less than 76 characters "
                f"[json-pointer:{where}/elements/{index}/text/text]"
            )
    return problems


def state_rules(state: SandboxState) -> Rules:
    """Gets the strict rules kept with a sandbox's state."""
    rules: Rules = state.rules
    return rules
