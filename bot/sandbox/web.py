"""The sandbox's web page: the channels, the escalation channel, each person's DM with the
app and their App Home, rendered from the Block Kit the app sent, with working buttons,
dialogs and `/handoff`; a "viewing as" selector and a clock to fast-forward.

The page is templates/sandbox.html (it renders Block Kit itself); this module serves it and
the JSON it reads, and turns what a person does on it into the signed request Slack would
send the app (bot.slack.simulator).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from bot.resources import template_file
from bot.sandbox.crm_standin import CrmStandIn
from bot.sandbox.slack_api import SlackSandbox
from bot.sandbox.slack_rules import dm_id
from bot.slack.simulator import Simulator

JSON = "application/json; charset=utf-8"


def next_monday_morning(now: datetime, timezone: str) -> datetime:
    """Gets the next Monday 09:01 in `timezone`: just after the weekly digest is due."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    days = (7 - local.weekday()) % 7 or 7
    return datetime.combine(local.date() + timedelta(days=days), time(9, 1), tzinfo=zone)


@dataclass(frozen=True)
class Person:
    """Someone in the sandbox workspace."""

    id: str
    name: str
    role: str  # rep or manager


class BadRequest(Exception):
    """A request from the page that cannot be carried out (the message says why)."""


@dataclass
class SandboxWeb:
    """Serves the page and carries its clicks to the app."""

    sandbox: SlackSandbox
    simulator: Simulator
    people: list[Person]
    channel_names: dict[str, str]
    clock: Callable[[], datetime]
    on_fast_forward: Callable[[timedelta], str]
    timezone: str = "America/New_York"
    crm: CrmStandIn | None = None  # HubSpot's stand-in: its records are shown beside Slack

    def handle(self, method: str, target: str, body: bytes) -> tuple[int, str, bytes]:
        """Answers one request: (status, content type, body)."""
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if method == "GET" and parts.path == "/":
            return 200, "text/html; charset=utf-8", template_file("sandbox.html").read_bytes()
        routes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "GET /_sandbox/state": self.state,
            "POST /_sandbox/click": self.click,
            "POST /_sandbox/submit": self.submit,
            "POST /_sandbox/close": self.close,
            "POST /_sandbox/command": self.command,
            "POST /_sandbox/home": self.open_home,
            "POST /_sandbox/clock": self.fast_forward,
        }
        route = routes.get(f"{method} {parts.path}")
        if route is None:
            return 404, JSON, json.dumps({"error": f"no {method} {parts.path}"}).encode()
        try:
            args = {**query, **(json.loads(body) if body else {})}
            answer = route(args)
        except (BadRequest, KeyError, ValueError) as exc:
            return 400, JSON, json.dumps({"error": str(exc)}).encode()
        return 200, JSON, json.dumps(answer).encode()

    def _person(self, args: dict[str, Any]) -> str:
        user = str(args.get("as") or self.people[0].id)
        if user not in {p.id for p in self.people}:
            raise BadRequest(f"no one called {user} in the sandbox")
        return user

    def state(self, args: dict[str, Any]) -> dict[str, Any]:
        """Gets what `as` sees: channels, their DM, their Home tab, an open dialog."""
        me = self._person(args)
        state = self.sandbox.state
        with state.lock:
            conversations = [
                self._conversation(cid, f"#{name}", "channel", me)
                for cid, name in self.channel_names.items()
            ]
            conversations.append(self._conversation(dm_id(me), "Lead Handoff (DM)", "dm", me))
            home, modal = state.homes.get(me), state.modals.get(me)
        return {
            "me": me,
            "timezone": self.timezone,
            "people": [asdict(p) for p in self.people],
            "names": {p.id: p.name for p in self.people}
            | {cid: f"#{name}" for cid, name in self.channel_names.items()},
            "clock": self.clock().astimezone(ZoneInfo(self.timezone)).strftime("%a %d %b %Y, %H:%M")
            + f" ({self.timezone})",
            "conversations": conversations,
            "home": home,
            "modal": modal,
            "crm": None if self.crm is None else crm_records(self.crm),
        }

    def _conversation(self, cid: str, name: str, kind: str, me: str) -> dict[str, Any]:
        state = self.sandbox.state
        messages = list(state.messages.get(cid, []))
        messages += [e for e in state.ephemerals if e["channel"] == cid and e["user"] == me]
        messages.sort(key=lambda m: float(m["ts"]))
        return {"id": cid, "name": name, "kind": kind, "messages": messages}

    def click(self, args: dict[str, Any]) -> dict[str, Any]:
        """Clicks a button on a message (`conversation`, `ts`) or on the Home tab."""
        me = self._person(args)
        action: dict[str, Any] = {
            k: args[k]
            for k in ("action_id", "block_id", "value", "type", "selected_option")
            if k in args
        }
        if args.get("modal"):
            view = self.sandbox.state.modals.get(me)
            if view is None:
                raise BadRequest("no dialog is open")
            response = self.simulator.click(user=me, action=action, view=view)
        elif args.get("home"):
            view = self.sandbox.home(me)
            if view is None:
                raise BadRequest("the Home tab is not open")
            response = self.simulator.click(user=me, action=action, view=view)
        else:
            conversation, ts = str(args["conversation"]), str(args["ts"])
            message = next((m for m in self.sandbox.channel(conversation) if m["ts"] == ts), None)
            if message is None:
                raise BadRequest(f"no message {ts} in {conversation}")
            response = self.simulator.click(
                user=me, action=action, channel=conversation, message=message
            )
        return {"status": response.status_code}

    def submit(self, args: dict[str, Any]) -> dict[str, Any]:
        """Submits the open dialog; its `errors` come back when the app refused it."""
        me = self._person(args)
        modal = self.sandbox.state.modals.get(me)
        if modal is None:
            raise BadRequest("no dialog is open")
        answer = self.simulator.submit(user=me, view=modal, values=args.get("values") or {})
        if answer.get("response_action") == "errors":
            return {"errors": answer.get("errors", {})}
        self.close({"as": me})
        return {"errors": {}}

    def close(self, args: dict[str, Any]) -> dict[str, Any]:
        """Closes the open dialog (Cancel)."""
        with self.sandbox.state.lock:
            self.sandbox.state.modals.pop(self._person(args), None)
        return {}

    def command(self, args: dict[str, Any]) -> dict[str, Any]:
        """Types `/handoff …` in a conversation; the answer shows only to the typist."""
        me = self._person(args)
        conversation = str(args.get("conversation") or next(iter(self.channel_names)))
        text = str(args.get("text") or "").removeprefix("/handoff").strip()
        answer = self.simulator.command(user=me, text=text, channel=conversation)
        self.sandbox.add_ephemeral(channel=conversation, user=me, text=answer)
        return {"text": answer}

    def open_home(self, args: dict[str, Any]) -> dict[str, Any]:
        """Opens the Home tab (the app publishes it)."""
        response = self.simulator.home_opened(user=self._person(args))
        return {"status": response.status_code}

    def fast_forward(self, args: dict[str, Any]) -> dict[str, Any]:
        """Moves the clock on by `minutes`, or `until` "digest" (next Monday 09:01)."""
        if args.get("until") == "digest":
            now = self.clock()
            by = next_monday_morning(now, self.timezone) - now
        else:
            minutes = float(args.get("minutes", 0))
            if not 0 < minutes <= 60 * 24 * 14:
                raise BadRequest("fast-forward by 1 minute to 14 days")
            by = timedelta(minutes=minutes)
        return {"message": self.on_fast_forward(by)}


CRM_SHOWN = 12


def crm_records(crm: CrmStandIn) -> list[dict[str, Any]]:
    """Gets the newest HubSpot contacts as the page shows them: name, owner, lead status
    and notes (newest first), in plain text."""
    with crm.lock:
        owners = {o["id"]: f"{o['firstName']} {o['lastName']}".strip() for o in crm.owners}
        contacts = list(crm.contacts.items())[-CRM_SHOWN:][::-1]
        notes: dict[str, list[str]] = {}
        for note in crm.notes:
            for association in note.get("associations") or []:
                text = str(note["properties"].get("hs_note_body", ""))
                plain = html.unescape(text.replace("<br>", "\n"))
                notes.setdefault(str(association["to"]["id"]), []).insert(0, plain)
    return [
        {
            "id": contact_id,
            "name": " ".join(str(p) for p in (props.get("firstname"), props.get("lastname")) if p)
            or f"Contact {contact_id}",
            "company": props.get("company"),
            "owner": owners.get(str(props.get("hubspot_owner_id"))),
            "status": props.get("hs_lead_status"),
            "notes": notes.get(contact_id, []),
        }
        for contact_id, props in contacts
    ]
