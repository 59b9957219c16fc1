"""Outcomes coming back from the CRM: opportunity, closed-won, closed-lost. Recording one
twice changes nothing (one row per lead and stage), so a CRM can resend freely."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from bot.handoffs.inputs import OutcomeIn
from store.leads import load_leads
from store.outcomes import record_outcomes


def record(*, session: Session, outcomes: Sequence[OutcomeIn], now: datetime) -> list[OutcomeIn]:
    """Records the outcomes of known leads; gets those whose lead is unknown."""
    found = load_leads(session=session, keys=list({o.key for o in outcomes}))
    rows = [
        {
            "lead_id": found[o.key]["id"],
            "stage": o.stage,
            "amount": o.amount,
            "occurred_at": o.occurred_at,
        }
        for o in outcomes
        if o.key in found
    ]
    record_outcomes(session=session, rows=rows, now=now)
    return [o for o in outcomes if o.key not in found]
