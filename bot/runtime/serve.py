"""`handoff serve` and `handoff db`: the long-running process and its database."""

from __future__ import annotations

import gc
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import HandoffConfig, Settings, TeamConfig, report_channel
from bot.crm.setup import crm_deliverer
from bot.handoffs.deadlines import recompute_pending
from bot.handoffs.team import sync_team
from bot.messaging.sender import Deliverer
from bot.runtime.api import AppState, create_api
from bot.runtime.database import open_database, shown_url
from bot.runtime.worker import Worker
from bot.slack.app import create_app, mount, start_socket_mode
from bot.slack.checks import check_slack, resolved
from bot.slack.deps import Deps
from bot.slack.surface import SlackSurface, web_client

SLACK_MISSING = """\
Slack is not configured ({names} not set). Leads are still taken in and handed off;
their cards wait in the outbox and go out once Slack is configured.
To try the app without a workspace, run a local Slack sandbox in another terminal:
    handoff sandbox --port 3210
and start serve with SLACK_API_URL=http://127.0.0.1:3210/api/ SLACK_BOT_TOKEN=xoxb-sandbox
SLACK_SIGNING_SECRET=sandbox-secret. For a real workspace, see "Create the Slack app" in
the README."""


def serve(
    settings: Settings,
    *,
    config: HandoffConfig,
    host: str | None,
    port: int | None,
    web_only: bool = False,
    log_json: bool = False,
) -> int:
    """Applies migrations, syncs reps, and serves HTTP (and Slack) until stopped."""
    problems = settings.missing_for_serve()
    if problems:
        for problem in problems:
            print(f"handoff serve: {problem}", file=sys.stderr)
        return 2
    config = slack_at_start(settings, config, "handoff serve")
    rules, team = config.scoring, config.team
    assert rules is not None, "serve needs [scoring]: checked by the caller"
    assert team is not None, "serve needs [team]: checked by the caller"
    engine, revision = open_database(settings.database_url)
    reps = sync_team(engine=engine, team=team)
    with Session(engine) as session:
        recomputed = recompute_pending(session=session, sla=config.sla)
        session.commit()
    if recomputed:
        print(f"handoff serve: the SLA policy changed; {recomputed} pending deadline(s) recomputed")
    assert settings.handoff_api_token is not None
    api = create_api(
        AppState(
            engine=engine,
            rules=rules,
            team=team,
            sla=config.sla,
            api_token=settings.handoff_api_token.get_secret_value(),
            hubspot=config.crm.hubspot,
            hubspot_secret=_secret(settings.hubspot_client_secret),
            webhook_secret=_secret(settings.handoff_webhook_secret),
        )
    )
    slack = _start_background(settings, api, engine, config, web_only=web_only)
    print(
        f"handoff serve: database {shown_url(settings.database_url)} at revision {revision}; "
        f"rules {rules.version}; {len(reps)} rep(s); cards to {_where(team)}"
        + ("" if settings.missing_for_slack() else f"; Slack at {settings.slack_api_url}")
        + ("; web only (no background jobs)" if web_only else ""),
        flush=True,
    )
    # Everything made so far (modules, rules, the app) lives as long as the process:
    # freezing it keeps the garbage collector from rescanning it on every full collection.
    gc.freeze()
    try:
        with stopped_by_signals():
            _listen(api, host or settings.host, settings.port if port is None else port, log_json)
    finally:
        for stop in slack:
            stop()  # the worker gives its lease up: the next one takes over at once
        engine.dispose()
    return 0


def _where(team: TeamConfig) -> str:
    """Gets where cards go, for the start-up line: the channel, and the tiers told by DM."""
    by_dm = [f"{tier.value} {mode}" for tier, mode in team.notify.items() if mode != "channel"]
    if team.dm_reps:
        by_dm.append("others both")
    return team.channel + (f" ({', '.join(by_dm)})" if by_dm else "")


def _listen(api: FastAPI, host: str, port: int, log_json: bool) -> None:
    """Serves HTTP until a signal stops it."""
    uvicorn.run(
        api,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        # JSON logs: uvicorn's records go through the root logger's JSON lines.
        log_config=None if log_json else uvicorn.config.LOGGING_CONFIG,
    )


class Stopping(Exception):
    """SIGTERM or SIGINT arrived: the process ends, cleanly."""


