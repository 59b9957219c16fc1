"""`handoff demo`: the whole hand-off on this machine, in a Slack sandbox you can click.

`run_live` starts the app, the sandbox and its web page, and feeds leads in until
stopped; `run_sandbox` runs the local Slack alone.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import webbrowser
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bot.config import load_config
from bot.sandbox.own_setup import channel_id, team_people
from bot.sandbox.samples import SampleLead
from bot.sandbox.slack_api import SlackSandbox
from bot.sandbox.stack import API_TOKEN, DemoStack, sample_leads
from bot.sandbox.web import BadRequest, SandboxWeb
from bot.slack.simulator import Simulator

FIRST_BATCH = 6
DEFAULT_APP_URL = "http://127.0.0.1:8080"  # `handoff serve`'s own default
SANDBOX_SECRET = "sandbox-secret"  # what the README's sandbox set-up gives serve


LIVE = """\
The hand-off is running on this machine, with a local Slack you can click:

    {page}

  * #{channel} gets a card for every lead worth a rep's time; Accept or Reject it
    (a reject asks why). "Viewing as" switches between the reps and their manager.
  * The clock buttons fast-forward time: a reminder before a deadline, the manager's
    DM after it, and on the digest's day the weekly digest.
  * Type /handoff queue, /handoff stats or /handoff ooo on in the box at the bottom.

With {setup}, a temporary SQLite database and the worker.
The HTTP app listens at {app}; add your own leads with POST /api/leads
and the header

    Authorization: Bearer {token}

The first {first} leads arrive now, then one every {every:g} s ({count} in all).
Ctrl-C stops everything.
"""


def can_open_browser() -> bool:
    """Tells whether a browser could open here (not over SSH, not in CI)."""
    if os.environ.get("CI"):
        return False
    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def run_live(
    *,
    port: int,
    leads: int,
    every: float,
    open_browser: bool,
    own: Path | None = None,
    own_leads: list[SampleLead] | None = None,
) -> int:
    """Runs the clickable demo until interrupted (Ctrl-C, or SIGTERM as a service manager
    sends: both stop it cleanly and remove its temporary database). `own`: your config
    instead of the demo's; `own_leads`: your leads instead of the samples."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # raises KeyboardInterrupt
    try:
        stack = DemoStack(sandbox_port=port, own=own).start()
    except OSError as exc:
        print(
            f"handoff demo: cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}): "
            "another program (or another demo) has it. Run `handoff demo --port 0` to take "
            "any free port, or choose one with --port N.",
            file=sys.stderr,
        )
        return 2
    stop = threading.Event()
    pool = own_leads if own_leads is not None else list(sample_leads(leads, stack.config.scoring))
    count = min(leads, len(pool)) if own_leads is None else len(pool)
    feeder = threading.Thread(target=_feed, args=(stack, pool, every, stop), daemon=True)
    channel = stack.channel_names.get(stack.config.team.channel, stack.config.team.channel)
    print(
        LIVE.format(
            page=stack.page_url,
            app=stack.app_url,
            token=API_TOKEN,
            every=every,
            count=count,
            first=min(FIRST_BATCH, count),
            channel=channel,
            setup=f"your config ({own})" if own else "the demo's rules and team",
        ),
        flush=True,
    )
    feeder.start()
    if open_browser:
        webbrowser.open(stack.page_url)
    try:
        while feeder.is_alive() or not stop.is_set():
            stop.wait(0.5)
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
    finally:
        stop.set()
        stack.stop()
    return 0


def _feed(stack: DemoStack, pool: list[SampleLead], every: float, stop: threading.Event) -> None:
    """Sends the leads in: the first six at once, then one every `every` seconds."""
    for i, lead in enumerate(pool):
        if i >= FIRST_BATCH and stop.wait(every):
            return
        answer = stack.post_lead(lead)
        handoff = answer.get("handoff") or {}
        body = lead.body
        who = " ".join(str(body[k]) for k in ("first_name", "last_name") if body.get(k))
        print(
            f"lead {i + 1}/{len(pool)}: {who or body.get('external_id')} "
            f"({body.get('source') or 'no source'}), score {answer['score']['total']:.0f}, "
            f"{answer['score']['tier']}" + (f" -> {handoff['rep']}" if handoff.get("rep") else ""),
            flush=True,
        )


def run_sandbox(
    *, host: str, port: int, config: Path | None = None, app_url: str = DEFAULT_APP_URL
) -> int:
    """Runs the local Slack until interrupted; with `config`, its page too: your team's
    channels and people, their clicks sent, signed, to the app at `app_url`."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sandbox = SlackSandbox(host=host, port=port)
    print(f"Slack sandbox listening: SLACK_API_URL={sandbox.url} (Ctrl-C to stop)", flush=True)
    if config is not None:
        secret = os.environ.get("SLACK_SIGNING_SECRET") or SANDBOX_SECRET
        team = load_config(config).team
        channels: dict[str, str] = {}
        for given in (team.channel, team.digest_channel):
            if given:
                channel_id(given, channels)
        for cid, name in channels.items():
            sandbox.add_channel(cid, name)
        people = team_people(team)
        for person in people:
            sandbox.add_user(person.id, person.name)
        http = httpx.Client(timeout=10)
        sandbox.web = SandboxWeb(
            sandbox=sandbox,
            simulator=Simulator(
                events_url=f"{app_url.rstrip('/')}/slack/events", signing_secret=secret, client=http
            ),
            people=people,
            channel_names=channels,
            clock=lambda: datetime.now(UTC),
            on_fast_forward=_no_clock,
            timezone=team.timezone,
        )
        print(
            f"Its page: {sandbox.url.removesuffix('api/')} (clicks go to {app_url}/slack/events, "
            "signed with $SLACK_SIGNING_SECRET, else sandbox-secret)",
            flush=True,
        )
    try:
        sandbox.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.server.server_close()
    return 0


def _no_clock(by: timedelta) -> str:
    raise BadRequest("the clock moves only in `handoff demo`: here the app runs on the real time")
