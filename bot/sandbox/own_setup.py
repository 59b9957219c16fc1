"""`handoff demo --config handoff.toml`: the clickable sandbox with your rules, your team
and your channels, on a temporary database (bot/cli/demo_leads.py reads your leads).

Your config is copied with three changes, so that nothing leaves this machine: each
channel given by name gets a sandbox id (and keeps its name on the page), HubSpot points at
the local stand-in (Salesforce and outgoing webhooks are left out), and the database is a
temporary one.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from bot.config import Config, TeamConfig, load_config
from bot.sandbox.web import Person

MANAGER = Person("U0DANA", "Dana Reyes", "manager")  # the demo team's

# Where a config names a channel: (section path, key).
CHANNEL_KEYS = (
    (("team",), "channel"),
    (("team",), "digest_channel"),
    (("sla",), "escalation_channel"),
    (("digest",), "channel"),
    (("calibration",), "channel"),
    (("ops",), "channel"),
)


def own_config(source: Path, folder: Path, hubspot_url: str) -> tuple[Config, dict[str, str]]:
    """Writes the demo's copy of a config (see the module's docstring) and loads it; gets
    it with the sandbox's channels (id to name)."""
    load_config(source)  # its own problems, with its own file and line numbers
    data = tomllib.loads(source.read_text(encoding="utf-8"))
    channels: dict[str, str] = {}
    for where, key in CHANNEL_KEYS:
        section = _section(data, where)
        if section is not None and isinstance(section.get(key), str):
            section[key] = channel_id(section[key], channels)
    crm = data.get("crm")
    yours = crm.get("hubspot") if isinstance(crm, dict) else None
    hubspot = (yours if isinstance(yours, dict) else {}) | {"api_url": hubspot_url}
    data["crm"] = {"hubspot": hubspot}
    data.pop("webhooks", None)
    if isinstance(data.get("scoring"), dict):
        data["scoring"].pop("shadow", None)  # a path relative to your config's folder
    path = folder / "handoff.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return load_config(path), channels


def _section(data: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    found: Any = data
    for part in path:
        found = found.get(part) if isinstance(found, dict) else None
    return found if isinstance(found, dict) else None


def team_people(team: TeamConfig) -> list[Person]:
    """Gets the sandbox's people: the reps by name, and their managers."""
    managers = sorted({r.manager for r in team.reps if r.manager} or {MANAGER.id})
    return [Person(r.slack_id, r.name, "rep") for r in team.reps] + [
        MANAGER if m == MANAGER.id else Person(m, f"Manager {m}", "manager") for m in managers
    ]


def channel_id(given: str, channels: dict[str, str]) -> str:
    """Gets the sandbox id of a channel given by name ("#sales-leads") or id ("C0…")."""
    if re.fullmatch(r"[CGD][A-Z0-9]{8,}", given):
        channels.setdefault(given, given.lower())
        return given
    name = given.removeprefix("#")
    known = next((cid for cid, n in channels.items() if n == name), None)
    if known:
        return known
    stem = ("C0" + re.sub(r"[^A-Z0-9]", "", name.upper()) + "00000000")[:11]
    cid, number = stem, 0
    while cid in channels:  # two names alike in their first 9 letters
        number += 1
        cid = stem[: 11 - len(str(number))] + str(number)
    channels[cid] = name
    return cid
