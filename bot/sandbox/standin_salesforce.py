"""The Salesforce part of the CRM stand-in: the OAuth 2.0 refresh-token flow, Leads,
Tasks and SOQL on Users and LeadStatus, answered as Salesforce's REST API answers (and
refuses: `[{"errorCode", "message", "fields"}]`)."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.sandbox.crm_standin import Call, CrmStandIn

SALESFORCE_CLIENT = ("standin-client-id", "standin-client-secret", "standin-refresh-token")
SF_LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
Answer = tuple[int, dict[str, str], Any]
NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


def token_answer(standin: CrmStandIn, call: Call) -> Answer:
    """Answers the OAuth 2.0 refresh-token flow with a new session."""
    form = call.body if isinstance(call.body, dict) else {}
    given = (form.get("client_id"), form.get("client_secret"), form.get("refresh_token"))
    if form.get("grant_type") != "refresh_token" or given[0] != SALESFORCE_CLIENT[0]:
        return (
            400,
            {},
            {"error": "invalid_client_id", "error_description": "client identifier invalid"},
        )
    if given != SALESFORCE_CLIENT:
        return (
            400,
            {},
            {"error": "invalid_grant", "error_description": "expired access/refresh token"},
        )
    token = f"00D000000000001!standin.{next(standin.ids)}"
    with standin.lock:
        standin.sf_tokens.add(token)
    return (
        200,
        {},
        {
            "access_token": token,
            "instance_url": standin.url,
            "id": f"{standin.url}/id/00D000000000001AAA/005000000000001AAA",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "signature": "c3RhbmQtaW4=",
            "scope": "api refresh_token",
        },
    )


def _error(code: str, message: str, *fields: str) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"message": message, "errorCode": code}
    if fields:
        body["fields"] = list(fields)
    return [body]


def salesforce_answer(standin: CrmStandIn, call: Call) -> Answer:
    """Answers a REST call: 401 INVALID_SESSION_ID without a live token."""
    token = call.headers.get("authorization", "").removeprefix("Bearer ")
    rest = re.sub(r"^/services/data/v\d+\.\d+", "", call.path)
    lead = re.fullmatch(r"/sobjects/Lead/(\w+)", rest)
    with standin.lock:
        if token not in standin.sf_tokens:
            return 401, {}, _error("INVALID_SESSION_ID", "Session expired or invalid")
        if lead and call.method == "PATCH":
            return _patch_lead(standin, lead.group(1), call.body or {})
        if lead and call.method == "GET":
            record = standin.sf_leads.get(lead.group(1))
            return (200, {}, record) if record else (404, {}, NOT_FOUND)
        if rest == "/sobjects/Task" and call.method == "POST":
            fields = call.body or {}
            if fields.get("WhoId") not in standin.sf_leads:
                problem = "Name ID: id value of incorrect type"
                return 400, {}, _error("FIELD_INTEGRITY_EXCEPTION", problem, "WhoId")
            task_id = f"00T{next(standin.ids):012d}"
            standin.sf_tasks.append({"Id": task_id, **fields})
            return 201, {}, {"id": task_id, "success": True, "errors": []}
        if rest == "/query":
            return 200, {}, _soql(standin, call.query.get("q", ""))
        if rest == "/limits":
            return 200, {}, {"DailyApiRequests": {"Max": 15000, "Remaining": 14990}}
    return 404, {}, NOT_FOUND


def _patch_lead(standin: CrmStandIn, lead_id: str, fields: dict[str, Any]) -> Answer:
    record = standin.sf_leads.get(lead_id)
    if record is None:
        return 404, {}, NOT_FOUND
    status = fields.get("Status")
    if status is not None and status not in SF_LEAD_STATUSES:
        problem = f"Status: bad value for restricted picklist field: {status}"
        return 400, {}, _error("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", problem, "Status")
    owner = fields.get("OwnerId")
    if owner is not None and owner not in standin.sf_users.values():
        problem = f"Owner ID: id value of incorrect type: {owner}"
        return 400, {}, _error("FIELD_INTEGRITY_EXCEPTION", problem, "OwnerId")
    record.update(fields)
    return 204, {}, None


def _soql(standin: CrmStandIn, query: str) -> dict[str, Any]:
    user = re.search(r"FROM User WHERE Email = '((?:[^'\\]|\\.)*)'", query)
    if user:
        email = user.group(1).replace("\\'", "'").lower()
        found = standin.sf_users.get(email)
        records = [{"attributes": {"type": "User"}, "Id": found}] if found else []
    elif "FROM LeadStatus" in query:
        records = [
            {"attributes": {"type": "LeadStatus"}, "MasterLabel": s} for s in SF_LEAD_STATUSES
        ]
    else:
        records = []
    return {"totalSize": len(records), "done": True, "records": records}
