"""`handoff demo --leads FILE [--activities FILE]`: your own leads for the clickable
sandbox, in the file's order, with their activities moved to the demo's time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.cli.leadfiles import RowError, read_activities, read_leads
from bot.sandbox.samples import SampleLead


def read_own_leads(
    leads: Path, activities: Path | None, *, id_column: str, now: datetime
) -> tuple[list[SampleLead], list[RowError]]:
    """Reads your leads (and their activities) for the demo, in the file's order. Each
    lead's activities are moved in time together so that its latest one is `now`: they
    score as fresh as they were when the lead came in."""
    errors: list[RowError] = []
    by_lead: dict[str, list[dict[str, Any]]] = {}
    for act in read_activities(activities) if activities else ():
        if isinstance(act, RowError):
            errors.append(act)
            continue
        by_lead.setdefault(act.lead_id, []).append(
            {"kind": act.activity.kind, "occurred_at": act.activity.occurred_at}
        )
    found: list[SampleLead] = []
    for row in read_leads(leads, id_column=id_column):
        if isinstance(row, RowError):
            errors.append(row)
            continue
        acts = [
            {"kind": a.kind, "occurred_at": a.occurred_at} for a in row.activities
        ] + by_lead.get(row.external_id, [])
        body = {k: v for k, v in row.fields.items() if k != id_column}
        body |= {"external_id": row.external_id, "activities": list(_fresh(acts, now))}
        found.append(SampleLead(now, body))
    return found, errors


def _fresh(acts: list[dict[str, Any]], now: datetime) -> Iterator[dict[str, Any]]:
    if not acts:
        return
    shift = now - max(a["occurred_at"] for a in acts)
    for number, act in enumerate(acts):
        yield {
            "id": f"demo-{number}",
            "kind": act["kind"],
            "occurred_at": (act["occurred_at"] + shift - timedelta(seconds=1)).isoformat(),
        }
