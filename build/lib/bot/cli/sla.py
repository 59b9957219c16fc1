"""`handoff sweep` and `handoff rep ooo`: the SLA sweep on demand, and out of office."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from sqlmodel import Session

from bot.cli.common import Subcommands, command, config_option, database, instant, send_queued
from bot.config import Config, Settings, load_config
from bot.handoffs.sweep import sweep
from bot.handoffs.team import set_away


def register(commands: Subcommands) -> None:
    """Adds `sweep` and `rep ooo`."""
    sweep_parser = command(
        commands, "sweep", sweep_command, help="send the reminders and escalations due now"
    )
    config_option(sweep_parser)
    sweep_parser.add_argument(
        "--now", type=instant, metavar="ISO", help="sweep as of this instant (default: now)"
    )

    rep = commands.add_parser("rep", help="manage reps")
    rep_commands = rep.add_subparsers(dest="rep_command", required=True, metavar="ACTION")
    ooo = command(
        rep_commands, "ooo", ooo_command, help="mark a rep out of office (on) or back (off)"
    )
    config_option(ooo)
    ooo.add_argument("slack_id", metavar="SLACK_ID")
    ooo.add_argument("state", choices=["on", "off"])


def sweep_command(args: argparse.Namespace) -> int:
    """`handoff sweep`."""
    return run_sweep(settings=Settings(), config=load_config(args.config), now=args.now)


def run_sweep(*, settings: Settings, config: Config, now: datetime | None) -> int:
    """Runs one sweep at `now` (default: the current time); prints what it sent."""
    wall = datetime.now(UTC)
    at = now or wall
    with database(settings, config) as engine:
        with Session(engine) as session:
            sent = sweep(
                session=session,
                now=at,
                team=config.team,
                sla=config.settings.sla,
                reasons=config.settings.reject_reasons,
                send_from=min(at, wall),
            )
            session.commit()
        if config.settings.sla is None:
            print(f"{config.path}: no [sla] section: hand-offs have no deadlines to sweep")
        for item in sent:
            print(item)
        moved = sum(1 for item in sent if item.kind == "reassignment")
        print(
            f"Sweep at {at.isoformat(timespec='seconds')}: {len(sent) - moved} notification(s) "
            f"queued, {moved} reassignment(s)."
        )
        if sent:
            send_queued(settings, config, engine)
    return 0


def ooo_command(args: argparse.Namespace) -> int:
    """`handoff rep ooo SLACK_ID on|off`."""
    return run_out_of_office(
        settings=Settings(),
        config=load_config(args.config),
        slack_id=args.slack_id,
        away=args.state == "on",
    )


def run_out_of_office(*, settings: Settings, config: Config, slack_id: str, away: bool) -> int:
    """Marks a rep out of office (no new leads) or back."""
    with database(settings, config) as engine, Session(engine) as session:
        state = set_away(session=session, slack_id=slack_id, away=away)
        session.commit()
    if state.name is None:
        known = ", ".join(r.slack_id for r in config.team.reps)
        print(
            f"no rep {slack_id} in [[team.reps]] of {config.path} (known: {known})", file=sys.stderr
        )
        return 2
    if not away:
        print(f"{state.name} ({slack_id}) is back: receiving leads again.")
        return 0
    moving = (
        f"; their {state.pending} pending lead(s) move at the next sweep" if state.pending else ""
    )
    print(
        f"{state.name} ({slack_id}) is out of office: no new leads until "
        f"`handoff rep ooo {slack_id} off`{moving}."
    )
    return 0
