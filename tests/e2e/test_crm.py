"""`handoff serve` with HubSpot configured, against the CRM stand-in, over real HTTP, on
SQLite and PostgreSQL: a signed batch becomes a lead, a card and writes to the contact,
through a short HubSpot outage."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx

from bot.crm.hubspot import signature_v3
from bot.sandbox.crm_standin import CrmStandIn
from bot.sandbox.standin_hubspot import HUBSPOT_TOKEN
from tests.bot.crm.conftest import ALICE_OWNER, CONFIG, HUBSPOT_SECRET, contact_event
from tests.helpers import running_serve, wait_for

TOKEN = "e2e-token-0123456789abcdef0123456789"


def test_a_signed_hubspot_batch_reaches_the_contact_through_an_outage(
    tmp_path: Path, database_url: str
) -> None:
    with CrmStandIn() as standin:
        standin.add_owner(ALICE_OWNER, "alice@acme.test")
        standin.add_contact("501", email="pat@bigco.test", numemployees="250", country="US")
        (tmp_path / "handoff.toml").write_text(CONFIG.format(url=standin.url))
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "HANDOFF_API_TOKEN": TOKEN,
            "HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
            "HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET,
        }
        # The contact's first write fails twice (503), then goes through.
        standin.fail("/crm/v3/objects/contacts/501", status=503, times=2)
        with running_serve(tmp_path, env) as url:
            body = json.dumps([contact_event(501, 1)]).encode()
            stamp = str(int(time.time() * 1000))
            signature = signature_v3(
                secret=HUBSPOT_SECRET,
                method="POST",
                uri=f"{url}/webhooks/hubspot",
                body=body,
                timestamp=stamp,
            )
            headers = {
                "Content-Type": "application/json",
                "X-HubSpot-Signature-v3": signature,
                "X-HubSpot-Request-Timestamp": stamp,
            }
            with httpx.Client(base_url=url, timeout=10) as client:
                first = client.post("/webhooks/hubspot", content=body, headers=headers)
                again = client.post("/webhooks/hubspot", content=body, headers=headers)
                forged = client.post(
                    "/webhooks/hubspot",
                    content=body,
                    headers={**headers, "X-HubSpot-Signature-v3": signature[::-1]},
                )
            assert (first.json(), again.json()) == (
                {"received": 1, "new": 1},
                {"received": 1, "new": 0},
            )
            assert forged.status_code == 401
            # The worker reads the contact (503 twice: backs off), scores and hands it off,
            # then writes its owner and status.
            contact = standin.contacts["501"]
            wait_for(lambda: contact.get("hs_lead_status") == "NEW", timeout=40)
            assert contact["hubspot_owner_id"] == ALICE_OWNER
            writes = list(standin.calls_to("PATCH", "^/crm/v3/objects/contacts/501$"))
            assert len(writes) == 1  # once, after the outage
