"""`handoff demo --scripted`: the whole loop, end to end, without a browser, as a readable
transcript. Every step is what a person would do in Slack, sent to the app as the signed
request Slack sends (bot.slack.simulator); every line printed is read back from what the
app posted to the sandbox.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.reports.charts import charts_available
from bot.sandbox.slack_rules import dm_id
from bot.sandbox.stack import CHANNEL_NAMES, DemoStack, sample_leads
from store.models import Handoff, Rep

CHANNEL = "C0SALESLEADS"
EMOJI = {
    "repeat": "🔁",
    "white_check_mark": "✅",
    "x": "❌",
    "alarm_clock": "⏰",
    "rotating_light": "🚨",
    "leftwards_arrow_with_hook": "↩",
    "bar_chart": "📊",
}


class Transcript:
    """Prints what happens, each line stamped with the demo's clock."""

    def __init__(self, stack: DemoStack, out: TextIO) -> None:
        self.stack, self.out = stack, out
        self.names = {p.id: p.name.split()[0] for p in stack.people}
        self.zone = ZoneInfo(stack.config.team.timezone)

    def say(self, text: str) -> None:
        local = self.stack.clock.now().astimezone(self.zone)
        print(f"[{local:%a %H:%M}] {text}", file=self.out, flush=True)

    def step(self, title: str) -> None:
        print(f"\n== {title}", file=self.out, flush=True)

    def plain(self, mrkdwn: str) -> str:
        """Gets Slack text as a terminal shows it: mentions named, dates read, no markup."""
        text = re.sub(r"<@(\w+)>", lambda m: "@" + self.names.get(m.group(1), m.group(1)), mrkdwn)
        text = re.sub(r"<#(\w+)>", lambda m: "#" + CHANNEL_NAMES.get(m.group(1), m.group(1)), text)
        text = re.sub(r"<!date\^\d+\^[^|>]*\|([^>]*)>", r"\1", text)
        text = re.sub(r":([a-z_]+):", lambda m: EMOJI.get(m.group(1), m.group(0)), text)
        return html.unescape(text.replace("*", ""))

    def blocks(self, message: dict[str, Any]) -> list[str]:
        """Gets a message's lines: header, sections and context, in order."""
        lines = []
        for block in message.get("blocks") or []:
            if block["type"] == "actions":
                continue
            for part in [block.get("text"), *(block.get("elements") or [])]:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    lines += self.plain(part["text"]).splitlines()
        return [line for line in lines if line.strip()] or [self.plain(message.get("text", ""))]


def wait(stack: DemoStack, check: Callable[[], Any], what: str, timeout: float = 15) -> Any:
    """Sends what is queued until `check` gives something (listeners answer Slack first
    and finish in the background, as Slack's 3-second rule wants)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.deliver()
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise RuntimeError(f"the demo waited {timeout:.0f} s for {what}")


def cards(stack: DemoStack) -> dict[int, dict[str, Any]]:
    """Gets the lead cards in the team channel by hand-off id."""
    found = {}
    for message in stack.sandbox.channel(CHANNEL):
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if "handoff_id" in payload:
            found[int(payload["handoff_id"])] = message
    return found


def card_state(stack: DemoStack, handoff_id: int) -> str:
    """Gets the last line of a card's decision block (who accepted, rejected, moved it)."""
    message = cards(stack)[handoff_id]
    for block in message["blocks"]:
        if block.get("block_id") == "handoff_decision" and block["type"] == "context":
            return str(block["elements"][0]["text"])
    return ""


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Gets a message's buttons by action id."""
    found = {}
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                found[element["action_id"]] = {
                    "action_id": element["action_id"],
                    "block_id": block.get("block_id"),
                    "value": element.get("value"),
                }
    return found


def picks(message: dict[str, Any]) -> list[tuple[str, str]]:
    """Gets the options of a message's select (the manager's "Pick the new owner")."""
    return [
        (str(o["value"]), str(o["text"]["text"]))
        for block in message.get("blocks") or []
        for element in block.get("elements") or []
        if element.get("type") == "static_select"
        for o in element.get("options") or []
    ]


