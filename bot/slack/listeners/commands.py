"""`/handoff`: queue, stats [week], ooo on|off, help. Every answer is ephemeral (only the
person who typed the command sees it) and travels in the ack itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from sqlmodel import Session

from bot.handoffs.queue import load_queue
from bot.handoffs.team import set_away
from bot.reports.digest import week_period, weekly_numbers
from bot.reports.format import FORMATTERS, duration, ordinal, tier_label, time_left
from bot.slack.deps import Deps
from bot.slack.ids import Command
from bot.slack.text import mention, mrkdwn

USAGE = {
    "stats": "Write `/handoff stats` or `/handoff stats 2026-W47`.",
    "ooo": "Write `/handoff ooo on` or `/handoff ooo off`.",
    "queue": "Write `/handoff queue`.",
}


def register(app: App) -> None:
    """Registers the slash command."""
    app.command(Command.HANDOFF)(on_command)


def on_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """Answers `/handoff …`; unknown subcommands get the help text."""
    words = str(command.get("text") or "").split()
    name = words[0].lower() if words else "help"
    run = SUBCOMMANDS.get(name)
    text: str
    if run is None:
        text = mrkdwn("command_help.md.j2", unknown=None if name == "help" else words[0])
    else:
        text = run(context["deps"], str(command["user_id"]), words[1:])
    ack(text=text, response_type="ephemeral")


def _usage(command: str, problem: str) -> str:
    return mrkdwn("command_usage.md.j2", problem=problem, usage=USAGE[command])


def queue(deps: Deps, user: str, args: list[str]) -> str:
    """Your pending leads (and your team's, if you manage reps)."""
    if args:
        return _usage("queue", "`queue` takes nothing after it")
    with Session(deps.engine) as session:
        found = load_queue(session=session, team=deps.team, user=user, now=deps.clock())
    sections = []
    if found.is_rep or not found.is_manager:
        sections.append(("Your pending leads", found.mine, found.mine_total))
    if found.is_manager:
        sections.append(("Your team's pending leads", found.team, found.team_total))
    return mrkdwn(
        "command_queue.md.j2",
        sections=sections,
        with_rep=found.is_manager,
        mention=mention,
        tier_label=tier_label,
        time_left=time_left,
        ordinal=ordinal,
        duration=duration,
        now=found.as_of,
    )


def stats(deps: Deps, user: str, args: list[str]) -> str:
    """A week's numbers, as in the digest (default: this week so far)."""
    if len(args) > 1:
        return _usage("stats", "`stats` takes one week at most")
    now = deps.clock()
    try:
        label, _ = week_period(args[0] if args else None, team=deps.team, now=now)
    except ValueError as exc:
        problem = str(exc)
        return _usage("stats", problem[:1].upper() + problem[1:])
    with Session(deps.engine) as session:
        numbers = weekly_numbers(
            session=session, team=deps.team, reasons=deps.reasons, week=label, now=now
        )
    return mrkdwn("digest.md.j2", m=numbers, mention=mention, **FORMATTERS)


def out_of_office(deps: Deps, user: str, args: list[str]) -> str:
    """Out of office on or off, for the rep who typed it."""
    if len(args) != 1 or args[0].lower() not in ("on", "off"):
        return _usage("ooo", "Say `on` or `off`")
    away = args[0].lower() == "on"
    with Session(deps.engine) as session:
        state = set_away(session=session, slack_id=user, away=away)
        session.commit()
    return mrkdwn("command_ooo.md.j2", rep=state.name is not None, away=away, pending=state.pending)


SUBCOMMANDS: dict[str, Callable[[Deps, str, list[str]], str]] = {
    "queue": queue,
    "stats": stats,
    "ooo": out_of_office,
}
