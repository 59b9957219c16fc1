"""The Web API methods the local Slack speaks, each answering as Slack does."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from bot.sandbox.slack_rules import (
    VIEW_BLOCKS,
    Channel,
    check_blocks,
    check_message,
    check_trigger,
    dm_id,
    state_rules,
)
from bot.sandbox.slack_state import (
    BOT_USER,
    TEAM_ID,
    ApiError,
    RateLimited,
    SandboxState,
    json_arg,
)
from bot.slack.simulator import trigger_user


def _ts(state: SandboxState) -> str:
    return f"{int(state.now())}.{next(state.clock):06d}"


def _post(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    rules = state_rules(state)
    channel = rules.channel("chat.postMessage", str(args.get("channel") or ""))
    if not channel:
        raise ApiError("channel_not_found")
    rules.may_post(channel)
    check_message(args.get("text"), json_arg(args.get("blocks")))
    wait = rules.rate_limited(channel)
    if wait is not None:
        raise RateLimited(wait)
    message = {
        "type": "message",
        "user": BOT_USER,
        "bot_id": "B0HANDOFF",
        "ts": _ts(state),
        "text": args.get("text", ""),
        "blocks": json_arg(args.get("blocks")) or [],
    }
    metadata = json_arg(args.get("metadata"))
    if metadata:
        message["metadata"] = metadata
    thread_ts = str(args.get("thread_ts") or "")
    if thread_ts:  # a reply: Slack counts it on its parent and keeps it out of history
        parent = _message(state, channel, thread_ts)
        message["thread_ts"] = thread_ts
        parent.setdefault("thread_ts", thread_ts)
        parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
        parent["latest_reply"] = message["ts"]
    state.messages.setdefault(channel, []).append(message)
    return {"channel": channel, "ts": message["ts"], "message": message}


def _message(state: SandboxState, channel: str, ts: str) -> dict[str, Any]:
    if channel not in state.messages:
        raise ApiError("channel_not_found")
    for message in state.messages[channel]:
        if message["ts"] == ts:
            return message
    raise ApiError("message_not_found")


def _permalink(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    channel, ts = str(args.get("channel") or ""), str(args.get("message_ts") or "")
    state_rules(state).channel("chat.getPermalink", channel)
    _message(state, channel, ts)
    link = f"{state.base_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
    return {"channel": channel, "permalink": link}


def _update(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    channel, ts = str(args.get("channel")), str(args.get("ts"))
    rules = state_rules(state)
    rules.channel("chat.update", channel)
    rules.may_post(channel)
    check_message(args.get("text"), json_arg(args.get("blocks")))
    for message in state.messages.get(channel, []):
        if message["ts"] == ts:
            message["text"] = args.get("text", message["text"])
            message["blocks"] = json_arg(args.get("blocks")) or message["blocks"]
            message["edited"] = {"user": BOT_USER, "ts": _ts(state)}
            return {"channel": channel, "ts": ts, "text": message["text"], "message": message}
    raise ApiError("message_not_found")


def ephemeral(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    message = {
        "type": "message",
        "ts": _ts(state),
        "channel": dm_id(str(args.get("channel") or "")),
        "user": str(args.get("user") or ""),
        "text": args.get("text", ""),
        "blocks": json_arg(args.get("blocks")) or [],
        "is_ephemeral": True,
    }
    state.ephemerals.append(message)
    return {"message_ts": message["ts"]}


def _open_view(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    if not args.get("trigger_id"):
        raise ApiError("invalid_trigger_id")
    check_trigger(str(args["trigger_id"]))
    view = json_arg(args.get("view")) or {}
    check_blocks(view.get("blocks") or [], VIEW_BLOCKS)
    opened = {
        **view,
        "id": f"V{next(state.clock):08d}",
        "team_id": TEAM_ID,
        "state": {"values": {}},
        "hash": "sandbox",
    }
    user = trigger_user(str(args["trigger_id"]))
    if user is not None:  # the dialog shows for whoever clicked (the sandbox page reads it)
        state.modals[user] = opened
    return {"view": opened}


def _update_view(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    view_id = str(args.get("view_id") or "")
    for user, shown in state.modals.items():
        if shown.get("id") == view_id:
            if args.get("hash") not in (None, shown.get("hash")):
                raise ApiError("hash_conflict")
            view = json_arg(args.get("view")) or {}
            check_blocks(view.get("blocks") or [], VIEW_BLOCKS)
            updated = {**shown, **view, "hash": f"sandbox{next(state.clock)}"}
            state.modals[user] = updated
            return {"view": updated}
    raise ApiError("not_found")


def _open_conversation(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    users = sorted(str(args.get("users") or "").split(","))
    if len(users) == 1:
        return {"channel": {"id": dm_id(users[0])}}
    return {"channel": {"id": f"G{zlib.crc32(','.join(users).encode()):010d}"}}


def _users_info(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    user = state.users.get(str(args.get("user")))
    if user is None:
        raise ApiError("user_not_found")
    return {"user": user}


def _history(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    channel = state_rules(state).channel("conversations.history", str(args.get("channel") or ""))
    state_rules(state).may_read(channel)
    # Thread replies are not in a channel's history (conversations.replies has them).
    messages = [
        m
        for m in reversed(state.messages.get(str(args.get("channel")), []))
        if m.get("thread_ts") in (None, m["ts"])
    ]
    oldest = float(args.get("oldest") or 0)
    found = [m for m in messages if float(m["ts"]) > oldest][: int(args.get("limit") or 100)]
    return {
        "messages": found,
        "has_more": False,
        "pin_count": 0,
        "channel_actions_ts": None,
        "channel_actions_count": 0,
    }


def _publish_view(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    user = str(args.get("user_id") or "")
    view = json_arg(args.get("view"))
    if not user:
        raise ApiError("invalid_arguments")
    if not isinstance(view, dict) or view.get("type") != "home":
        raise ApiError("invalid_arguments")
    check_blocks(view.get("blocks") or [], VIEW_BLOCKS)
    published = {
        **view,
        "id": f"V{next(state.clock):08d}",
        "team_id": TEAM_ID,
        "state": {"values": {}},
        "hash": f"h{next(state.clock)}",
    }
    state.homes[user] = published
    return {"view": published}


def _upload_url(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    filename, length = str(args.get("filename") or ""), int(args.get("length") or 0)
    if not filename or length <= 0:
        raise ApiError("invalid_arguments")
    file_id = f"F{next(state.clock):08d}"
    state.files[file_id] = {"id": file_id, "name": filename, "length": length, "content": None}
    return {"upload_url": f"{state.base_url}upload/{file_id}", "file_id": file_id}


def _complete_upload(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    requested = json_arg(args.get("files")) or []
    done = []
    for item in requested:
        found = state.files.get(str(item.get("id")))
        if found is None or found["content"] is None:
            raise ApiError("file_not_found")
        found["title"] = item.get("title") or found["name"]
        done.append(_file_object(state, found))
    channel = args.get("channel_id")
    if channel:
        message = {
            "type": "message",
            "subtype": "file_share",
            "user": BOT_USER,
            "ts": _ts(state),
            "text": args.get("initial_comment") or "",
            "files": done,
        }
        state.messages.setdefault(str(channel), []).append(message)
    return {"files": [{"id": f["id"], "title": f["title"]} for f in done]}


def _file_object(state: SandboxState, found: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": found["id"],
        "name": found["name"],
        "title": found["title"],
        "mimetype": "image/png" if found["name"].endswith(".png") else "application/octet-stream",
        "size": len(found["content"]),
        "url_private": f"{state.base_url}files/{found['id']}",
    }


def _auth_test(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": "https://sandbox.slack.invalid/",
        "team": "Sandbox",
        "user": "handoff",
        "team_id": TEAM_ID,
        "user_id": BOT_USER,
        "bot_id": "B0HANDOFF",
    }


def _delete(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
    state_rules(state).channel("chat.delete", channel)
    message = _message(state, channel, ts)
    state.messages[channel].remove(message)
    return {"channel": channel, "ts": ts}


def _info(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    channel = str(args.get("channel") or "")
    known = state_rules(state).channels.get(channel)
    if known is None and not channel.startswith(("C", "G")):
        raise ApiError("channel_not_found")
    return {"channel": _channel_object(known or Channel(channel, channel.lower()))}


def _join(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    channel = str(args.get("channel") or "")
    known = state_rules(state).channels.get(channel) or Channel(channel, channel.lower())
    if known.archived:
        raise ApiError("is_archived")
    if known.private:
        raise ApiError("method_not_supported_for_channel_type")
    known.member = True
    return {"channel": _channel_object(known)}


def _list(state: SandboxState, args: dict[str, Any]) -> dict[str, Any]:
    skip_archived = str(args.get("exclude_archived", "")).lower() in ("true", "1")
    channels = [
        _channel_object(c)
        for c in state_rules(state).channels.values()
        if not (skip_archived and c.archived)
    ]
    return {"channels": channels, "response_metadata": {"next_cursor": ""}}


def _channel_object(channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.private,
        "is_group": channel.private,
        "is_private": channel.private,
        "is_archived": channel.archived,
        "is_member": channel.member,
    }


METHODS: dict[str, Callable[[SandboxState, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": _auth_test,
    "chat.postMessage": _post,
    "chat.update": _update,
    "chat.postEphemeral": ephemeral,
    "chat.getPermalink": _permalink,
    "chat.delete": _delete,
    "conversations.info": _info,
    "conversations.join": _join,
    "conversations.list": _list,
    "views.open": _open_view,
    "views.update": _update_view,
    "conversations.open": _open_conversation,
    "users.info": _users_info,
    "conversations.history": _history,
    "views.publish": _publish_view,
    "files.getUploadURLExternal": _upload_url,
    "files.completeUploadExternal": _complete_upload,
}
