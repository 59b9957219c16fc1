"""Outcomes coming back from the CRM: opportunity, closed-won, closed-lost. Recording one
twice changes nothing (one row per lead and stage), so a CRM can resend freely."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from bot.handoffs.inputs import OutcomeIn
from scoring.calibration import KnownLead
from scoring.engine import Activity
from store.leads import load_leads
from store.outcomes import known_leads, record_outcomes

SALES_FEEDBACK = "sales_feedback"  # what bot.handoffs.feedback records


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


def leads_with_outcomes(*, session: Session) -> list[KnownLead]:
    """Gets every stored lead with its activities and whether it was won (a closed_won
    outcome), for calibration. Sales's own feedback ("Meeting booked") is left out: it is
    known only after sales acted, and a rule must score a lead before that."""
    return [
        KnownLead(
            fields,
            [Activity(kind, when) for kind, when in acts if kind != SALES_FEEDBACK],
            won,
            line=number,  # the order of the lead ids: what a held-out split goes by
        )
        for number, (fields, acts, won) in enumerate(known_leads(session=session), start=1)
    ]
