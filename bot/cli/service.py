"""`handoff serve`, `handoff worker` and `handoff db`: the long-running processes and the
database's migrations."""

from __future__ import annotations

import argparse

from bot.cli.common import Subcommands, command, config_option
from bot.config import Settings, load_config
from bot.runtime.database import revisions, shown_url
from bot.runtime.logs import configure
from bot.runtime.serve import run_worker, serve


def register(commands: Subcommands) -> None:
    """Adds `serve`, `worker` and `db upgrade|current`."""
    serve_parser = command(
        commands, "serve", serve_command, help="run the HTTP app (intake API, health)"
    )
    config_option(serve_parser)
    _log_format(serve_parser)
    serve_parser.add_argument(
        "--host", help="address to listen on (default: $HOST, else 127.0.0.1)"
    )
    serve_parser.add_argument(
        "--port", type=int, help="port (default: $PORT, else 8080; 0 picks one)"
    )
    serve_parser.add_argument(
        "--web-only",
        action="store_true",
        help="no background jobs: for extra web processes beside a `handoff worker`",
    )
    worker = command(
        commands, "worker", worker_command, help="run the SLA sweep and the Slack sender"
    )
    config_option(worker)
    _log_format(worker)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    command(db_commands, "upgrade", db_command, help="apply pending migrations ($DATABASE_URL)")
    command(db_commands, "current", db_command, help="show the database's migration revision")


def _log_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="log lines for a terminal (default) or JSON lines for a log collector",
    )


def serve_command(args: argparse.Namespace) -> int:
    """`handoff serve`."""
    config = load_config(args.config)
    config.scoring, config.team  # noqa: B018 -- each says what is missing, before anything starts
    configure(args.log_format)  # what the background jobs do (lease, sweep, sender)
    return serve(
        Settings(),
        config=config.settings,
        host=args.host,
        port=args.port,
        web_only=args.web_only,
        log_json=args.log_format == "json",
    )


def worker_command(args: argparse.Namespace) -> int:
    """`handoff worker`."""
    config = load_config(args.config)
    config.team  # noqa: B018 -- says what is missing, before anything starts
    configure(args.log_format)
    return run_worker(Settings(), config=config.settings)


def db_command(args: argparse.Namespace) -> int:
    """`handoff db upgrade` or `handoff db current`."""
    return database_command(args.db_command, Settings())


def database_command(action: str, settings: Settings) -> int:
    """Runs `handoff db upgrade` or `handoff db current`."""
    where = shown_url(settings.database_url)
    upgrading = action == "upgrade"
    revision, newest = revisions(settings.database_url, upgrade_first=upgrading)
    if upgrading:
        print(f"{where}: at revision {revision} (newest: {newest})")
        return 0
    state = "up to date" if revision == newest else "run `handoff db upgrade`"
    print(f"{where}: at revision {revision or '(empty)'}; newest is {newest} ({state})")
    return 0
