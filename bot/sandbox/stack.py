"""The whole hand-off on one machine, for `handoff demo`: the real HTTP app (intake API and
/slack/events), the worker's jobs and the outbox sender, a temporary SQLite database, the
local Slack sandbox with its web page, and a HubSpot stand-in whose records the page shows,
all on a clock that can be fast-forwarded so reminders, escalations and the digest can be
seen without waiting for them.
"""

from __future__ import annotations

import tempfile
import threading
import time as clock_time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlmodel import Session

from bot.config import Config, TeamConfig, load_config, report_channel
from bot.crm.deliver import CrmDeliverer
from bot.crm.hubspot import HubSpot
from bot.handoffs.team import sync_team
from bot.messaging.pacer import Pacer
from bot.messaging.sender import Deliverer, DeliveryReport
from bot.resources import example_file
from bot.runtime.api import AppState, create_api
from bot.runtime.database import open_database
from bot.runtime.worker import Worker
from bot.sandbox.crm_standin import CrmStandIn
from bot.sandbox.own_setup import own_config, team_people
from bot.sandbox.samples import SampleLead, built_in_leads, olist_folder, olist_leads
from bot.sandbox.slack_api import SlackSandbox
from bot.sandbox.standin_hubspot import HUBSPOT_TOKEN
from bot.sandbox.web import SandboxWeb
from bot.slack.app import create_app, mount
from bot.slack.deps import Deps
from bot.slack.simulator import Simulator
from bot.slack.surface import SlackSurface, web_client
from scoring import Activity, ScoringRules, compiled
from store.dead_letters import health

API_TOKEN = "demo-intake-token-for-the-local-sandbox-only"
SIGNING_SECRET = "demo-signing-secret"
# Monday 2026-11-23, 09:30 in New York: the business calendar is open.
DEMO_START = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
CHANNEL_NAMES = {"C0SALESLEADS": "sales-leads", "C0SALESMGMT": "sales-leadership"}
FIRST_NAMES = (
    "Ana", "Bruno", "Camila", "Diego", "Elisa", "Fábio",
    "Gabriela", "Hugo", "Isabela", "João", "Larissa", "Marcelo",
)  # fmt: skip
LAST_NAMES = ("Souza", "Lima", "Ferreira", "Almeida", "Rocha", "Martins", "Barbosa", "Pinto")
# Made-up shops, like the sellers Olist's funnel brought in: a name and a trade.
SHOP_NAMES = (
    "Aurora", "Bela Vista", "Cajú", "Do Vale", "Estrela", "Flor de Lis",
    "Girassol", "Horizonte", "Ipê", "Jardim", "Lua Nova", "Maré",
)  # fmt: skip
SHOP_TRADES = (
    "Home Decor", "Pet Supplies", "Auto Parts", "Health & Beauty",
    "Sports", "Toys", "Garden", "Bed & Bath",
)  # fmt: skip


class DemoClock:
    """Time as the demo's app sees it: a fixed Monday morning, running at the speed of the
    wall clock, plus however far it was fast-forwarded."""

    def __init__(self, start: datetime = DEMO_START) -> None:
        self.start, self.began, self.skipped = start, clock_time.monotonic(), timedelta(0)
        self.lock = threading.Lock()

    def now(self) -> datetime:
        """Gets the demo's current time."""
        with self.lock:
            return (
                self.start + timedelta(seconds=clock_time.monotonic() - self.began) + self.skipped
            )

    def advance(self, by: timedelta) -> datetime:
        """Fast-forwards; gets the new time."""
        with self.lock:
            self.skipped += by
        return self.now()


def demo_config(folder: Path, hubspot_url: str) -> Config:
    """Writes the demo's config (the Olist rules, the sample team, HubSpot at the local
    stand-in) and loads it."""
    path = folder / "handoff.toml"
    parts = [
        example_file(name).read_text(encoding="utf-8") for name in ("olist.toml", "demo-team.toml")
    ]
    parts.append(f'[crm.hubspot]\napi_url = "{hubspot_url}"\n')
    path.write_text("\n".join(parts))
    return load_config(path)


def distinct_pair(i: int, firsts: tuple[str, ...], seconds: tuple[str, ...]) -> tuple[str, str]:
    """Gets the i-th of the len(firsts) × len(seconds) pairs, each once before any repeats
    (so no two of the demo's leads share a name, or a company)."""
    row, column = divmod(i, len(firsts))
    return firsts[column], seconds[(column + row) % len(seconds)]