def settled(stack: DemoStack, channel: str, ts: str) -> str:
    """Gets the line a DM was redrawn with once acted on ("" until then)."""
    message = next((m for m in stack.sandbox.channel(channel) if m["ts"] == ts), {})
    for block in message.get("blocks") or []:
        if block.get("block_id") == "settled":
            return str(block["elements"][0]["text"])
    return ""


def thread_replies(stack: DemoStack) -> list[dict[str, Any]]:
    """Gets the replies in the threads of the team channel."""
    return [m for m in stack.sandbox.channel(CHANNEL) if m.get("thread_ts") not in (None, m["ts"])]


def journey_line(message: dict[str, Any]) -> str:
    """Gets a card's journey line ("3rd owner · first handed off …") as a message."""
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if str(element.get("text", "")).startswith(":repeat:"):
                return str(element["text"])
    return ""


def owners(stack: DemoStack) -> dict[int, tuple[str | None, Handoff]]:
    """Gets every hand-off (as the database has it now) with its rep's Slack id."""
    with Session(stack.engine, expire_on_commit=False) as session:
        rows = session.exec(
            select(Handoff, Rep.slack_id).join(Rep, isouter=True).order_by(col(Handoff.id))
        ).all()
    return {int(h.id or 0): (slack_id, h) for h, slack_id in rows}


def run_scripted(out: TextIO, *, leads: int = 10) -> int:
    """Runs the scenario; prints the transcript; gets the exit code."""
    began = time.monotonic()
    stack = DemoStack().start()
    try:
        Scenario(stack, Transcript(stack, out)).run(leads)
    finally:
        stack.stop()
    print(f"\nDone in {time.monotonic() - began:.1f} s.", file=out)
    return 0


