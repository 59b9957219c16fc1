"""`handoff demo`: the scripted scenario end to end, and the sandbox page's own API as the
page uses it (each click becomes a signed request to the real app)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from bot.cli.demo_leads import read_own_leads
from bot.config import load_config
from bot.resources import example_path
from bot.sandbox.script import buttons, card_state, cards
from bot.sandbox.stack import DEMO_START, DemoStack
from tests.helpers import REPO, wait_for


def test_scripted_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "handoff"
    done = subprocess.run(
        [script, "demo", "--scripted"],
        cwd=tmp_path,  # any folder: the demo finds its examples next to the code
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for expected in (
        "card(s) posted to #sales-leads",
        "clicked Accept; the card now says: ✅ Accepted by",
        "is told, privately: ",
        "'s: only they or their manager can decide.",
        "Submitted without a reason: Choose why this lead is not sales-ready.",
        "'Other' without a note: Add a note",
        "The card now says: ❌ Rejected by",
        "Reminder DM to @",
        "Escalation DM to @Dana: 🚨 SLA breach",
        "clicked Reassign; the DM now says: ",
        "in the card's thread: 🔁 ",
        "from the list; the DM now says: ",
        "Still one card in #sales-leads, redrawn: 🔁 3rd owner · first handed off",
        "Your pending leads",
        "| Lead hand-off digest, 2026-W48",
        "+ chart: Funnel and SLA compliance by rep",
        "Done in",
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    # The lead that breached twice makes compliance fall below 100%, and the figures add up.
    compliance = re.search(r"SLA compliance: (\d+)% \((\d+) within of (\d+) due\)", out)
    assert compliance is not None
    assert int(compliance.group(1)) < 100
    total = re.search(
        r"Hand-offs: (\d+) = (\d+) accepted \+ (\d+) rejected \+ (\d+) pending \+ (\d+) moved", out
    )
    assert total is not None
    assert int(total.group(1)) == sum(int(total.group(i)) for i in range(2, 6))
    per_rep = re.findall(r"• @\w+: (\d+) hand-offs", out)
    assert sum(int(n) for n in per_rep) == int(total.group(1))


def page(demo_stack: DemoStack, path: str, **body: Any) -> dict[str, Any]:
    url = demo_stack.page_url + path.lstrip("/")
    response = httpx.post(url, json=body, timeout=10) if body else httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_page_and_its_state(demo_stack: DemoStack) -> None:
    html = httpx.get(demo_stack.page_url, timeout=10)
    assert html.status_code == 200
    assert "Viewing as" in html.text
    state = page(demo_stack, "/_sandbox/state?as=U0DANA")
    assert [c["name"] for c in state["conversations"]] == [
        "#sales-leads",
        "#sales-leadership",
        "Lead Handoff (DM)",
    ]
    assert {p["role"] for p in state["people"]} == {"rep", "manager"}
    assert state["clock"] == "Mon 23 Nov 2026, 09:30 (America/New_York)"
    bad = httpx.get(demo_stack.page_url + "_sandbox/state?as=U0NOBODY", timeout=10)
    assert bad.status_code == 400
    assert "no one called U0NOBODY" in bad.json()["error"]


def test_clicks_on_the_page_reach_the_app_signed(demo_stack: DemoStack) -> None:
    handoff_id, card = next(iter(cards(demo_stack).items()))
    owner = card["blocks"][3]["text"]["text"].split("<@")[1].split(">")[0]
    accept = buttons(card)["handoff_accept"]
    page(
        demo_stack,
        "/_sandbox/click",
        **{"as": owner, "conversation": "C0SALESLEADS", "ts": card["ts"], **accept},
    )
    wait_for(lambda: (demo_stack.deliver(), card_state(demo_stack, handoff_id))[1])
    assert "Accepted by" in card_state(demo_stack, handoff_id)
    # Beside the card, the HubSpot stand-in's contact: accepted, with the note.
    contact = card["blocks"][-1]["elements"][0]["text"].split("Lead ")[1].split(" ")[0]

    def record() -> dict[str, Any] | None:
        crm = page(demo_stack, f"/_sandbox/state?as={owner}")["crm"]
        found = next(r for r in crm if r["id"] == contact)
        return found if found["status"] == "IN_PROGRESS" else None

    shown = wait_for(record)
    assert shown["owner"] is not None
    assert any("Accepted in Slack by" in note for note in shown["notes"])

    other_id, other = list(cards(demo_stack).items())[1]
    rep = other["blocks"][3]["text"]["text"].split("<@")[1].split(">")[0]
    reject = buttons(other)["handoff_reject"]
    page(
        demo_stack,
        "/_sandbox/click",
        **{"as": rep, "conversation": "C0SALESLEADS", "ts": other["ts"], **reject},
    )
    modal = wait_for(lambda: page(demo_stack, f"/_sandbox/state?as={rep}")["modal"])
    assert modal["title"]["text"] == "Reject lead"
    refused = page(demo_stack, "/_sandbox/submit", **{"as": rep, "values": {}})
    assert refused["errors"] == {"reject_reason_block": "Choose why this lead is not sales-ready."}
    values = {
        "reject_reason_block": {
            "reject_reason": {"type": "static_select", "selected_option": {"value": "not_icp"}}
        }
    }
    assert page(demo_stack, "/_sandbox/submit", **{"as": rep, "values": values}) == {"errors": {}}
    assert page(demo_stack, f"/_sandbox/state?as={rep}")["modal"] is None
    wait_for(lambda: (demo_stack.deliver(), card_state(demo_stack, other_id))[1])
    assert "Rejected by" in card_state(demo_stack, other_id)


def test_slash_command_home_and_clock_from_the_page(demo_stack: DemoStack) -> None:
    answer = page(
        demo_stack,
        "/_sandbox/command",
        **{"as": "U0ALICE", "text": "/handoff queue", "conversation": "C0SALESLEADS"},
    )
    assert "Your pending leads" in answer["text"]
    mine = page(demo_stack, "/_sandbox/state?as=U0ALICE")["conversations"][0]["messages"]
    assert mine[-1]["is_ephemeral"]
    assert mine[-1]["text"] == answer["text"]
    bruno = page(demo_stack, "/_sandbox/state?as=U0BRUNO")["conversations"][0]["messages"]
    assert not any(m.get("is_ephemeral") for m in bruno)  # only Alice sees her answer
    page(demo_stack, "/_sandbox/home", **{"as": "U0DANA"})
    home = wait_for(lambda: page(demo_stack, "/_sandbox/state?as=U0DANA")["home"])
    assert "Your team this week" in str(home["blocks"])
    moved = page(demo_stack, "/_sandbox/clock", minutes=20)
    assert moved["message"].startswith("now Mon 2026-11-23 14:5")
    assert "queued, sent at Slack's pace" in moved["message"]

    def dana(index: int) -> list[dict[str, Any]]:
        state = page(demo_stack, "/_sandbox/state?as=U0DANA")
        return list(state["conversations"][index]["messages"])

    # the 15-minute lead went unanswered: the worker sends the breach DM
    wait_for(lambda: any("SLA breach" in m["text"] for m in dana(2)))
    assert page(demo_stack, "/_sandbox/clock", until="digest")["message"].startswith(
        "now Mon 2026-11-30 14:01"
    )
    wait_for(lambda: any("Lead hand-off digest" in str(m.get("blocks")) for m in dana(0)), 60)
    too_far = httpx.post(demo_stack.page_url + "_sandbox/clock", json={"minutes": 0}, timeout=10)
    assert too_far.status_code == 400


def test_your_own_config_runs_the_sandbox_with_its_rules_reps_and_channels() -> None:
    """`handoff demo --config handoff.example.toml`: that file's rules, reps and channels
    (given by name there), fed the example leads, on a temporary database."""
    with example_path("leads.csv") as leads, example_path("activities.csv") as acts:
        own = read_own_leads(leads, acts, id_column="external_id", now=DEMO_START)[0]
    running = DemoStack(own=REPO / "handoff.example.toml").start()
    try:
        assert (
            running.config.scoring.version
            == load_config(REPO / "handoff.example.toml").scoring.version
        )
        people = {p.id: p.name for p in running.people}
        assert people["U0REPALICE"] == "Alice Moreno"  # the file's reps, by name
        channel = running.config.team.channel
        assert running.channel_names[channel] == "sales-leads"  # "#sales-leads" got an id
        answers = [running.post_lead(lead) for lead in own]
        maria = answers[0]
        assert (maria["score"]["total"], maria["score"]["tier"]) == (100, "high_priority")
        texts = wait_for(
            lambda: (
                running.deliver(),
                [m["text"] for m in running.sandbox.channel(channel) if "metadata" in m],
            )[1]
        )
        assert "High priority lead: Maria Garcia (Northwind Analytics), score 100" in texts
        assert all(m["name"] for m in page(running, "/_sandbox/state?as=U0REPALICE")["people"])
    finally:
        running.stop()


def test_handoff_sandbox_serves_the_page_for_your_team(tmp_path: Path) -> None:
    """`handoff sandbox --config F`: the local Slack and its page, with the config's people
    and channels; the clock stays real (it moves only in `handoff demo`)."""
    script = Path(sys.executable).parent / "handoff"
    config = str(REPO / "handoff.example.toml")
    process = subprocess.Popen(
        [script, "sandbox", "--port", "0", "--config", config],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        api = re.search(r"SLACK_API_URL=(\S+)", first)
        assert api, first
        assert "Its page:" in process.stdout.readline()
        base = api.group(1).removesuffix("api/")
        state = httpx.get(f"{base}_sandbox/state?as=U0REPALICE", timeout=10).json()
        assert {p["name"] for p in state["people"]} >= {"Alice Moreno", "Ben Okafor"}
        assert "#sales-leads" in [c["name"] for c in state["conversations"]]
        clock = httpx.post(f"{base}_sandbox/clock", json={"minutes": 20}, timeout=10)
        assert clock.status_code == 400
        assert "moves only in `handoff demo`" in clock.json()["error"]
        listed = httpx.post(
            api.group(1) + "conversations.list",
            headers={"Authorization": "Bearer xoxb-sandbox"},
            timeout=10,
        ).json()
        assert "sales-leads" in [c["name"] for c in listed["channels"]]  # serve resolves it
    finally:
        process.terminate()
        process.communicate(timeout=10)  # reads the rest and closes the pipe
