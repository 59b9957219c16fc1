"""`handoff demo`: the scripted scenario end to end, and the sandbox page's own API as the
page uses it (each click becomes a signed request to the real app)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.demo_script import buttons, card_state, cards
from bot.demo_stack import DemoStack, sample_leads
from tests.helpers import wait_for


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
        "is told, privately: This lead is @",
        "Submitted without a reason: Choose why this lead is not sales-ready.",
        "'Other' without a note: Add a note",
        "The card now says: ❌ Rejected by",
        "Reminder DM to @",
        "Escalation DM to @Dana: 🚨 SLA breach",
        "clicked Reassign; the old card says: ↩ Reassigned from",
        "Your pending leads",
        "| Lead hand-off digest, 2026-W48",
        "+ chart: Funnel and SLA compliance by rep",
        "Done in",
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"


@pytest.fixture
def stack() -> Iterator[DemoStack]:
    running = DemoStack().start()
    try:
        for lead in sample_leads(6, running.config.scoring):
            running.post_lead(lead)
        wait_for(lambda: (running.deliver(), len(cards(running)) >= 4)[1])
        yield running
    finally:
        running.stop()


def page(stack: DemoStack, path: str, **body: Any) -> dict[str, Any]:
    url = stack.page_url + path.lstrip("/")
    response = httpx.post(url, json=body, timeout=10) if body else httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_page_and_its_state(stack: DemoStack) -> None:
    html = httpx.get(stack.page_url, timeout=10)
    assert html.status_code == 200
    assert "Viewing as" in html.text
    state = page(stack, "/_sandbox/state?as=U0DANA")
    assert [c["name"] for c in state["conversations"]] == [
        "#sales-leads",
        "#sales-leadership",
        "Lead Handoff (DM)",
    ]
    assert {p["role"] for p in state["people"]} == {"rep", "manager"}
    assert state["clock"] == "Mon 23 Nov 2026, 09:30 (America/New_York)"
    bad = httpx.get(stack.page_url + "_sandbox/state?as=U0NOBODY", timeout=10)
    assert bad.status_code == 400
    assert "no one called U0NOBODY" in bad.json()["error"]


def test_clicks_on_the_page_reach_the_app_signed(stack: DemoStack) -> None:
    handoff_id, card = next(iter(cards(stack).items()))
    owner = card["blocks"][3]["text"]["text"].split("<@")[1].split(">")[0]
    accept = buttons(card)["handoff_accept"]
    page(
        stack,
        "/_sandbox/click",
        **{"as": owner, "conversation": "C0SALESLEADS", "ts": card["ts"], **accept},
    )
    wait_for(lambda: (stack.deliver(), card_state(stack, handoff_id))[1])
    assert "Accepted by" in card_state(stack, handoff_id)

    other_id, other = list(cards(stack).items())[1]
    rep = other["blocks"][3]["text"]["text"].split("<@")[1].split(">")[0]
    reject = buttons(other)["handoff_reject"]
    page(
        stack,
        "/_sandbox/click",
        **{"as": rep, "conversation": "C0SALESLEADS", "ts": other["ts"], **reject},
    )
    modal = wait_for(lambda: page(stack, f"/_sandbox/state?as={rep}")["modal"])
    assert modal["title"]["text"] == "Reject lead"
    refused = page(stack, "/_sandbox/submit", **{"as": rep, "values": {}})
    assert refused["errors"] == {"reject_reason_block": "Choose why this lead is not sales-ready."}
    values = {
        "reject_reason_block": {
            "reject_reason": {"type": "static_select", "selected_option": {"value": "not_icp"}}
        }
    }
    assert page(stack, "/_sandbox/submit", **{"as": rep, "values": values}) == {"errors": {}}
    assert page(stack, f"/_sandbox/state?as={rep}")["modal"] is None
    wait_for(lambda: (stack.deliver(), card_state(stack, other_id))[1])
    assert "Rejected by" in card_state(stack, other_id)


def test_slash_command_home_and_clock_from_the_page(stack: DemoStack) -> None:
    answer = page(
        stack,
        "/_sandbox/command",
        **{"as": "U0ALICE", "text": "/handoff queue", "conversation": "C0SALESLEADS"},
    )
    assert "Your pending leads" in answer["text"]
    mine = page(stack, "/_sandbox/state?as=U0ALICE")["conversations"][0]["messages"]
    assert mine[-1]["is_ephemeral"]
    assert mine[-1]["text"] == answer["text"]
    bruno = page(stack, "/_sandbox/state?as=U0BRUNO")["conversations"][0]["messages"]
    assert not any(m.get("is_ephemeral") for m in bruno)  # only Alice sees her answer
    page(stack, "/_sandbox/home", **{"as": "U0DANA"})
    home = wait_for(lambda: page(stack, "/_sandbox/state?as=U0DANA")["home"])
    assert "Your team this week" in str(home["blocks"])
    moved = page(stack, "/_sandbox/clock", minutes=20)
    assert moved["message"].startswith("now Mon 2026-11-23 14:5")
    dana = page(stack, "/_sandbox/state?as=U0DANA")["conversations"][2]["messages"]
    assert any("SLA breach" in m["text"] for m in dana)  # the 15-minute lead went unanswered
    assert page(stack, "/_sandbox/clock", until="digest")["message"].startswith(
        "now Mon 2026-11-30 14:01"
    )
    channel = page(stack, "/_sandbox/state?as=U0DANA")["conversations"][0]["messages"]
    assert any("Lead hand-off digest" in str(m.get("blocks")) for m in channel)
    too_far = httpx.post(stack.page_url + "_sandbox/clock", json={"minutes": 0}, timeout=10)
    assert too_far.status_code == 400
