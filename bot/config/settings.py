"""Deployment settings and secrets, from the environment (never from the config file)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    # How long the worker lease lives without renewal: a worker that dies or freezes is
    # replaced within this time (renewed every third of it).
    handoff_lease_ttl_s: float = Field(
        default=30.0, ge=3, le=600, validation_alias="HANDOFF_LEASE_TTL_S"
    )

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
        return problems
