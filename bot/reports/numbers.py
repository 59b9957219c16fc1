"""The digest's numbers as typed models: built once by `reports.digest`, read alike by the
Slack blocks, the terminal text, `--format json`, the outbox payload and the chart.

Rates are `None` when there is nothing to divide (shown as "n/a"). JSON is
`model_dump(mode="json")`; an outbox payload comes back with `model_validate`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Numbers(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SlaCounts(_Numbers):
    """Where the period's hand-offs stand against their deadlines; the five add up to all
    the hand-offs. *Within*: decided (accepted or rejected) by the deadline. *Breached*:
    the deadline passed before a decision, whether it was then decided late, moved, or is
    still pending. *Not yet due*: pending, deadline ahead. *Moved in time*: moved on before
    the deadline, undecided. *No deadline*: its tier has no SLA."""

    within: int
    breached: int
    not_yet_due: int
    moved_in_time: int
    no_deadline: int

    @property
    def compliance(self) -> float | None:
        """Within / (within + breached); None when neither happened."""
        judged = self.within + self.breached
        return round(self.within / judged, 4) if judged else None


class SlaCompliance(_Numbers):
    """SLA compliance (hand-offs within / (within + breached)): overall, per tier (every
    tier that had hand-offs) and per rep (every rep who held one); None: nothing judged."""

    overall: float | None
    by_tier: dict[str, float | None]
    by_rep: dict[str, float | None]


class ResponseTimes(_Numbers):
    """Minutes from hand-off to decision, in one tier (None: no decision yet)."""

    median: float | None
    p90: float | None


class TierRow(_Numbers):
    """One tier's hand-offs: how many, where they stand against the deadline, how fast
    they were decided."""

    tier: str
    handoffs: int
    within: int
    breached: int
    not_yet_due: int
    moved_in_time: int
    no_deadline: int
    compliance: float | None
    median_minutes: float | None
    p90_minutes: float | None


class RejectReasonCount(_Numbers):
    """How often a reject reason was given, with one of its notes."""

    code: str
    label: str
    count: int
    sample_note: str | None


class RepRow(_Numbers):
    """One rep's hand-offs in the period (counted once per hand-off they held), by how
    they stand; `breached`: deadlines that passed while they held the lead."""

    rep: str
    name: str | None
    handoffs: int
    accepted: int
    rejected: int
    pending: int
    reassigned: int
    within: int
    breached: int
    compliance: float | None
    # Feedback after Accept: due (deadline passed, or answered), given by its deadline.
    feedback_due: int = 0
    feedback_on_time: int = 0
    feedback_rate: float | None = None


class FeedbackCounts(_Numbers):
    """The feedback sales owed after Accept: `due` (its deadline passed, or it was given),
    `on_time` (given by the deadline, "No answer yet" included), `rate` = on_time / due."""

    due: int = 0
    on_time: int = 0
    rate: float | None = None


class Conversion(_Numbers):
    """What the leads of one score band or one source became."""

    label: str
    handed_off: int
    with_outcome: int
    opportunities: int
    closed_won: int
    won_amount: float
    opportunity_rate: float | None
    win_rate: float | None


class Outcomes(_Numbers):
    """Conversion of the period's handed-off leads, by score band and by source."""

    by_score_band: list[Conversion]
    by_source: list[Conversion]


class Change(_Numbers):
    """The difference from the week before (None where either week has no value)."""

    leads_in: float | None
    handed_off: float | None
    handoffs: float | None
    accepted: float | None
    rejected: float | None
    acceptance_rate: float | None
    lead_acceptance_rate: float | None
    breaches: float | None
    escalations: float | None
    sla_compliance: float | None


class DigestNumbers(_Numbers):
    """One period's numbers (see the README's "Weekly digest" for each definition).

    Leads and hand-offs are counted apart: a lead moved from one rep to another is one
    lead handed off and several hand-offs. The period's cohort is the hand-offs created in
    it; statuses are as they stand now.
    """

    period: str
    period_start: str
    period_end: str
    leads_in: int
    leads_in_by_source: dict[str, int]
    handed_off: int  # distinct leads with a hand-off in the period
    handed_off_by_tier: dict[str, int]  # distinct leads per tier
    handed_off_rate: float | None  # leads handed off / leads in
    leads_accepted: int  # distinct leads sales accepted
    lead_acceptance_rate: float | None  # leads accepted / leads handed off
    handoffs: int  # hand-offs = accepted + rejected + pending + reassigned + expired
    handoffs_by_tier: dict[str, int]
    accepted: int
    rejected: int
    pending: int
    reassigned: int
    expired: int
    decided: int  # accepted + rejected
    acceptance_rate: float | None  # accepted / decided
    response_minutes: dict[str, ResponseTimes]
    tiers: list[TierRow]
    sla: SlaCounts
    sla_compliance: SlaCompliance
    breaches: int
    breaches_by_tier: dict[str, int]
    escalations: int
    unassigned: int  # hand-offs nobody held (waiting to be claimed)
    reject_reasons: list[RejectReasonCount]
    reps: list[RepRow]
    outcomes: Outcomes | None
    change: Change | None = None
    feedback: FeedbackCounts = FeedbackCounts()


class TierCohort(_Numbers):
    """What one month's hand-offs of one tier became."""

    month: str
    tier: str
    handed_off: int
    accepted: int
    opportunities: int
    closed_won: int
    won_amount: float
    won_per_handoff: float | None


class SignalCount(_Numbers):
    """A positive score factor, and how many rejected leads had it."""

    label: str
    count: int


class RuleSetResult(_Numbers):
    """How one rule set (live or shadow) did against the leads that closed."""

    auc: float | None
    routable: int
    win_rate_routable: float | None


class ShadowComparison(_Numbers):
    """The live and shadow rule sets on the leads both scored."""

    scored: int
    tier_disagreements: int
    won: int
    live: RuleSetResult
    shadow: RuleSetResult
    better: str | None


class RevenueReport(_Numbers):
    """Score to revenue by cohort, and the last month's reject reasons beside the signals
    of the rejected leads."""

    months: list[str]
    cohorts: list[TierCohort]
    month: str
    reject_reasons: list[RejectReasonCount]
    rejected_signals: list[SignalCount]
    shadow: ShadowComparison | None
    # The last month's accepted hand-offs by what sales answered to "How did it go?"
    # (connected, meeting_booked, no_answer_yet, not_a_fit; "none": not answered).
    feedback: dict[str, int] = {}
