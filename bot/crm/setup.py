"""Builds the CRM sender from the config and the environment's secrets."""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from bot.config import HandoffConfig, Settings
from bot.crm.deliver import CrmDeliverer
from bot.crm.hubspot import HubSpot
from bot.crm.salesforce import Salesforce

log = logging.getLogger(__name__)


def crm_deliverer(settings: Settings, engine: Engine, config: HandoffConfig) -> CrmDeliverer:
    """Gets the CRM sender: HubSpot with HUBSPOT_ACCESS_TOKEN, Salesforce with its three
    secrets, webhooks as [[webhooks.out]] says. A configured CRM without its secrets is
    said once here; what it should have received waits in the outbox, dead, with the
    same words, until `handoff outbox retry`."""
    hubspot, salesforce = crm_clients(settings, config)
    return CrmDeliverer(
        engine=engine,
        config=config,
        rules=config.scoring,
        hubspot=hubspot,
        salesforce=salesforce,
    )


def crm_clients(
    settings: Settings, config: HandoffConfig
) -> tuple[HubSpot | None, Salesforce | None]:
    """Gets a client for each configured CRM whose secrets are set."""
    hubspot = salesforce = None
    spec = config.crm.hubspot
    if spec is not None:
        token = settings.hubspot_access_token
        if token is not None and token.get_secret_value():
            hubspot = HubSpot(api_url=spec.api_url, token=token.get_secret_value())
        else:
            log.warning("[crm.hubspot] is set but HUBSPOT_ACCESS_TOKEN is not: nothing goes out")
    sf = config.crm.salesforce
    if sf is not None:
        missing = settings.missing_for_salesforce()
        if missing:
            log.warning("[crm.salesforce] is set but %s not: nothing goes out", ", ".join(missing))
        else:
            assert settings.salesforce_client_id is not None
            assert settings.salesforce_client_secret is not None
            assert settings.salesforce_refresh_token is not None
            salesforce = Salesforce(
                login_url=sf.login_url,
                api_version=sf.api_version,
                client_id=settings.salesforce_client_id,
                client_secret=settings.salesforce_client_secret.get_secret_value(),
                refresh_token=settings.salesforce_refresh_token.get_secret_value(),
            )
    return hubspot, salesforce
