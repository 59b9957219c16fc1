"""`handoff outbox list|retry|drop`: the Slack messages that did not go out (dead letters),
seen and replayed after the cause is fixed (a token, a channel, an invite)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from sqlmodel import Session

from bot.cli.common import Subcommands, command, database
from bot.config import Settings
from store.dead_letters import Letter, Which, drop, health, letters, retry
from store.models import OutboxStatus

STATUSES = {"dead": OutboxStatus.DEAD, "pending": OutboxStatus.PENDING, "all": None}


def register(commands: Subcommands) -> None:
    """Adds `outbox list|retry|drop`."""
    outbox = commands.add_parser("outbox", help="Slack messages that did not go out")
    actions = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    listing = command(actions, "list", list_command, help="list dead (or pending) entries")
    listing.add_argument("--status", choices=list(STATUSES), default="dead")
    listing.add_argument("--error", metavar="CODE", help="only entries that failed with CODE")
    listing.add_argument("--limit", type=int, default=100, metavar="N")
    listing.add_argument("--format", choices=["text", "json"], default="text")
    for name, handler, what in (
        ("retry", retry_command, "queue dead entries again, in their order"),
        ("drop", drop_command, "give up dead entries for good"),
    ):
        action = command(actions, name, handler, help=what)
        pick = action.add_mutually_exclusive_group(required=True)
        pick.add_argument("--id", type=int, action="append", dest="ids", metavar="N")
        pick.add_argument("--error", metavar="CODE", help="every dead entry that failed so")
        pick.add_argument("--all", action="store_true", help="every dead entry")


def _which(args: argparse.Namespace) -> Which:
    return Which(ids=tuple(args.ids or ()), error=args.error, every=bool(args.all))


def list_command(args: argparse.Namespace) -> int:
    """`handoff outbox list`."""
    everything = Which(error=args.error, every=True)
    with database(Settings()) as engine, Session(engine) as session:
        found = letters(
            session=session, status=STATUSES[args.status], which=everything, limit=args.limit
        )
        counts = health(session=session, now=datetime.now(UTC))
    if args.format == "json":
        print(json.dumps({"counts": counts, "entries": [_json(e) for e in found]}, indent=2))
        return 0
    for entry in found:
        print(_line(entry))
    print(
        f"{len(found)} shown · dead: {counts['dead']} · pending: {counts['pending']} "
        f"(overdue: {counts['overdue']})"
    )
    if counts["dead"]:
        print("Fix the cause, then: handoff outbox retry --all (or --error CODE, --id N)")
    return 0


def _line(entry: Letter) -> str:
    about = f"hand-off {entry.handoff_id}" if entry.handoff_id else "no hand-off"
    when = entry.created_at.isoformat(timespec="seconds")
    return (
        f"#{entry.id} {entry.status} {entry.kind} to {entry.channel} ({about}), queued {when},"
        f" {entry.attempts} attempt(s): {entry.last_error or '-'}"
    )


def _json(entry: Letter) -> dict[str, object]:
    return {
        "id": entry.id,
        "status": entry.status,
        "kind": entry.kind,
        "channel": entry.channel,
        "handoff_id": entry.handoff_id,
        "attempts": entry.attempts,
        "created_at": entry.created_at.isoformat(),
        "error": entry.error_code,
        "last_error": entry.last_error,
    }


def retry_command(args: argparse.Namespace) -> int:
    """`handoff outbox retry`."""
    with database(Settings()) as engine, Session(engine) as session:
        count = retry(session=session, which=_which(args), now=datetime.now(UTC))
        session.commit()
    print(
        f"Queued again: {count} dead entr{'y' if count == 1 else 'ies'}. The worker sends them"
        " at its next pass, each channel's in the order they were first queued."
    )
    return 0 if count else 1


def drop_command(args: argparse.Namespace) -> int:
    """`handoff outbox drop`."""
    with database(Settings()) as engine, Session(engine) as session:
        count = drop(session=session, which=_which(args))
        session.commit()
    print(f"Dropped: {count} dead entr{'y' if count == 1 else 'ies'} (kept in the table).")
    return 0 if count else 1
