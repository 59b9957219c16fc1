"""Realistic leads for the demo and the replay tests: the public Olist marketing funnel
(../shared/data/olist/) when it is there, else a small built-in stream.

Olist gives each MQL a first-contact date, a landing page and a channel; a lead here
arrives on that date at a time of day spread over the working day (stable per lead),
with the landing-page form fill as its one activity.
"""

from __future__ import annotations

import csv
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

# In a checkout, the real data sits beside it in ../shared/data (see ../shared/DESIGN.md).
CHECKOUT = Path(__file__).resolve().parents[2]
MQL_FILE = "olist_marketing_qualified_leads_dataset.csv"
DEALS_FILE = "olist_closed_deals_dataset.csv"
WORKDAY_START = time(13, 0)  # 08:00 in New York (UTC-5) / 10:00 in São Paulo
WORKDAY_MINUTES = 9 * 60


@dataclass(frozen=True)
class SampleLead:
    """A lead as POST /api/leads takes it, and when it arrives."""

    at: datetime
    body: dict[str, Any]


@dataclass(frozen=True)
class SampleWin:
    """A closed deal of a sample lead."""

    external_id: str
    won_at: datetime
    amount: float | None


def olist_folder() -> Path | None:
    """Gets the Olist data folder ($HANDOFF_SHARED_DATA/olist, else ../shared/data/olist),
    or None where it is absent."""
    base = Path(os.environ.get("HANDOFF_SHARED_DATA", CHECKOUT.parent / "shared" / "data"))
    folder = base / "olist"
    return folder if (folder / MQL_FILE).is_file() else None


def _arrival(day: date, external_id: str) -> datetime:
    minutes = zlib.crc32(external_id.encode()) % WORKDAY_MINUTES
    return datetime.combine(day, WORKDAY_START, tzinfo=UTC) + timedelta(minutes=minutes)


def olist_leads(folder: Path) -> list[SampleLead]:
    """Gets the Olist MQLs as leads, in the order they arrived."""
    leads = []
    with (folder / MQL_FILE).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            external_id = row["mql_id"]
            at = _arrival(date.fromisoformat(row["first_contact_date"][:10]), external_id)
            leads.append(SampleLead(at, _body(external_id, at, row)))
    leads.sort(key=lambda lead: (lead.at, lead.body["external_id"]))
    return leads


def _body(external_id: str, at: datetime, row: dict[str, str]) -> dict[str, Any]:
    return {
        "source_system": "olist",
        "external_id": external_id,
        "company": f"Seller {external_id[:6]}",
        "source": row.get("origin") or "unknown",
        "attributes": {"landing_page_id": row.get("landing_page_id")},
        "activities": [
            {
                "id": f"{external_id}-form",
                "kind": "landing_page_form",
                "occurred_at": at.isoformat(),
            }
        ],
    }


def olist_wins(folder: Path) -> list[SampleWin]:
    """Gets the Olist closed deals (won date and declared monthly revenue)."""
    with (folder / DEALS_FILE).open(newline="", encoding="utf-8") as handle:
        return [
            SampleWin(
                row["mql_id"],
                datetime.fromisoformat(row["won_date"]).replace(tzinfo=UTC),
                float(row["declared_monthly_revenue"]) if row["declared_monthly_revenue"] else None,
            )
            for row in csv.DictReader(handle)
        ]


BUILT_IN_SOURCES = ("organic search", "paid search", "referral", "direct traffic", "social")
FIRST_NAMES = ("Ana", "Bruno", "Carla", "Diego", "Elisa", "Fábio", "Gabi", "Hugo", "Iara", "João")
COMPANIES = ("Acme Pets", "Blue Auto Parts", "Casa Decor", "Delta Health", "Eco Garden")


def built_in_leads(count: int, *, start: datetime) -> Iterator[SampleLead]:
    """Gets a small deterministic stream of leads, one every few minutes from `start`."""
    for i in range(count):
        at = start + timedelta(minutes=7 * i)
        external_id = f"sample-{i:04d}"
        body = _body(external_id, at, {"origin": BUILT_IN_SOURCES[i % len(BUILT_IN_SOURCES)]})
        body["first_name"] = FIRST_NAMES[i % len(FIRST_NAMES)]
        body["company"] = COMPANIES[i % len(COMPANIES)]
        yield SampleLead(at, body)
