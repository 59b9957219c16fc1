"""`handoff crm check`: each configured CRM called once, and what is wrong said plainly
(the token, the scopes, reps the CRM does not know, status values it does not have)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from standardwebhooks import Webhook

from bot.config import CrmStatuses, HandoffConfig, RepConfig, Settings
from bot.crm.http import CrmError
from bot.crm.hubspot import HubSpot
from bot.crm.salesforce import Salesforce
from bot.crm.setup import crm_clients

Found = tuple[bool, str]  # (fine, what was found)


def check_crms(
    settings: Settings,
    config: HandoffConfig,
    environ: Callable[[str], str | None] = os.environ.get,
) -> Iterator[Found]:
    """Checks each configured CRM and webhook; yields (fine, what it found)."""
    hubspot, salesforce = crm_clients(settings, config)
    reps = config.team.reps if config.team is not None else []
    try:
        if config.crm.hubspot is not None:
            if hubspot is None:
                yield False, "HubSpot: HUBSPOT_ACCESS_TOKEN is not set"
            else:
                yield from _hubspot(hubspot, config.crm.hubspot.status, reps)
            if not settings.hubspot_client_secret:
                yield (
                    False,
                    (
                        "HubSpot: HUBSPOT_CLIENT_SECRET is not set: /webhooks/hubspot refuses "
                        "every event (it cannot check their signatures)"
                    ),
                )
        if config.crm.salesforce is not None:
            if salesforce is None:
                missing = ", ".join(settings.missing_for_salesforce())
                yield False, f"Salesforce: {missing} not set"
            else:
                yield from _salesforce(salesforce, config.crm.salesforce.status, reps)
        for hook in config.webhooks.out:
            secret = environ(hook.secret_env)
            try:
                Webhook(secret or "")
                yield True, f"Webhook {hook.url}: signed with ${hook.secret_env}"
            except Exception:
                yield (
                    False,
                    (f"Webhook {hook.url}: ${hook.secret_env} is not set to a whsec_… secret"),
                )
        if config.crm.hubspot is None and config.crm.salesforce is None and not config.webhooks.out:
            yield True, "No [crm.hubspot], [crm.salesforce] or [[webhooks.out]]: nothing to check"
    finally:
        for client in (hubspot, salesforce):
            if client is not None:
                client.close()


@dataclass(frozen=True)
class _Service:
    """What the check asks of one CRM."""

    name: str
    works: str  # said when the cheap call succeeds
    id_key: str  # the [[team.reps]] key naming the rep in this CRM
    user: str  # what this CRM calls a user who can own records
    status: str  # its status field
    check: Callable[[], None]
    lookup: Callable[[str], str | None]
    allowed: Callable[[], list[str]]


def _hubspot(hub: HubSpot, statuses: CrmStatuses, reps: list[RepConfig]) -> Iterator[Found]:
    service = _Service(
        "HubSpot",
        "the token works and may read owners",
        "hubspot_owner_id",
        "owner",
        "hs_lead_status",
        hub.check,
        hub.owner_id,
        hub.lead_statuses,
    )
    yield from _service(service, statuses, reps)


def _salesforce(sf: Salesforce, statuses: CrmStatuses, reps: list[RepConfig]) -> Iterator[Found]:
    service = _Service(
        "Salesforce",
        "the connected app's refresh token works",
        "salesforce_user_id",
        "active user",
        "Lead Status",
        sf.check,
        sf.user_id,
        sf.lead_statuses,
    )
    yield from _service(service, statuses, reps)


def _service(service: _Service, statuses: CrmStatuses, reps: list[RepConfig]) -> Iterator[Found]:
    try:
        service.check()
    except CrmError as error:
        yield False, f"{service.name}: {error.hint or error}"
        return
    yield True, f"{service.name}: {service.works}"
    for rep in reps:
        if getattr(rep, service.id_key):
            continue
        if not rep.email:
            yield False, f"{service.name}: rep {rep.name} has no email and no {service.id_key}"
        elif service.lookup(rep.email) is None:
            yield (
                False,
                (
                    f"{service.name}: no {service.user} has {rep.email} ({rep.name}): "
                    f"set {service.id_key}"
                ),
            )
    yield from _statuses(service.name, service.status, statuses, set(service.allowed()))


def _statuses(service: str, name: str, statuses: CrmStatuses, allowed: set[str]) -> Iterator[Found]:
    unknown = {k: v for k, v in statuses.model_dump().items() if v and v not in allowed}
    for moment, value in unknown.items():
        yield (
            False,
            (
                f"{service}: {name} {value!r} (for {moment}) is not one of "
                f"{', '.join(sorted(allowed))}"
            ),
        )
    if not unknown:
        yield True, f"{service}: every {name} the config names exists"
