"""The sections of the config file a revenue-ops admin owns, as pydantic models.

Unknown keys are errors (`extra="forbid"`); the loader turns every validation error into
`FILE:LINE: key.path: what is wrong`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, time, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from bot.config.crm import CrmConfig, WebhooksConfig
from scoring.rules import ScoringRules, Tier

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


SLACK_USER_ID = r"^[UW][A-Z0-9]{2,}$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RepConfig(_Section):
    """One sales rep, as listed under [[team.reps]]."""

    slack_id: str = Field(pattern=SLACK_USER_ID)
    name: str = Field(min_length=1)
    email: str | None = None
    manager: str | None = Field(default=None, pattern=SLACK_USER_ID)
    timezone: str | None = None
    territories: list[str] = []
    capacity: int | None = Field(default=None, ge=1)
    active: bool = True
    # The rep in the CRMs; when absent, looked up once by `email`.
    hubspot_owner_id: str | None = Field(default=None, pattern=r"^\d+$")
    salesforce_user_id: str | None = Field(
        default=None, pattern=r"^005[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _zone(value)


Notify = Literal["channel", "dm", "both"]


class TeamConfig(_Section):
    """The sales team: where cards go, who gets leads, whose manager hears of a breach."""

    timezone: str = "UTC"
    channel: str = Field(min_length=1)
    digest_channel: str | None = None
    territory_field: str = Field(default="country", min_length=1)
    dm_reps: bool = False
    # Per tier, where its cards go: "channel" (the team channel), "dm" (the assigned rep's
    # direct messages, so in a burst each rep gets theirs at Slack's pace for that DM rather
    # than behind everyone's in the channel) or "both" (the channel, and a copy by DM).
    # A tier not listed: "both" with dm_reps, else "channel". A lead no rep could take
    # always goes to the channel, where someone can pick it up.
    notify: dict[Tier, Notify] = {}
    # Per tier, what the card tells the rep to do; by default it is worded from the tier's
    # SLA ("Call within 15 min", "Reach out within 4 h of business time").
    next_action: dict[Tier, str] = {}
    reps: list[RepConfig] = []

    def notify_for(self, tier: Tier) -> Notify:
        """Gets where a tier's cards go: "channel", "dm" or "both"."""
        return self.notify.get(tier, "both" if self.dm_reps else "channel")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone(value)

    @model_validator(mode="after")
    def _unique_reps(self) -> TeamConfig:
        seen: set[str] = set()
        for rep in self.reps:
            if rep.slack_id in seen:
                raise ValueError(f"rep {rep.slack_id} is listed twice")
            seen.add(rep.slack_id)
        return self


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as 'America/New_York'"
        ) from None
    return name


class Disposition(StrEnum):
    """Where a rejected lead goes."""

    NURTURE = "nurture"
    DISQUALIFY = "disqualify"


class RejectReason(_Section):
    """One reason a rep may give for rejecting a lead."""

    code: str = Field(pattern=r"^[a-z0-9_]{1,50}$")
    label: str = Field(min_length=1, max_length=75)
    disposition: Disposition = Disposition.NURTURE
    note_required: bool = False


DEFAULT_REJECT_REASONS = [
    RejectReason(
        code="not_icp", label="Not our ideal customer", disposition=Disposition.DISQUALIFY
    ),
    RejectReason(code="no_budget", label="No budget or timing"),
    RejectReason(
        code="bad_contact", label="Bad contact details", disposition=Disposition.DISQUALIFY
    ),
    RejectReason(
        code="existing_customer", label="Already a customer", disposition=Disposition.DISQUALIFY
    ),
    RejectReason(code="too_early", label="Too early: needs nurturing"),
    RejectReason(code="other", label="Other", note_required=True),
]


