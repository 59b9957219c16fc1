"""How each vendor's refusal is read: wait, retry or give up, with what it said."""

from __future__ import annotations

import httpx

from bot.crm.http import refusal


def answer(status: int, body: object, **headers: str) -> httpx.Response:
    request = httpx.Request("PATCH", "https://api.example.test/crm/v3/objects/contacts/1")
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_hubspots_ten_second_limit_waits_ten_seconds_unless_told_otherwise() -> None:
    body = {
        "status": "error",
        "message": "You have reached your ten_secondly_rolling limit.",
        "errorType": "RATE_LIMIT",
        "policyName": "TEN_SECONDLY_ROLLING",
        "category": "RATE_LIMITS",
    }
    error = refusal("HubSpot", answer(429, body))
    assert (error.retry_after, error.permanent, error.code) == (10.0, False, "RATE_LIMITS")
    assert refusal("HubSpot", answer(429, body, **{"Retry-After": "3"})).retry_after == 3.0
    daily = {**body, "message": "You have reached your daily limit.", "policyName": "DAILY"}
    assert refusal("HubSpot", answer(429, daily)).retry_after == 3600.0


def test_salesforce_errors_are_read_from_their_list() -> None:
    body = [
        {
            "message": "Status: bad value for restricted picklist field: Working",
            "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "fields": ["Status"],
        }
    ]
    error = refusal("Salesforce", answer(400, body), fix="Check [crm.salesforce.status]")
    assert error.permanent
    assert error.code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert "bad value for restricted picklist field: Working. Check" in error.hint
    limit = [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]
    assert refusal("Salesforce", answer(403, limit)).retry_after == 3600.0
    down = [{"errorCode": "SERVER_UNAVAILABLE", "message": "Server unavailable"}]
    outage = refusal("Salesforce", answer(503, down))
    assert (outage.permanent, outage.retry_after) == (False, None)


def test_an_oauth_refusal_and_a_bare_receiver_say_what_they_said() -> None:
    oauth = {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    error = refusal("Salesforce login", answer(400, oauth))
    assert (error.code, error.permanent) == ("invalid_grant", True)
    assert "expired access/refresh token" in error.hint
    request = httpx.Request("POST", "https://hooks.example.test/in")
    gone = refusal("Webhook receiver", httpx.Response(404, text="no such hook", request=request))
    assert (gone.code, gone.permanent) == ("http_404", True)
    assert "no such hook" in gone.hint


def test_an_absurd_retry_after_is_capped_or_ignored() -> None:
    body = {"status": "error", "message": "slow down", "category": "RATE_LIMITS"}
    assert refusal("HubSpot", answer(429, body, **{"Retry-After": "1e12"})).retry_after == 3600.0
    assert refusal("HubSpot", answer(429, body, **{"Retry-After": "inf"})).retry_after == 10.0
    assert refusal("HubSpot", answer(429, body, **{"Retry-After": "nan"})).retry_after == 10.0


def test_a_record_id_that_is_not_the_crms_is_refused_not_sent() -> None:
    import pytest

    from bot.crm.http import CrmError
    from bot.crm.hubspot import HubSpot
    from bot.crm.salesforce import Salesforce

    hub = HubSpot(api_url="http://127.0.0.1:9", token="t")
    with pytest.raises(CrmError, match="not a HubSpot record id"):
        hub.update_contact("1/../../deals/5", {"hs_lead_status": "NEW"})
    sf = Salesforce("http://127.0.0.1:9", "v62.0", "i", "s", "r", access_token="x")
    with pytest.raises(CrmError, match="not a Salesforce record id"):
        sf.update_lead("00Q/../User/005", {"Status": "x"})
    hub.close()
    sf.close()
