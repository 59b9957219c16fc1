"""The config's CRM and webhook sections: [crm.hubspot], [crm.salesforce] and
[[webhooks.out]]. Secrets never sit here: they come from the environment."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrmStatuses(_Section):
    """The status a CRM record gets at each moment of the hand-off ("" sets none)."""

    handed_off: str = ""
    accepted: str = ""
    rejected_nurture: str = ""
    rejected_disqualify: str = ""
    feedback_connected: str = ""
    feedback_meeting_booked: str = ""
    feedback_no_answer_yet: str = ""
    feedback_not_a_fit: str = ""


# HubSpot's standard contact properties, and the lead field each one fills.
HUBSPOT_FIELDS = {
    "email": "email",
    "firstname": "first_name",
    "lastname": "last_name",
    "jobtitle": "title",
    "company": "company",
    "numemployees": "employees",
    "industry": "industry",
    "country": "country",
    "hs_analytics_source": "source",
}
HUBSPOT_STATUSES = CrmStatuses(
    handed_off="NEW",
    accepted="IN_PROGRESS",
    rejected_nurture="BAD_TIMING",
    rejected_disqualify="UNQUALIFIED",
    feedback_connected="CONNECTED",
    feedback_meeting_booked="CONNECTED",
    feedback_no_answer_yet="ATTEMPTED_TO_CONTACT",
    feedback_not_a_fit="UNQUALIFIED",
)
SALESFORCE_STATUSES = CrmStatuses(
    handed_off="Open - Not Contacted",
    accepted="Working - Contacted",
    rejected_nurture="Closed - Not Converted",
    rejected_disqualify="Closed - Not Converted",
    feedback_not_a_fit="Closed - Not Converted",
)


_URL = r"^https?://[^\s/$.?#][^\s]*$"


class _WithStatuses(_Section):
    """A CRM section whose `status` table is laid over the CRM's defaults."""

    @field_validator("status", mode="before", check_fields=False)
    @classmethod
    def _over_defaults(cls, value: Any) -> Any:
        defaults = cls.model_fields["status"].default
        if isinstance(value, dict) and isinstance(defaults, CrmStatuses):
            return {**defaults.model_dump(), **value}  # the others keep their defaults
        return value


class HubSpotConfig(_WithStatuses):
    """HubSpot: contacts in as leads, hand-off decisions out (HUBSPOT_ACCESS_TOKEN and
    HUBSPOT_CLIENT_SECRET from the environment)."""

    api_url: str = Field(default="https://api.hubapi.com", pattern=_URL)
    portal_id: int | None = Field(default=None, ge=1)
    # The URL HubSpot calls for /webhooks/hubspot, as HubSpot signs it (behind a proxy
    # the app cannot see it); default: the URL of the request.
    public_url: str | None = Field(default=None, pattern=_URL)
    fields: dict[str, str] = HUBSPOT_FIELDS  # contact property -> lead field (or attribute)
    activities: dict[str, str] = {}  # contact property whose changes are activities -> kind
    status: CrmStatuses = HUBSPOT_STATUSES  # hs_lead_status
    lifecycle: CrmStatuses = CrmStatuses()  # lifecyclestage: only where set, never backwards
    won_stages: list[str] = ["closedwon"]  # deal stage ids
    lost_stages: list[str] = ["closedlost"]

    def record_url(self, contact_id: str) -> str | None:
        """Gets the link to a contact's record in HubSpot (None without portal_id)."""
        if self.portal_id is None:
            return None
        return f"https://app.hubspot.com/contacts/{self.portal_id}/record/0-1/{contact_id}"


class SalesforceConfig(_WithStatuses):
    """Salesforce: hand-off decisions out to Leads (SALESFORCE_CLIENT_ID,
    SALESFORCE_CLIENT_SECRET, SALESFORCE_REFRESH_TOKEN from the environment)."""

    login_url: str = Field(default="https://login.salesforce.com", pattern=_URL)
    api_version: str = Field(default="v62.0", pattern=r"^v\d{2,3}\.0$")
    status: CrmStatuses = SALESFORCE_STATUSES


class CrmConfig(_Section):
    """The CRMs the hand-off reads from and writes to."""

    hubspot: HubSpotConfig | None = None
    salesforce: SalesforceConfig | None = None


LEAD_EVENTS = (
    "lead.handed_off",
    "handoff.accepted",
    "handoff.rejected",
    "handoff.breached",
    "handoff.moved",
    "lead.feedback",
)
LeadEventName = Literal[
    "lead.handed_off",
    "handoff.accepted",
    "handoff.rejected",
    "handoff.breached",
    "handoff.moved",
    "lead.feedback",
]


class WebhookOut(_Section):
    """One receiver of signed event webhooks (Standard Webhooks)."""

    url: str = Field(pattern=_URL)
    events: list[LeadEventName] = list(LEAD_EVENTS)  # type: ignore[arg-type]
    secret_env: str = Field(default="HANDOFF_WEBHOOK_SECRET", pattern=r"^[A-Z_][A-Z0-9_]*$")


class WebhooksConfig(_Section):
    """Webhooks the app sends."""

    out: list[WebhookOut] = []
