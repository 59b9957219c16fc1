"""The tables (see ../shared/DESIGN.md, "Data model"). Every datetime is aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Table, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from store.types import JSONType, UTCDateTime


def table(model: type[SQLModel]) -> Table:
    """Gets a model's Core table, for bulk statements that need no ORM behaviour."""
    found: Table = model.__table__  # type: ignore[attr-defined]
    return found


def utcnow() -> datetime:
    """Gets the current time, aware UTC (defaults only; jobs pass `now` explicitly)."""
    return datetime.now(UTC)


class LeadDisposition(StrEnum):
    """Where a lead stands with sales."""

    OPEN = "open"
    NURTURE = "nurture"
    DISQUALIFIED = "disqualified"


class HandoffStatus(StrEnum):
    """The life of a hand-off: pending until a rep decides or it moves on."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REASSIGNED = "reassigned"
    EXPIRED = "expired"


class MoveReason(StrEnum):
    """Why a pending hand-off moved to another owner (`Handoff.moved_because`)."""

    BREACH = "breach"  # its deadline passed and the escalation ladder moved it
    AWAY = "away"  # its rep went out of office
    INACTIVE = "inactive"  # its rep was made inactive or left the config
    MANAGER = "manager"  # the manager moved it (Reassign, or a rep picked by them)


class Feedback(StrEnum):
    """A rep's answer to "How did it go?" after accepting a lead."""

    CONNECTED = "connected"
    MEETING_BOOKED = "meeting_booked"
    NO_ANSWER_YET = "no_answer_yet"
    NOT_A_FIT = "not_a_fit"


class OutboxStatus(StrEnum):
    """Whether a Slack call is still to go out, went out, or was given up on."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    DROPPED = "dropped"  # dead, then dropped by an admin (`handoff outbox drop`)


class OutboxKind(StrEnum):
    """What an outbox entry asks the chat surface to do."""

    POST_CARD = "post_card"  # the card in the team channel; its ts is recorded on the hand-off
    POST_DM_COPY = "post_dm_copy"  # a copy in the rep's DM (team.dm_reps); not updated later
    UPDATE_CARD = "update_card"  # the channel card, redrawn after a decision or a move
    THREAD_REPLY = "thread_reply"  # a move told in the card's thread, naming the new owner
    NOTICE = "message"  # a reminder, escalation or nudge: payload {"notice": {...}}
    DIGEST = "digest"  # the weekly digest: payload {"numbers"}, as Block Kit
    DIGEST_CHART = "digest_chart"  # its chart, drawn when sent: payload {"numbers"}
    REVENUE_REPORT = "revenue_report"  # the monthly revenue report: payload {"report"}
    OPS_ALERT = "ops_alert"  # to the people who run the app: payload {"text"}, mrkdwn
    # Sent by the CRM sender (bot.crm), not the Slack one; channel: the record.
    CRM_HUBSPOT = "crm_hubspot"  # a contact's owner, status, lifecycle stage and note
    CRM_SALESFORCE = "crm_salesforce"  # a Lead's owner and status, and a completed Task
    WEBHOOK_OUT = "webhook_out"  # a signed event to a [[webhooks.out]] receiver
    HUBSPOT_IN = "hubspot_in"  # a HubSpot webhook event to take in (a lead, an outcome)


# The kinds the CRM sender sends; the Slack sender sends the others.
CRM_OUTBOX_KINDS = (
    OutboxKind.CRM_HUBSPOT,
    OutboxKind.CRM_SALESFORCE,
    OutboxKind.WEBHOOK_OUT,
    OutboxKind.HUBSPOT_IN,
)
SLACK_OUTBOX_KINDS = tuple(kind for kind in OutboxKind if kind not in CRM_OUTBOX_KINDS)


class NotificationKind(StrEnum):
    """What a notification row records as sent (its key makes each send happen once)."""

    REMINDER = "reminder"
    ESCALATION = "escalation"
    DIGEST = "digest"
    REVENUE = "revenue"
    FEEDBACK = "feedback"
    SLACK_REQUEST = "slack_request"  # a Slack event or interaction, done once
    CRM_EVENT = "crm_event"  # a CRM's webhook event (HubSpot's eventId), taken in once
    OUTBOX_ALERT = "outbox_alert"  # messages given up: told once an hour


class Lead(SQLModel, table=True):
    """One lead, unique per (source_system, external_id)."""

    __tablename__ = "lead"
    __table_args__ = (
        UniqueConstraint("source_system", "external_id", name="uq_lead_source"),
        Index("ix_lead_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_system: str = Field(max_length=100)
    external_id: str = Field(max_length=255)
    email: str | None = Field(default=None, max_length=320)
    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=300)
    company: str | None = Field(default=None, max_length=300)
    employees: int | None = None
    industry: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=100)
    source: str | None = Field(default=None, max_length=200)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    disposition: str = Field(default=LeadDisposition.OPEN, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Activity(SQLModel, table=True):
    """An engagement event; unique per (lead, external event id) so replays count once."""

    __tablename__ = "activity"
    __table_args__ = (UniqueConstraint("lead_id", "external_id", name="uq_activity_event"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", ondelete="CASCADE")
    external_id: str = Field(max_length=255)
    kind: str = Field(max_length=100)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    properties: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ScoreSnapshot(SQLModel, table=True):
    """A lead's score at one instant, kept forever (the score at hand-off time matters)."""

    __tablename__ = "score_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True, ondelete="CASCADE")
    fit: float
    intent: float
    total: float
    tier: str = Field(max_length=20)
    routable: bool
    blocked: str | None = Field(default=None, max_length=1000)
    factors: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    rules_version: str = Field(max_length=100)
    computed_at: datetime = Field(sa_type=UTCDateTime)


