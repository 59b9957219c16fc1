"""Scoring throughput: 100,000 leads x 20 rules x 5 activities, on one core.

Two numbers: the engine alone (leads already in memory, the work intake does per lead),
and `handoff score --format json` end to end over files of the same leads (reading CSV,
joining activities, writing JSON).
"""

from __future__ import annotations

import contextlib
import io
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.cli.scoring import LeadInputs, run_score
from scoring import Activity, ScoringRules, compiled
from tests.bench.common import Result

LEADS = 100_000
ACTIVITIES_PER_LEAD = 5
NOW = datetime(2026, 11, 20, tzinfo=UTC)
TARGET = 20_000.0

KINDS = [
    "demo_request",
    "pricing_page_view",
    "email_open",
    "webinar_attended",
    "case_study_download",
    "careers_page_view",
    "content_download",
]
COUNTRIES = ["US", "CA", "GB", "DE", "FR", "IN", "BR", ""]
INDUSTRIES = ["software", "saas", "fintech", "retail", "manufacturing", "healthcare", ""]
TITLES = ["VP of Sales", "Head of Growth", "Engineer", "Student", "CTO", "Analyst", ""]


def rules() -> ScoringRules:
    """Gets 20 rules exercising every matcher and intent option."""
    fit: list[dict[str, Any]] = [
        {"label": "ICP size", "field": "employees", "between": [50, 1000], "points": 20},
        {"label": "Enterprise", "field": "employees", "between": [1001, 1e6], "points": 10},
        {
            "label": "Industry",
            "field": "industry",
            "in": ["software", "saas", "fintech"],
            "points": 15,
        },
        {
            "label": "Title",
            "field": "title",
            "matches": r"\b(vp|head of|cto|chief)\b",
            "points": 20,
        },
        {"label": "CRM", "field": "tech", "in": ["salesforce", "hubspot"], "points": 10},
        {"label": "Personal email", "field": "email", "contains": "@gmail.", "points": -15},
        {"label": "No company", "field": "company", "present": False, "points": -10},
        {"label": "US", "field": "country", "equals": "US", "points": 5},
    ]
    intent: list[dict[str, Any]] = [
        {
            "label": "Demo",
            "activity": "demo_request",
            "points": 40,
            "within_days": 90,
            "half_life_days": 30,
        },
        {
            "label": "Pricing",
            "activity": "pricing_page_view",
            "points": 10,
            "per_occurrence": True,
            "cap": 30,
            "within_days": 30,
        },
        {"label": "Emails", "activity": "email_open", "min_count": 3, "points": 15},
        {"label": "Webinar", "activity": "webinar_attended", "points": 20, "half_life_days": 45},
        {
            "label": "Case study",
            "activity": ["case_study_download", "content_download"],
            "points": 20,
            "within_days": 60,
        },
        {"label": "Careers", "activity": "careers_page_view", "points": -10},
        {
            "label": "Any content",
            "activity": "content_download",
            "points": 5,
            "per_occurrence": True,
            "cap": 15,
            "half_life_days": 20,
        },
        {
            "label": "Recent pricing",
            "activity": "pricing_page_view",
            "points": 10,
            "within_days": 3,
        },
        {"label": "Engaged", "activity": KINDS[:5], "min_count": 4, "points": 10},
        {"label": "Source", "field": "source", "in": ["webinar", "event"], "points": 5},
    ]
    disqualify: list[dict[str, Any]] = [
        {
            "label": "Region",
            "field": "country",
            "not_in": ["US", "CA", "GB", "DE", "FR"],
            "points": -50,
            "block": True,
        },
        {"label": "Student", "field": "title", "contains": "student", "points": -30},
    ]
    assert len(fit) + len(intent) + len(disqualify) == 20
    return ScoringRules.model_validate(
        {
            "version": "bench",
            "fit": fit,
            "intent": intent,
            "disqualify": disqualify,
            "limits": {"fit_max": 100, "intent_max": 100},
        }
    )


def leads(rng: random.Random) -> list[tuple[dict[str, Any], list[Activity]]]:
    """Gets the synthetic leads, each with its activities."""
    out = []
    for i in range(LEADS):
        lead = {
            "external_id": f"L{i}",
            "employees": str(rng.choice([5, 40, 120, 800, 4000, 20000])),
            "industry": rng.choice(INDUSTRIES),
            "title": rng.choice(TITLES),
            "tech": rng.choice(["salesforce", "hubspot", "pipedrive", ""]),
            "email": f"p{i}@" + rng.choice(["gmail.com", "acme.com", "corp.io"]),
            "company": rng.choice(["Acme", "Globex", ""]),
            "country": rng.choice(COUNTRIES),
            "source": rng.choice(["webinar", "event", "paid search", "organic"]),
        }
        acts = [
            Activity(rng.choice(KINDS), NOW - timedelta(minutes=rng.randint(0, 120 * 1440)))
            for _ in range(ACTIVITIES_PER_LEAD)
        ]
        out.append((lead, acts))
    return out


def _engine(model: ScoringRules, data: list[tuple[dict[str, Any], list[Activity]]]) -> float:
    engine = compiled(model)
    best = 0.0
    for _ in range(3):  # best of three: the least disturbed run on a shared machine
        start = time.perf_counter()
        for lead, acts in data:
            engine.score(lead, acts, NOW)
        best = max(best, len(data) / (time.perf_counter() - start))
    return best


def _write_files(folder: Path, data: list[tuple[dict[str, Any], list[Activity]]]) -> LeadInputs:
    columns = list(data[0][0])
    lead_lines = [",".join(columns)]
    act_lines = ["lead_id,kind,occurred_at"]
    for lead, acts in data:
        lead_lines.append(",".join(lead[c] for c in columns))
        act_lines.extend(
            f"{lead['external_id']},{a.kind},{a.occurred_at.isoformat()}" for a in acts
        )
    (folder / "leads.csv").write_text("\n".join(lead_lines) + "\n")
    (folder / "activities.csv").write_text("\n".join(act_lines) + "\n")
    return LeadInputs(folder / "leads.csv", folder / "activities.csv", NOW)


def run() -> list[Result]:
    model = rules()
    data = leads(random.Random(7))
    engine_rate = _engine(model, data)
    with tempfile.TemporaryDirectory() as tmp:
        inputs = _write_files(Path(tmp), data)
        sink = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()):
            run_score(model, inputs, fmt="json", out=sink)
        cli_rate = LEADS / (time.perf_counter() - start)
    shape = {"leads": LEADS, "rules": 20, "activities_per_lead": ACTIVITIES_PER_LEAD}
    return [
        Result("scoring: engine, one core", engine_rate, "leads/s", TARGET, details=shape),
        Result(
            "scoring: `handoff score --format json` from CSV", cli_rate, "leads/s", details=shape
        ),
    ]
