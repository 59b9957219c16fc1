"""Score-to-revenue by cohort: per month of hand-off and tier, what the hand-offs became
(accepted, opportunities, closed-won, the amount won), and the monthly report that puts it
beside the month's reject reasons and the signals most common among rejected leads."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.config import RejectReason, TeamConfig
from bot.reports.numbers import RevenueReport
from scoring import auc
from store.metrics import Period, has_handoffs, reject_reasons
from store.models import NotificationKind
from store.outbox import OutboxEntry, already_sent, claim_notification, enqueue
from store.outcome_metrics import (
    feedback_answers,
    rejected_factors,
    revenue_by_tier,
    shadow_pairs,
)

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_period(label: str, *, timezone: str) -> Period:
    """Gets a month ("2026-11") as a period in the team's time zone."""
    found = MONTH.match(label)
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ValueError(f"{label!r} is not a month: write e.g. 2026-11")
    year, month = int(found.group(1)), int(found.group(2))
    zone = ZoneInfo(timezone)
    start = datetime.combine(date(year, month, 1), time(0), tzinfo=zone)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(start, datetime.combine(following, time(0), tzinfo=zone))


def last_months(count: int, *, now: datetime, timezone: str) -> list[str]:
    """Gets the labels of the last `count` months, oldest first, the current one last."""
    local = now.astimezone(ZoneInfo(timezone))
    year, month = local.year, local.month
    labels = []
    for _ in range(count):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return labels[::-1]


def revenue_report(
    *, session: Session, team: TeamConfig, reasons: list[RejectReason], months: list[str]
) -> RevenueReport:
    """Gets per month and tier what the hand-offs became, and for the last month its top
    reject reasons beside the signals most common among the leads rejected."""
    rows = []
    for label in months:
        period = month_period(label, timezone=team.timezone)
        rows += [{"month": label, **row} for row in revenue_by_tier(session=session, period=period)]
    last = month_period(months[-1], timezone=team.timezone)
    labels = {reason.code: reason.label for reason in reasons}
    signals: Counter[str] = Counter()
    for factors in rejected_factors(session=session, period=last):
        signals.update(f["label"] for f in factors if f.get("points", 0) > 0)
    report = {
        "months": months,
        "cohorts": rows,
        "month": months[-1],
        "reject_reasons": [
            {**row, "label": labels.get(row["code"], row["code"])}
            for row in reject_reasons(session=session, period=last)
        ],
        "rejected_signals": [
            {"label": label, "count": count} for label, count in signals.most_common(3)
        ],
        "shadow": shadow_comparison(shadow_pairs(session=session, period=last)),
        "feedback": feedback_answers(session=session, period=last),
    }
    return RevenueReport.model_validate(report)


def shadow_comparison(pairs: list[tuple[Any, ...]]) -> dict[str, Any] | None:
    """Compares the live and shadow rule sets on the leads both scored: how often they
    disagree on the tier, and which ranks the leads that closed better (ROC AUC) and
    routes a larger share of winners (win rate among leads each would route)."""
    if not pairs:
        return None
    won = [bool(p[6]) for p in pairs]

    def side(total: int, routable: int) -> dict[str, Any]:
        routed = [w for p, w in zip(pairs, won, strict=True) if p[routable]]
        return {
            "auc": None
            if (found := auc([float(p[total]) for p in pairs], won)) is None
            else round(found, 3),
            "routable": len(routed),
            "win_rate_routable": round(sum(routed) / len(routed), 4) if routed else None,
        }

    live, shadow = side(0, 2), side(3, 5)
    better = None
    if live["auc"] is not None and shadow["auc"] is not None:
        better = "shadow" if shadow["auc"] > live["auc"] else "live"
    return {
        "scored": len(pairs),
        "tier_disagreements": sum(1 for p in pairs if p[1] != p[4]),
        "won": sum(won),
        "live": live,
        "shadow": shadow,
        "better": better,
    }


def post_monthly_if_due(
    *,
    session: Session,
    team: TeamConfig,
    reasons: list[RejectReason],
    channel: str,
    now: datetime,
    months: int = 6,
) -> str | None:
    """Queues the report of the month just ended, once (a month missed while no worker
    ran is posted late, once); gets the month posted, if any. A month with no hand-offs
    is not posted."""
    local = now.astimezone(ZoneInfo(team.timezone))
    ended = (local.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    key = f"revenue:{ended}"
    # Checked every minute by the worker: the cheap looks first, the report only when due.
    period = month_period(ended, timezone=team.timezone)
    if already_sent(session=session, key=key) or not has_handoffs(session=session, period=period):
        return None
    labels = last_months(
        months, now=local.replace(day=1) - timedelta(days=1), timezone=team.timezone
    )
    report = revenue_report(session=session, team=team, reasons=reasons, months=labels)
    if not claim_notification(
        session=session, key=key, kind=NotificationKind.REVENUE, handoff_id=None, level=0, now=now
    ):
        return None
    queue_revenue_report(session=session, channel=channel, report=report, now=now)
    return ended


def queue_revenue_report(
    *, session: Session, channel: str, report: RevenueReport, now: datetime
) -> None:
    """Queues a revenue report for a channel."""
    entry = OutboxEntry.revenue_report(channel=channel, report=report.model_dump(mode="json"))
    enqueue(session=session, entries=[entry], now=now)
