"""A lead card without a database, for rendering and surface tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.handoffs.cards import Card
from scoring import Tier


def sample_card(**changes: Any) -> Card:
    """Gets a pending, assigned high-priority card (hand-off 7)."""
    values: dict[str, Any] = {
        "handoff_id": 7,
        "status": "pending",
        "name": "Maria Garcia",
        "title": "VP of Sales",
        "company": "Northwind",
        "details": "240 employees · saas · US · maria@northwind.example",
        "source": "webinar",
        "source_system": "web",
        "external_id": "A-1001",
        "fit": 55.0,
        "intent": 49.4,
        "total": 104.4,
        "tier": Tier.HIGH_PRIORITY,
        "rules_version": "2026-11-a",
        "factors": [
            {"label": "Requested a demo", "axis": "intent", "points": 39.4},
            {"label": "Company size matches ICP", "axis": "fit", "points": 20.0},
            {"label": "Personal email address", "axis": "fit", "points": -15.0},
        ],
        "rep_slack_id": "U0ALICE",
        "unassigned_reason": None,
        "next_action": "Call within 15 minutes",
        "due_at": None,
        "created_at": datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
    }
    return Card(**{**values, **changes})
