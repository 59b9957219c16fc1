"""`handoff sweep` and `handoff rep ooo`: the SLA sweep on demand, and out of office."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from bot.cli.common import Subcommands, command, config_option, database, instant, send_queued
from bot.config import Config, Settings, load_config
from bot.handoffs.sweep import Sent, sweep
from bot.handoffs.team import set_away

# A clock a little ahead of this machine's is not "the future".
FUTURE_TOLERANCE = timedelta(minutes=1)


def register(commands: Subcommands) -> None:
    """Adds `sweep` and `rep ooo`."""
    sweep_parser = command(
        commands, "sweep", sweep_command, help="send the reminders and escalations due now"
    )
    config_option(sweep_parser)
    sweep_parser.add_argument(
        "--now", type=instant, metavar="ISO", help="sweep as of this instant (default: now)"
    )
    mode = sweep_parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be sent and moved at --now, and change nothing",
    )
    mode.add_argument(
        "--simulate",
        action="store_true",
        help="allow a --now in the future, for real (a scratch database: tests, demos)",
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
    return run_sweep(
        settings=Settings(),
        config=load_config(args.config),
        now=args.now,
        dry_run=args.dry_run,
        simulate=args.simulate,
    )


FUTURE = (
    "handoff sweep: --now {at} is in the future. A sweep at that time would send reminders"
    " and escalations, and move leads, now, before their time. To see what it would do, add"
    " --dry-run; to run it for real on a scratch database (tests, demos), add --simulate."
)


def run_sweep(
    *,
    settings: Settings,
    config: Config,
    now: datetime | None,
    dry_run: bool = False,
    simulate: bool = False,
) -> int:
    """Runs one sweep at `now` (default: the current time) and prints what it sent; with
    `dry_run`, what it would send, changing nothing. Whatever it queues is due at once."""
    wall = datetime.now(UTC)
    at = now or wall
    if at > wall + FUTURE_TOLERANCE and not (dry_run or simulate):
        print(FUTURE.format(at=at.isoformat(timespec="seconds")), file=sys.stderr)
        return 2
    with database(settings, None if dry_run else config, migrate=not dry_run) as engine:
        with Session(engine) as session:
            sent = sweep(
                session=session,
                now=at,
                team=config.team,
                sla=config.settings.sla,
                reasons=config.settings.reject_reasons,
                send_from=wall,
            )
            if dry_run:
                session.rollback()
            else:
                session.commit()
        _print_sweep(config, sent, at, dry_run)
        if sent and not dry_run:
            send_queued(settings, config, engine)
    return 0


def _print_sweep(config: Config, sent: list[Sent], at: datetime, dry_run: bool) -> None:
    if config.settings.sla is None:
        print(f"{config.path}: no [sla] section: hand-offs have no deadlines to sweep")
    for item in sent:
        print(("would send: " if dry_run else "") + str(item))
    moved = sum(1 for item in sent if item.kind == "reassignment")
    notices = len(sent) - moved
    if dry_run:
        print(
            f"Dry run at {at.isoformat(timespec='seconds')}: {notices} notification(s) and "
            f"{moved} reassignment(s) would be made; nothing was changed."
        )
        return
    print(
        f"Sweep at {at.isoformat(timespec='seconds')}: {notices} notification(s) "
        f"queued, {moved} reassignment(s)."
    )


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