_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$")
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_duration(value: Any) -> Any:
    """Reads "15m", "4h", "2d", "1h30m" (or leaves a timedelta as it is)."""
    if not isinstance(value, str):
        return value
    found = _DURATION.match(value)
    if not found or not any(found.groups()):
        raise ValueError(f'{value!r} is not a duration: write e.g. "15m", "4h", "2d" or "1h30m"')
    days, hours, minutes = (int(part or 0) for part in found.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _window(text: str) -> tuple[time, time]:
    found = _WINDOW.match(text)
    if not found:
        raise ValueError(f'{text!r} is not a window: write "09:00-17:00"')
    h1, m1, h2, m2 = (int(part) for part in found.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{text!r} is not a time of day")
    start, end = time(h1, m1), time(0, 0) if h2 == 24 else time(h2, m2)
    if end != time(0, 0) and end <= start:
        raise ValueError(f"{text!r} ends before it starts (a window stays within one day)")
    return start, end


class CalendarConfig(_Section):
    """Working hours: a time zone, windows per weekday, holidays."""

    timezone: str
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[str]]
    holidays: list[date] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone(value)

    @field_validator("hours")
    @classmethod
    def _windows(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, windows in value.items():
            parsed = sorted(_window(w) for w in windows)
            for (_, end), (start, _) in pairwise(parsed):
                if end == time(0, 0) or end > start:
                    raise ValueError(f"{day}: windows overlap")
        return value

    def windows(self) -> dict[int, list[tuple[time, time]]]:
        """Gets the working windows per weekday (0 = Monday)."""
        return {WEEKDAYS.index(day): [_window(w) for w in ws] for day, ws in self.hours.items()}


class TierSla(_Section):
    """The response deadline for one tier."""

    respond_within: Duration
    calendar: str = "24x7"
    warn_before: Duration | None = None

    @model_validator(mode="after")
    def _warn_inside(self) -> TierSla:
        if self.respond_within <= timedelta(0):
            raise ValueError("respond_within must be more than zero")
        if (
            self.warn_before is not None
            and not timedelta(0) < self.warn_before < self.respond_within
        ):
            raise ValueError("warn_before must be more than zero and less than respond_within")
        return self


class EscalationLevel(_Section):
    """One step of the escalation ladder, measured from the deadline."""

    after: Duration = timedelta(0)
    notify: Literal["manager", "channel"]
    reassign: bool = False


class SlaConfig(_Section):
    """Response deadlines per tier, their calendars, and the escalation ladder."""

    version: str | None = None
    calendars: dict[str, CalendarConfig] = {}
    tiers: dict[Tier, TierSla] = {}
    escalation: list[EscalationLevel] = []
    escalation_channel: str | None = None
    # After Accept, the rep owes a first outcome ("How did it go?") within this much time
    # on `feedback_calendar`; one reminder follows `feedback_reminder_after` later.
    ask_feedback: bool = True
    feedback_within: Duration = timedelta(hours=48)
    feedback_reminder_after: Duration = timedelta(hours=24)
    feedback_calendar: str = "24x7"

    @model_validator(mode="after")
    def _consistent(self) -> SlaConfig:
        for tier, sla in self.tiers.items():
            if sla.calendar != "24x7" and sla.calendar not in self.calendars:
                known = ", ".join(["24x7", *self.calendars])
                raise ValueError(
                    f"tiers.{tier.value}.calendar: no calendar {sla.calendar!r} (known: {known})"
                )
        if self.feedback_calendar != "24x7" and self.feedback_calendar not in self.calendars:
            known = ", ".join(["24x7", *self.calendars])
            raise ValueError(
                f"feedback_calendar: no calendar {self.feedback_calendar!r} (known: {known})"
            )
        if self.feedback_within <= timedelta(0) or self.feedback_reminder_after <= timedelta(0):
            raise ValueError("feedback_within and feedback_reminder_after must be more than zero")
        afters = [level.after for level in self.escalation]
        if afters != sorted(afters):
            raise ValueError("escalation levels must be in order of `after`")
        if (
            any(level.notify == "channel" for level in self.escalation)
            and not self.escalation_channel
        ):
            raise ValueError('a level notifies "channel": set sla.escalation_channel')
        return self

    def policy_version(self) -> str:
        """Gets the version stored with each deadline: `version`, else a digest of the policy."""
        if self.version:
            return self.version
        digest = hashlib.sha256(self.model_dump_json().encode()).hexdigest()
        return f"sla-{digest[:10]}"


class DigestConfig(_Section):
    """When the weekly digest is posted, in the team's time zone, and where."""

    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    channel: str | None = None


class CalibrationConfig(_Section):
    """Where the monthly score-to-revenue report goes (default: sla.escalation_channel)."""

    channel: str | None = None


class HandoffConfig(_Section):
    """The whole config file. Each command asks only for the sections it uses."""

    scoring: ScoringRules | None = None
    team: TeamConfig | None = None
    sla: SlaConfig | None = None
    digest: DigestConfig = DigestConfig()
    calibration: CalibrationConfig = CalibrationConfig()
    crm: CrmConfig = CrmConfig()
    webhooks: WebhooksConfig = WebhooksConfig()
    reject_reasons: list[RejectReason] = Field(default=DEFAULT_REJECT_REASONS, min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> HandoffConfig:
        codes = [reason.code for reason in self.reject_reasons]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValueError(f"reject reason codes must be unique; repeated: {', '.join(repeated)}")
        return self


def report_channel(config: HandoffConfig) -> str | None:
    """Gets where the monthly revenue report goes: [calibration] channel, else
    sla.escalation_channel; None when neither is set (it is not for the reps' channel)."""
    return config.calibration.channel or (config.sla.escalation_channel if config.sla else None)
