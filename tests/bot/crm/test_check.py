"""`handoff crm check` against the stand-in: what works, and what to fix, in plain words."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.config import HandoffConfig, Settings
from bot.crm.check import check_crms
from bot.sandbox.crm_standin import CrmStandIn
from bot.sandbox.standin_hubspot import HUBSPOT_TOKEN
from bot.sandbox.standin_salesforce import SALESFORCE_CLIENT
from tests.bot.crm.conftest import ALICE_OWNER, ALICE_SF, CONFIG, WEBHOOK_SECRET

NO_ENV: dict[str, str] = {}


def settings(**secrets: str) -> Settings:
    """Settings as the environment would give them (the stand-in's secrets by default)."""
    values: dict[str, str] = {
        "HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
        "HUBSPOT_CLIENT_SECRET": "s",
        "SALESFORCE_CLIENT_ID": SALESFORCE_CLIENT[0],
        "SALESFORCE_CLIENT_SECRET": SALESFORCE_CLIENT[1],
        "SALESFORCE_REFRESH_TOKEN": SALESFORCE_CLIENT[2],
    }
    values.update({k.upper(): v for k, v in secrets.items()})
    return Settings.model_validate(values)


def test_a_working_set_up_is_all_fine() -> None:
    with CrmStandIn() as standin:
        standin.add_owner(ALICE_OWNER, "alice@acme.test")
        standin.add_sf_user(ALICE_SF, "alice@acme.test")
        standin.add_sf_user("005000000000003AAA", "ben@acme.test")
        config = HandoffConfig.model_validate(tomllib.loads(CONFIG.format(url=standin.url)))
        found = list(check_crms(settings(), config, {"HANDOFF_WEBHOOK_SECRET": WEBHOOK_SECRET}.get))
    assert all(fine for fine, _ in found), found
    assert (True, "HubSpot: every hs_lead_status the config names exists") in found


def test_wrong_token_unknown_reps_and_statuses_are_each_said() -> None:
    with CrmStandIn() as standin:
        text = CONFIG.format(url=standin.url) + '[crm.hubspot.status]\naccepted = "WORKING"\n'
        config = HandoffConfig.model_validate(tomllib.loads(text))
        found = {
            said: fine
            for fine, said in check_crms(
                settings(salesforce_refresh_token="revoked"), config, NO_ENV.get
            )
        }
        hubspot = [s for s in found if s.startswith("HubSpot") and not found[s]]
        assert "HubSpot: no owner has alice@acme.test (Alice): set hubspot_owner_id" in hubspot
        assert any("'WORKING' (for accepted) is not one of" in s for s in hubspot)
        (salesforce,) = [s for s in found if s.startswith("Salesforce")]
        assert "expired access/refresh token" in salesforce
        assert "SALESFORCE_REFRESH_TOKEN" in salesforce
        (hook,) = [s for s in found if s.startswith("Webhook")]
        assert "$HANDOFF_WEBHOOK_SECRET is not set" in hook
        bad = HandoffConfig.model_validate(tomllib.loads(CONFIG.format(url=standin.url)))
        said = [
            s for fine, s in check_crms(settings(hubspot_access_token="pat-wrong"), bad, NO_ENV.get)
        ]
        assert any("HubSpot answered 401" in s and "HUBSPOT_ACCESS_TOKEN" in s for s in said)


def test_the_command_prints_each_finding_and_exits_1_when_something_needs_fixing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    with CrmStandIn() as standin:
        standin.add_owner(ALICE_OWNER, "alice@acme.test")
        (tmp_path / "handoff.toml").write_text(CONFIG.format(url=standin.url))
        for name, value in {
            "HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
            "HUBSPOT_CLIENT_SECRET": "s",
            "SALESFORCE_CLIENT_ID": SALESFORCE_CLIENT[0],
            "SALESFORCE_CLIENT_SECRET": SALESFORCE_CLIENT[1],
            "SALESFORCE_REFRESH_TOKEN": SALESFORCE_CLIENT[2],
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("HANDOFF_WEBHOOK_SECRET", raising=False)
        code = main(["crm", "check", "--config", str(tmp_path / "handoff.toml")])
    out = capsys.readouterr().out
    assert code == 1
    assert "ok    HubSpot: the token works and may read owners" in out
    assert "FIX   Salesforce: no active user has alice@acme.test (Alice)" in out
    assert "FIX   Webhook " in out
    assert out.rstrip().endswith("thing(s) to fix.")
