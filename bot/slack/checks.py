"""The checks `handoff serve`, `handoff worker` and `handoff slack check` make of Slack:
the token works; each configured channel exists (a `#name` is resolved to its id), is not
archived, has the app in it (a public one is joined with conversations.join when the
app is not), and its history can be read (what finds a card again after a crash)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import HandoffConfig

INVITE = "/invite @Lead Handoff in it"


@dataclass
class SlackCheck:
    """What the checks found: each configured channel's id, and a line per finding."""

    ids: dict[str, str] = field(default_factory=dict)  # as configured -> channel id
    found: list[tuple[bool, str]] = field(default_factory=list)  # (fine, what)

    @property
    def problems(self) -> list[str]:
        """Gets the findings that need fixing."""
        return [said for fine, said in self.found if not fine]


def configured_channels(config: HandoffConfig) -> dict[str, str]:
    """Gets each channel the config names, by where it is named."""
    named = {}
    if config.team is not None:
        named["team.channel"] = config.team.channel
        if config.team.digest_channel:
            named["team.digest_channel"] = config.team.digest_channel
    if config.digest.channel:
        named["digest.channel"] = config.digest.channel
    if config.sla is not None and config.sla.escalation_channel:
        named["sla.escalation_channel"] = config.sla.escalation_channel
    if config.calibration.channel:
        named["calibration.channel"] = config.calibration.channel
    return named


def check_slack(client: WebClient, config: HandoffConfig) -> SlackCheck:
    """Checks the token and every configured channel (joining public ones)."""
    check = SlackCheck()
    try:
        who = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error")
        check.found.append(
            (False, f"SLACK_BOT_TOKEN does not work ({error}): copy the Bot User OAuth Token again")
        )
        return check
    check.found.append((True, f"the token works: bot {who.get('user_id')} in {who.get('team')}"))
    named = configured_channels(config)
    names = _names(client) if any(not _is_id(v) for v in named.values()) else {}
    for where, given in named.items():
        channel_id = given if _is_id(given) else names.get(given.removeprefix("#"))
        if channel_id is None:
            check.found.append(
                (
                    False,
                    f"{where} = {given!r}: no channel of that name that the app can see: "
                    f"fix the name, or invite the app if it is private ({INVITE})",
                )
            )
            continue
        check.ids[given] = channel_id
        check.found += list(_channel(client, where, given, channel_id))
    return check


def resolved(config: HandoffConfig, check: SlackCheck) -> HandoffConfig:
    """Gets the config with each channel name replaced by the id it resolved to."""

    def use(value: str | None) -> str | None:
        return check.ids.get(value, value) if value else value

    changes: dict[str, Any] = {
        "digest": config.digest.model_copy(update={"channel": use(config.digest.channel)}),
        "calibration": config.calibration.model_copy(
            update={"channel": use(config.calibration.channel)}
        ),
    }
    if config.team is not None:
        changes["team"] = config.team.model_copy(
            update={
                "channel": use(config.team.channel),
                "digest_channel": use(config.team.digest_channel),
            }
        )
    if config.sla is not None:
        changes["sla"] = config.sla.model_copy(
            update={"escalation_channel": use(config.sla.escalation_channel)}
        )
    return config.model_copy(update=changes)


def _is_id(value: str) -> bool:
    return bool(value) and value[0] in "CGD" and value.isalnum() and value.isupper()


def _names(client: WebClient) -> dict[str, str]:
    """Gets the ids of the channels the app can see, by name."""
    names: dict[str, str] = {}
    cursor = None
    while True:
        page = client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
        )
        for channel in page.get("channels") or []:
            names[str(channel["name"])] = str(channel["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return names


def _channel(
    client: WebClient, where: str, given: str, channel_id: str
) -> Iterator[tuple[bool, str]]:
    label = f"{where} = {given!r}" + ("" if given == channel_id else f" ({channel_id})")
    try:
        info = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as exc:
        yield False, f"{label}: {exc.response.get('error')}: check the id, or invite the app"
        return
    if info.get("is_archived"):
        yield False, f"{label}: the channel is archived: unarchive it or name another"
        return
    if not info.get("is_member"):
        if info.get("is_private"):
            yield False, f"{label}: the app is not in this private channel: {INVITE}"
            return
        try:
            client.conversations_join(channel=channel_id)
            yield True, f"{label}: the app joined it"
        except SlackApiError as exc:
            yield (
                False,
                (
                    f"{label}: the app is not in it and could not join "
                    f"({exc.response.get('error')}): it can post there but not find its "
                    f"cards again after a crash: {INVITE}"
                ),
            )
            return
    try:
        client.conversations_history(channel=channel_id, limit=1)
    except SlackApiError as exc:
        yield (
            False,
            f"{label}: cannot read its history ({exc.response.get('error')}): "
            "reinstall the app from slack-manifest.yml",
        )
        return
    yield True, f"{label}: the app is in it and can post and read"
