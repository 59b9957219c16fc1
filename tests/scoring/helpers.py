"""Builders for rules and activities in scoring tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from scoring import Activity, ScoringRules

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def rules(**sections: Any) -> ScoringRules:
    """Gets validated rules from plain dicts, as the config file would give them."""
    return ScoringRules.model_validate({"version": "test-1", **sections})


def fit(label: str, field: str, points: float, **matcher: Any) -> dict[str, Any]:
    """Gets a fit rule."""
    return {"label": label, "field": field, "points": points, **matcher}


def days_ago(kind: str, days: float) -> Activity:
    """Gets an activity that happened `days` before NOW."""
    return Activity(kind, NOW - timedelta(days=days))