@contextmanager
def stopped_by_signals() -> Iterator[None]:
    """Turns SIGTERM and SIGINT into a clean stop. uvicorn finishes the requests in hand,
    then raises the signal again for the handler that was there before it: this one, which
    unwinds (so the lease is given up and the database closed) instead of dying at once.
    What Procfile platforms send on a deploy is SIGTERM; the exit code is then 0."""

    def stop(signum: int, _frame: object) -> None:
        raise Stopping(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except Stopping as stopping:
        print(f"handoff: stopped by {stopping}", file=sys.stderr, flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def slack_deliverer(settings: Settings, engine: Engine, config: HandoffConfig) -> Deliverer | None:
    """Gets the outbox sender for Slack, or None (saying what is missing) without Slack."""
    missing = settings.missing_for_slack()
    if missing:
        print(SLACK_MISSING.format(names=", ".join(missing)), file=sys.stderr, flush=True)
        return None
    assert settings.slack_bot_token is not None
    assert config.team is not None
    client = web_client(
        token=settings.slack_bot_token.get_secret_value(), api_url=settings.slack_api_url
    )
    return Deliverer(
        engine=engine,
        surface=SlackSurface(client),
        team=config.team,
        reasons=config.reject_reasons,
        clock=lambda: datetime.now(UTC),
        sla=config.sla,
    )


def slack_at_start(settings: Settings, config: HandoffConfig, who: str) -> HandoffConfig:
    """Checks Slack once at start (the token, each channel: exists, not archived, the app
    in it or joined, history readable) and says each problem in one line with what to do;
    starts anyway. Gets the config with channel names resolved to ids."""
    if settings.missing_for_slack():
        return config
    assert settings.slack_bot_token is not None
    client = web_client(
        token=settings.slack_bot_token.get_secret_value(), api_url=settings.slack_api_url
    )
    try:
        check = check_slack(client, config)
    except Exception as exc:
        print(f"{who}: could not check Slack at {settings.slack_api_url}: {exc!r}", flush=True)
        return config
    for problem in check.problems:
        print(f"{who}: Slack: {problem}", flush=True)
    if not check.problems:
        print(f"{who}: Slack checked: {len(check.found) - 1} channel(s) ready", flush=True)
    return resolved(config, check)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None and value.get_secret_value() else None


def start_worker(
    settings: Settings, engine: Engine, config: HandoffConfig, deliverer: Deliverer | None
) -> Worker:
    """Starts competing for the single-worker lease (sweep and sender while held)."""
    assert config.team is not None
    worker = Worker(
        lease_ttl=timedelta(seconds=settings.handoff_lease_ttl_s),
        engine=engine,
        team=config.team,
        sla=config.sla,
        reasons=config.reject_reasons,
        deliverer=deliverer,
        digest=config.digest,
        report_channel=report_channel(config),
        crm=crm_deliverer(settings, engine, config),
    )
    worker.start()
    return worker


def _start_background(
    settings: Settings, api: FastAPI, engine: Engine, config: HandoffConfig, *, web_only: bool
) -> list[Callable[[], None]]:
    """Mounts the Bolt app and (unless web-only) the worker; gets what to stop at the end."""
    deliverer = slack_deliverer(settings, engine, config)
    stops: list[Callable[[], None]] = []
    wake: Callable[[], None] = lambda: None  # noqa: E731
    if not web_only:
        worker = start_worker(settings, engine, config, deliverer)
        stops.append(worker.stop)
        wake = worker.wake
        api.state.wake_sender = worker.wake  # intake wakes it too: cards go out at once
    if deliverer is None:
        return stops
    assert config.team is not None
    surface = deliverer.surface
    assert isinstance(surface, SlackSurface)
    deps = Deps(
        engine=engine,
        team=config.team,
        reasons=config.reject_reasons,
        clock=lambda: datetime.now(UTC),
        wake_sender=wake,
        sla=config.sla,
    )
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    bolt = create_app(client=surface.client, signing_secret=secret, deps=deps)
    if settings.slack_app_token is not None:
        handler = start_socket_mode(bolt, settings.slack_app_token.get_secret_value())
        stops.append(handler.close)
    else:
        mount(api, bolt, signing_secret=secret)
    return stops


def run_worker(settings: Settings, *, config: HandoffConfig) -> int:
    """Runs `handoff worker` until SIGINT or SIGTERM."""
    config = slack_at_start(settings, config, "handoff worker")
    engine, _ = open_database(settings.database_url)
    assert config.team is not None
    sync_team(engine=engine, team=config.team)
    worker = start_worker(settings, engine, config, slack_deliverer(settings, engine, config))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(
        "handoff worker: running; exactly one worker sweeps and sends at a time "
        "(this one waits while another holds the lease)",
        flush=True,
    )
    while not stop.wait(1):
        pass
    worker.stop()
    engine.dispose()
    return 0