class Scenario:
    """Leads in, cards, accept, reject with reasons, a breach, the digest."""

    def __init__(self, stack: DemoStack, log: Transcript) -> None:
        self.stack, self.log = stack, log

    def run(self, leads: int) -> None:
        self.intake(leads)
        # The lead due first is the one left to breach, so no other deadline passes first.
        assigned = [
            (h.due_at, hid) for hid, (rep, h) in owners(self.stack).items() if rep and h.due_at
        ]
        if len(assigned) < 5:
            raise RuntimeError(f"the demo needs five leads with a rep, got {len(assigned)}")
        late = min(assigned)[1]
        first, second, third, fourth = [hid for _, hid in sorted(assigned) if hid != late][:4]
        self.accept(first)
        self.wrong_person(second)
        self.reject(third, reason="no_budget", note="")
        self.reject(fourth, reason="other", note="Student project, no company behind it")
        self.breach(late)
        self.slash_command()
        self.digest()

    def intake(self, count: int) -> None:
        self.log.step(f"Leads arrive: {count} MQLs through POST /api/leads")
        for lead in sample_leads(count, self.stack.config.scoring):
            answer = self.stack.post_lead(lead)
            body, score = lead.body, answer["score"]
            who = f"{body['first_name']} {body['last_name']} ({body['source']})"
            handoff = answer.get("handoff")
            if handoff is None:
                where = "stays with marketing"
            elif handoff.get("rep"):
                where = f"handed to @{self.log.names.get(handoff['rep'], handoff['rep'])}"
            else:
                where = "handed off, unassigned (no rep available)"
            self.log.say(f"{who}: score {score['total']:.0f}, {score['tier']}, {where}")
        posted = wait(self.stack, lambda: cards(self.stack), "the cards")
        self.log.say(f"{len(posted)} card(s) posted to #sales-leads, each with Accept and Reject")
        first = next(iter(posted.values()))
        for line in self.log.blocks(first)[:6]:
            self.log.say(f"    | {line}")

    def _click(self, user: str, handoff_id: int, action: str) -> None:
        message = cards(self.stack)[handoff_id]
        self.stack.simulator.click(
            user=user, action=buttons(message)[action], channel=CHANNEL, message=message
        ).raise_for_status()

    def accept(self, handoff_id: int) -> None:
        rep, _ = owners(self.stack)[handoff_id]
        assert rep is not None
        self.log.step("A rep accepts")
        self.stack.clock.advance(timedelta(minutes=3))
        self._click(rep, handoff_id, "handoff_accept")
        state = wait(self.stack, lambda: card_state(self.stack, handoff_id), "the accepted card")
        self.log.say(
            f"@{self.log.names[rep]} clicked Accept; the card now says: {self.log.plain(state)}"
        )

    def wrong_person(self, handoff_id: int) -> None:
        rep, _ = owners(self.stack)[handoff_id]
        other = next(p.id for p in self.stack.people if p.id != rep and p.role == "rep")
        self.log.step("Someone else tries to accept another rep's lead")
        before = len(self.stack.sandbox.state.ephemerals)
        self._click(other, handoff_id, "handoff_accept")
        told = wait(
            self.stack,
            lambda: self.stack.sandbox.state.ephemerals[before:],
            "the private answer",
        )
        self.log.say(
            f"@{self.log.names[other]} is told, privately: {self.log.plain(told[0]['text'])}"
        )

    def reject(self, handoff_id: int, *, reason: str, note: str) -> None:
        rep, _ = owners(self.stack)[handoff_id]
        assert rep is not None
        self.log.step(f"A rep rejects a lead ({reason})")
        self._click(rep, handoff_id, "handoff_reject")
        modal = wait(self.stack, lambda: self.stack.sandbox.state.modals.get(rep), "the dialog")
        self.log.say(f"@{self.log.names[rep]} clicked Reject; the dialog asks for a reason")
        answer = self.stack.simulator.submit(user=rep, view=modal, values=_form(None, note))
        self.log.say(f"Submitted without a reason: {'; '.join(answer['errors'].values())}")
        if reason == "other":
            answer = self.stack.simulator.submit(user=rep, view=modal, values=_form(reason, ""))
            self.log.say(f"'Other' without a note: {'; '.join(answer['errors'].values())}")
        answer = self.stack.simulator.submit(user=rep, view=modal, values=_form(reason, note))
        assert not answer.get("errors"), answer
        with self.stack.sandbox.state.lock:
            self.stack.sandbox.state.modals.pop(rep, None)
        state = wait(self.stack, lambda: card_state(self.stack, handoff_id), "the rejected card")
        self.log.say(f"The card now says: {self.log.plain(state)}")

    def breach(self, handoff_id: int) -> None:
        rep, handoff = owners(self.stack)[handoff_id]
        assert rep is not None
        assert handoff.warn_at is not None
        assert handoff.due_at is not None
        self.log.step(f"Nobody answers a {handoff.tier} lead: reminder, breach, escalation")
        self.stack.fast_forward(handoff.warn_at - self.stack.clock.now() + timedelta(minutes=1))
        reminder = wait(self.stack, lambda: self.stack.sandbox.channel(rep), "the reminder")
        self.log.say(f"Reminder DM to @{self.log.names[rep]}: {self.log.blocks(reminder[-1])[0]}")
        self.log.say(f"    buttons: {', '.join(buttons(reminder[-1]))}")
        second = self.escalate(handoff_id, pick=False)
        self.log.step("The second owner lets it breach too: the manager picks a third rep")
        third = self.escalate(second, pick=True)
        history = journey_line(cards(self.stack)[handoff_id])
        channel = CHANNEL_NAMES.get(CHANNEL, CHANNEL)
        self.log.say(f"Still one card in #{channel}, redrawn: {self.log.plain(history)}")
        owner = self.log.names.get(self.owner(third), self.owner(third))
        self.log.say(f"Hand-off #{third} is @{owner}'s now, with a fresh deadline")

    def owner(self, handoff_id: int) -> str:
        return owners(self.stack)[handoff_id][0] or "nobody"

    def escalate(self, handoff_id: int, *, pick: bool) -> int:
        """Lets a hand-off breach; the manager moves it from the breach DM (Reassign, or a
        rep picked from the list); gets the new hand-off."""
        _, handoff = owners(self.stack)[handoff_id]
        assert handoff.due_at is not None
        self.stack.fast_forward(handoff.due_at - self.stack.clock.now() + timedelta(minutes=1))
        manager = "U0DANA"

        def escalation() -> dict[str, Any] | None:
            return next(
                (
                    m
                    for m in self.stack.sandbox.channel(manager)
                    if buttons(m).get("escalation_reassign", {}).get("value") == str(handoff_id)
                ),
                None,
            )

        dm = wait(self.stack, escalation, "the escalation")
        name = self.log.names[manager]
        self.log.say(f"Escalation DM to @{name}: {self.log.blocks(dm)[0]}")
        self.log.say(f"    buttons: {', '.join(buttons(dm))}, and a list: Pick the new owner")
        if pick:
            options = picks(dm)
            if not options:
                raise RuntimeError("the breach DM offered no rep to pick")
            value, label = options[0]
            action = {
                "action_id": "escalation_pick",
                "block_id": "escalation_actions",
                "type": "static_select",
                "selected_option": {"value": value},
            }
            said = f"picked {label} from the list"
        else:
            action = buttons(dm)["escalation_reassign"]
            said = "clicked Reassign"
        replies = len(thread_replies(self.stack))
        self.stack.simulator.click(
            user=manager, action=action, channel=dm_id(manager), message=dm
        ).raise_for_status()

        def moved() -> int | None:
            newer = [hid for hid, (_, h) in owners(self.stack).items() if hid > handoff_id]
            return newer[-1] if newer and settled(self.stack, manager, dm["ts"]) else None

        new: int = wait(self.stack, moved, "the move")
        line = self.log.plain(settled(self.stack, manager, dm["ts"]))
        self.log.say(f"@{name} {said}; the DM now says: {line}")
        reply = wait(self.stack, lambda: thread_replies(self.stack)[replies:], "the thread reply")
        self.log.say(f"    in the card's thread: {self.log.plain(reply[0]['text'])}")
        return new

    def slash_command(self) -> None:
        self.log.step("A rep checks their queue with /handoff queue")
        rep = next(p.id for p in self.stack.people if p.role == "rep")
        answer = self.stack.simulator.command(user=rep, text="queue", channel=CHANNEL)
        for line in self.log.plain(answer).splitlines():
            self.log.say(f"    | {line}")

    def digest(self) -> None:
        self.log.step("Monday 09:00: the weekly digest")
        before = len(self.stack.sandbox.channel(CHANNEL))
        zone_now = self.stack.clock.now()
        days = (7 - zone_now.weekday()) % 7 or 7
        target = (zone_now + timedelta(days=days)).replace(hour=14, minute=1)  # 09:01 New York
        self.stack.fast_forward(target - zone_now)

        def digest() -> list[dict[str, Any]]:
            posted = self.stack.sandbox.channel(CHANNEL)[before:]
            first = next((i for i, m in enumerate(posted) if _is_digest(m)), None)
            if first is None or (charts_available() and len(posted) < first + 2):
                return []  # its chart follows it, drawn when sent
            return posted[first:]

        posted = wait(self.stack, digest, "the digest", timeout=60)  # behind the week's posts
        for line in self.log.blocks(posted[0]):
            self.log.say(f"    | {line}")
        charts = [f for m in posted[1:2] for f in m.get("files") or []]
        if charts:
            self.log.say(f"    + chart: {charts[0]['title']} ({charts[0]['size']:,} bytes PNG)")


def _is_digest(message: dict[str, Any]) -> bool:
    blocks = message.get("blocks") or [{}]
    return str(blocks[0].get("text", {}).get("text", "")).startswith("Lead hand-off digest")


def _form(reason: str | None, note: str) -> dict[str, Any]:
    selected = {"selected_option": {"value": reason}} if reason else {"selected_option": None}
    return {
        "reject_reason_block": {"reject_reason": {"type": "static_select", **selected}},
        "reject_note_block": {"reject_note": {"type": "plain_text_input", "value": note}},
    }