def sample_leads(count: int, rules: ScoringRules) -> Iterator[SampleLead]:
    """Gets leads for the demo: Olist's MQLs in date order (with made-up names) where the
    data is present, else the built-in samples. Most MQLs of a real funnel stay with
    marketing; to give the reps something to do, only one in four of those is kept."""
    folder = olist_folder()
    pool = olist_leads(folder) if folder else list(built_in_leads(count * 4, start=DEMO_START))
    engine = compiled(rules)
    kept, skipped = [], 0
    for lead in pool:
        activities = [Activity(a["kind"], lead.at) for a in lead.body["activities"]]
        if not engine.score(lead.body, activities, lead.at).routable:
            skipped += 1
            if skipped % 4:
                continue
        kept.append(lead)
        if len(kept) == count:
            break
    for i, lead in enumerate(kept):
        body = dict(lead.body)
        first, last = distinct_pair(i, FIRST_NAMES, LAST_NAMES)
        body["first_name"], body["last_name"] = first, last
        shop, trade = distinct_pair(i, SHOP_NAMES, SHOP_TRADES)
        body["company"] = f"{shop} {trade}"
        body["activities"] = []  # re-stamped when they arrive: the demo's time, not 2017's
        yield SampleLead(lead.at, body)


@dataclass
class DemoStack:
    """Everything `handoff demo` runs; `start()` it, then `stop()`."""

    sandbox_port: int = 0
    clock: DemoClock = field(default_factory=DemoClock)
    folder: tempfile.TemporaryDirectory[str] = field(default_factory=tempfile.TemporaryDirectory)
    own: Path | None = None  # your config (`handoff demo --config`), else the demo's

    def start(self) -> DemoStack:
        """Starts the sandbox, the HubSpot stand-in, the app and the worker; gets self."""
        self.crm = CrmStandIn().start()
        if self.own is None:
            self.config = demo_config(Path(self.folder.name), self.crm.url)
            self.channel_names = dict(CHANNEL_NAMES)
        else:
            self.config, self.channel_names = own_config(
                self.own, Path(self.folder.name), self.crm.url
            )
        settings = self.config.settings
        team = self.config.team
        self.engine, _ = open_database(f"sqlite:///{Path(self.folder.name) / 'demo.db'}")
        sync_team(engine=self.engine, team=team)
        client = self._start_sandbox(team)
        # Paced as for Slack (about one post a second per channel, after a burst of 3):
        # the sandbox refuses faster posts with 429 and Retry-After, as Slack does.
        self.deliverer = Deliverer(
            engine=self.engine,
            surface=SlackSurface(client),
            team=team,
            reasons=settings.reject_reasons,
            clock=self.clock.now,
            sla=settings.sla,
            pacer=Pacer(),
        )
        self.worker = self._worker(team)
        api = create_api(
            AppState(
                engine=self.engine,
                rules=self.config.scoring,
                team=team,
                api_token=API_TOKEN,
                clock=self.clock.now,
                sla=settings.sla,
            )
        )
        deps = Deps(
            engine=self.engine,
            team=team,
            reasons=settings.reject_reasons,
            clock=self.clock.now,
            sla=settings.sla,
            wake_sender=self.worker.wake,
        )
        bolt = create_app(client=client, signing_secret=SIGNING_SECRET, deps=deps)
        mount(api, bolt, signing_secret=SIGNING_SECRET)
        api.state.wake_sender = self.worker.wake
        self.app_url = self._serve(api)
        self._connect_page(team)
        self.worker.start()
        return self

    def _worker(self, team: TeamConfig) -> Worker:
        """Gets the worker: the sweep, the Slack sender and the CRM sender (to the stand-in),
        on the demo's clock."""
        settings = self.config.settings
        return Worker(
            engine=self.engine,
            team=team,
            sla=settings.sla,
            reasons=settings.reject_reasons,
            deliverer=self.deliverer,
            clock=self.clock.now,
            digest=settings.digest,
            report_channel=report_channel(settings),
            crm=CrmDeliverer(
                engine=self.engine,
                config=settings,
                rules=self.config.scoring,
                hubspot=HubSpot(api_url=self.crm.url, token=HUBSPOT_TOKEN),
                salesforce=None,
                clock=self.clock.now,
            ),
        )

    def _connect_page(self, team: TeamConfig) -> None:
        """Connects the sandbox's page to the app: its clicks become signed requests."""
        self.http = httpx.Client(timeout=10)
        self.simulator = Simulator(
            events_url=f"{self.app_url}/slack/events",
            signing_secret=SIGNING_SECRET,
            client=self.http,
        )
        self.sandbox.web = SandboxWeb(
            sandbox=self.sandbox,
            simulator=self.simulator,
            people=self.people,
            channel_names=self.channel_names,
            clock=self.clock.now,
            on_fast_forward=self.fast_forward,
            timezone=team.timezone,
            crm=self.crm,
        )

    def _start_sandbox(self, team: TeamConfig) -> Any:
        """Starts the local Slack on the demo's clock, with the team as its users; gets a
        Web API client pointed at it."""
        self.sandbox = SlackSandbox(port=self.sandbox_port).start()
        self.sandbox.state.now = lambda: self.clock.now().timestamp()
        self.people = team_people(team)
        for person in self.people:
            self.sandbox.add_user(person.id, person.name)
        for cid, name in self.channel_names.items():
            self.sandbox.add_channel(cid, name)
        for number, rep in enumerate(team.reps):  # HubSpot's users, who own its contacts
            first, _, last = rep.name.partition(" ")
            owner = rep.hubspot_owner_id or str(7101 + number)  # found by email otherwise
            email = rep.email or f"{first.lower()}@demo.test"
            self.crm.add_owner(owner, email, first, last)
        return web_client(token="xoxb-sandbox", api_url=self.sandbox.url)

    def _serve(self, api: Any) -> str:
        config = uvicorn.Config(api, host="127.0.0.1", port=0, log_level="warning")
        self.server = uvicorn.Server(config)
        self.server_thread = threading.Thread(target=self.server.run, daemon=True)
        self.server_thread.start()
        deadline = clock_time.monotonic() + 20
        while not self.server.started:
            if clock_time.monotonic() > deadline or not self.server_thread.is_alive():
                raise RuntimeError("the demo's HTTP app did not start")
            clock_time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    @property
    def page_url(self) -> str:
        """Gets the sandbox's web page address."""
        return self.sandbox.url.removesuffix("api/")

    def post_lead(self, lead: SampleLead) -> dict[str, Any]:
        """Sends a lead to POST /api/leads, as a HubSpot workflow would for a new contact
        (the contact is made in the HubSpot stand-in first); gets the answer."""
        now = self.clock.now()
        body = dict(lead.body)
        contact = str(50_001 + len(self.crm.contacts))
        body["activities"] = body.get("activities") or [  # yours, else a form fill now
            {"id": f"{contact}-form", "kind": "landing_page_form", "occurred_at": now.isoformat()}
        ]
        body |= {
            "source_system": "hubspot",
            "external_id": contact,
            "sample_id": body["external_id"],
        }
        self.crm.add_contact(
            contact,
            firstname=body.get("first_name"),
            lastname=body.get("last_name"),
            company=body.get("company"),
            country=body.get("country"),
            hs_analytics_source=body.get("source"),
        )
        response = self.http.post(
            f"{self.app_url}/api/leads",
            json=body,
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        )
        response.raise_for_status()
        return dict(response.json())

    def fast_forward(self, by: timedelta) -> str:
        """Moves the clock on, then runs the sweep (reminders, escalations, the digest)
        and wakes the worker to send what it queued, at Slack's pace; says what happened."""
        now = self.clock.advance(by)
        with Session(self.engine) as session:
            before = health(session=session, now=now)["pending"]
        self.worker.run_sweep()
        with Session(self.engine) as session:
            queued = health(session=session, now=now)["pending"] - before
        self.worker.wake()
        return (
            f"now {now:%a %Y-%m-%d %H:%M} UTC; {max(queued, 0)} message(s) and CRM write(s)"
            " queued, sent at Slack's pace (about one a second per channel)"
        )

    def deliver(self) -> DeliveryReport:
        """Sends everything due in the outbox now (a few passes: a card's update waits
        for its post, and a channel Slack held with a 429 waits its Retry-After)."""
        total = DeliveryReport()
        deadline = clock_time.monotonic() + 15
        for _ in range(30):
            report = self.deliverer.deliver_due()
            total.sent += report.sent
            if report.held and clock_time.monotonic() < deadline:
                clock_time.sleep(0.25)
            elif not report.sent:
                break
        return total

    def stop(self) -> None:
        """Stops everything and removes the temporary database."""
        self.worker.stop()
        self.server.should_exit = True
        self.server_thread.join(timeout=10)
        self.http.close()
        self.sandbox.stop()
        self.crm.stop()
        self.engine.dispose()
        self.folder.cleanup()
