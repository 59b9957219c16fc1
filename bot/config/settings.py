"""Deployment settings and secrets, from the environment (never from the config file)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from standardwebhooks import Webhook

from store.db import DEFAULT_URL

MIN_TOKEN_LENGTH = 32  # secrets.token_urlsafe(32) gives 43
MAKE_TOKEN = "import secrets; print(secrets.token_urlsafe(32))"


class Settings(BaseSettings):
    """Environment variables the processes read. Names are the variables' own."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    database_url: str = Field(default=DEFAULT_URL, validation_alias="DATABASE_URL")
    handoff_api_token: SecretStr | None = Field(default=None, validation_alias="HANDOFF_API_TOKEN")
    port: int = Field(default=8080, ge=0, le=65535, validation_alias="PORT")
    host: str = Field(default="127.0.0.1", validation_alias="HOST")
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    hubspot_access_token: SecretStr | None = Field(
        default=None, validation_alias="HUBSPOT_ACCESS_TOKEN"
    )
    hubspot_client_secret: SecretStr | None = Field(
        default=None, validation_alias="HUBSPOT_CLIENT_SECRET"
    )
    salesforce_client_id: str | None = Field(default=None, validation_alias="SALESFORCE_CLIENT_ID")
    salesforce_client_secret: SecretStr | None = Field(
        default=None, validation_alias="SALESFORCE_CLIENT_SECRET"
    )
    salesforce_refresh_token: SecretStr | None = Field(
        default=None, validation_alias="SALESFORCE_REFRESH_TOKEN"
    )
    handoff_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="HANDOFF_WEBHOOK_SECRET"
    )
    # How long the worker lease lives without renewal: a worker that dies or freezes is
    # replaced within this time (renewed every third of it).
    handoff_lease_ttl_s: float = Field(
        default=30.0, ge=3, le=600, validation_alias="HANDOFF_LEASE_TTL_S"
    )

    def missing_for_salesforce(self) -> list[str]:
        """Gets the names of the Salesforce settings that are not set."""
        needed = {
            "SALESFORCE_CLIENT_ID": self.salesforce_client_id,
            "SALESFORCE_CLIENT_SECRET": self.salesforce_client_secret,
            "SALESFORCE_REFRESH_TOKEN": self.salesforce_refresh_token,
        }
        return [name for name, value in needed.items() if not _given(value)]

    def missing_for_slack(self) -> list[str]:
        """Gets the names of the Slack settings that are not set (empty when ready)."""
        needed = {"SLACK_BOT_TOKEN": self.slack_bot_token}
        if self.slack_app_token is None:  # HTTP mode: Slack's requests are signed
            needed["SLACK_SIGNING_SECRET"] = self.slack_signing_secret
        return [
            name for name, value in needed.items() if value is None or not value.get_secret_value()
        ]

    def missing_for_serve(self) -> list[str]:
        """Gets a line per setting `handoff serve` needs but does not have."""
        problems = []
        make = f"export HANDOFF_API_TOKEN=$(python3 -c '{MAKE_TOKEN}')"
        token = self.handoff_api_token.get_secret_value() if self.handoff_api_token else ""
        if not token:
            problems.append(
                "HANDOFF_API_TOKEN is not set: intake clients send it as "
                f"`Authorization: Bearer <token>`. Set it to a long random string, e.g. {make}"
            )
        elif len(token) < MIN_TOKEN_LENGTH:
            problems.append(
                f"HANDOFF_API_TOKEN has {len(token)} characters: use at least "
                f"{MIN_TOKEN_LENGTH}, so that it cannot be guessed. Make one with: {make}"
            )
        if _given(self.handoff_webhook_secret):
            assert self.handoff_webhook_secret is not None
            try:
                Webhook(self.handoff_webhook_secret.get_secret_value())
            except Exception:
                problems.append(
                    "HANDOFF_WEBHOOK_SECRET is not a Standard Webhooks secret: use whsec_ "
                    "followed by base64 of 24 to 64 random bytes, e.g. "
                    "whsec_$(python3 -c 'import secrets, base64; "
                    "print(base64.b64encode(secrets.token_bytes(32)).decode())')"
                )
        return problems


def _given(value: SecretStr | str | None) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value())
    return bool(value)