class ShadowScore(SQLModel, table=True):
    """A lead's score under the shadow rules, taken with its live snapshot: never routed,
    only compared."""

    __tablename__ = "shadow_score"

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True, ondelete="CASCADE")
    snapshot_id: int = Field(foreign_key="score_snapshot.id", index=True)
    total: float
    tier: str = Field(max_length=20)
    routable: bool
    rules_version: str = Field(max_length=100)
    computed_at: datetime = Field(sa_type=UTCDateTime, index=True)


class Rep(SQLModel, table=True):
    """A sales rep, synced from the config's [[team.reps]]."""

    __tablename__ = "rep"

    id: int | None = Field(default=None, primary_key=True)
    slack_id: str = Field(max_length=50, unique=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    manager_slack_id: str | None = Field(default=None, max_length=50)
    timezone: str | None = Field(default=None, max_length=64)
    territories: list[str] = Field(default_factory=list, sa_type=JSONType)
    capacity: int | None = None
    active: bool = True
    out_of_office: bool = False
    # Order in the config file, and the round-robin turn: the eligible rep with the
    # lowest `last_assigned_seq` gets the next lead. Kept in the database so the
    # rotation is fair across restarts and processes.
    position: int = 0
    last_assigned_seq: int = 0
    in_config: bool = True


class Handoff(SQLModel, table=True):
    """The SLA object: one lead handed to one rep (or to anyone, when unassigned)."""

    __tablename__ = "handoff"
    __table_args__ = (
        # At most one pending hand-off per lead, whatever races the application loses.
        Index(
            "uq_handoff_one_pending",
            "lead_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_handoff_rep_status", "rep_id", "status"),
        Index("ix_handoff_status_due", "status", "due_at"),
        Index("ix_handoff_status_warn", "status", "warn_at"),
        Index("ix_handoff_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True, ondelete="CASCADE")
    snapshot_id: int = Field(foreign_key="score_snapshot.id")
    rep_id: int | None = Field(default=None, foreign_key="rep.id")
    tier: str = Field(max_length=20)
    status: str = Field(default=HandoffStatus.PENDING, max_length=20)
    unassigned_reason: str | None = Field(default=None, max_length=500)
    channel: str | None = Field(default=None, max_length=100)
    message_ts: str | None = Field(default=None, max_length=50)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    warn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=50)
    reject_reason: str | None = Field(default=None, max_length=100)
    reject_note: str | None = Field(default=None, max_length=3000)
    policy_version: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)
    # The lead's journey: every hand-off of one chain of moves shares `chain_id` (the id of
    # its first hand-off) and `first_handed_at`; `step` counts the hand-offs (1, 2, 3…);
    # a moved hand-off says why it moved.
    chain_id: int | None = Field(default=None, index=True)
    first_handed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    step: int = 1
    moved_because: str | None = Field(default=None, max_length=20)
    # The feedback sales owes after Accept: its first deadline, when to ask next (None once
    # answered or asked twice), how many asks went out, the latest answer (a `Feedback`) and
    # when the first answer came; "No answer yet" postpones the deadline once.
    feedback_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    feedback_next_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    feedback_asks: int = 0
    feedback: str | None = Field(default=None, max_length=20)
    feedback_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    feedback_postponed: bool = False


class Outbox(SQLModel, table=True):
    """A Slack call waiting to go out; the sender retries it until sent or dead."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=50)
    channel: str | None = Field(default=None, max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    handoff_id: int | None = Field(default=None, foreign_key="handoff.id", index=True)
    status: str = Field(default=OutboxStatus.PENDING, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Notification(SQLModel, table=True):
    """A reminder, escalation or digest; its unique key, inserted before sending,
    is what makes each send happen once."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    kind: str = Field(max_length=50)
    handoff_id: int | None = Field(default=None, foreign_key="handoff.id", index=True)
    level: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WorkerLease(SQLModel, table=True):
    """Who runs the background jobs: the holder renews the row every third of its time to
    live; a holder that stops renewing (dead or frozen) is replaced when it expires."""

    __tablename__ = "worker_lease"

    name: str = Field(primary_key=True, max_length=50)
    holder: str = Field(max_length=200)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    taken_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    renewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LeadEventRecord(SQLModel, table=True):
    """Something that happened to a hand-off (bot.crm.events.LeadEvent), to be told to the
    CRMs and webhook receivers; the worker fans it out and sets `fanned_out_at`."""

    __tablename__ = "lead_event"
    __table_args__ = (Index("ix_lead_event_unfanned", "fanned_out_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    event: str = Field(max_length=50)
    handoff_id: int = Field(foreign_key="handoff.id", ondelete="CASCADE")
    created_at: datetime = Field(sa_type=UTCDateTime)
    fanned_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Outcome(SQLModel, table=True):
    """What became of a lead: opportunity, closed-won or closed-lost."""

    __tablename__ = "outcome"
    __table_args__ = (UniqueConstraint("lead_id", "stage", name="uq_outcome_stage"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True, ondelete="CASCADE")
    stage: str = Field(max_length=20)
    amount: float | None = None
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


__all__ = [
    "Activity",
    "Feedback",
    "Handoff",
    "HandoffStatus",
    "Lead",
    "LeadDisposition",
    "MoveReason",
    "Notification",
    "Outbox",
    "OutboxStatus",
    "Outcome",
    "Rep",
    "ScoreSnapshot",
    "ShadowScore",
    "WorkerLease",
    "table",
    "utcnow",
]
