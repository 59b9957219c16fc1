"""Configuration: the TOML file a revenue-ops admin owns, and the environment.

- `models`: the sections (`[scoring]`, `[team]`, `[sla]`, `[digest]`…) as pydantic models;
- `loader`: finds and reads the file, every problem as `FILE:LINE: key.path: reason`;
- `tomllines`: line numbers of keys, for those messages;
- `settings`: deployment settings and secrets from the environment.

May import: `scoring` (the rules model) and `store.db` (the default database URL). It is
the lowest layer of `bot`: everything else may import it, it imports no other `bot`
package.
"""

from bot.config.crm import (
    LEAD_EVENTS,
    CrmConfig,
    CrmStatuses,
    HubSpotConfig,
    SalesforceConfig,
    WebhookOut,
)
from bot.config.loader import (
    DEFAULT_PATH,
    ENV_VAR,
    Config,
    ConfigError,
    find_config,
    load_config,
    parse_config,
)
from bot.config.models import (
    DEFAULT_REJECT_REASONS,
    WEEKDAYS,
    CalendarConfig,
    CalibrationConfig,
    DigestConfig,
    Disposition,
    EscalationLevel,
    HandoffConfig,
    RejectReason,
    RepConfig,
    SlaConfig,
    TeamConfig,
    TierSla,
    parse_duration,
    report_channel,
)
from bot.config.settings import Settings

__all__ = [
    "DEFAULT_PATH",
    "DEFAULT_REJECT_REASONS",
    "ENV_VAR",
    "LEAD_EVENTS",
    "WEEKDAYS",
    "CalendarConfig",
    "CalibrationConfig",
    "Config",
    "ConfigError",
    "CrmConfig",
    "CrmStatuses",
    "DigestConfig",
    "Disposition",
    "EscalationLevel",
    "HandoffConfig",
    "HubSpotConfig",
    "RejectReason",
    "RepConfig",
    "SalesforceConfig",
    "Settings",
    "SlaConfig",
    "TeamConfig",
    "TierSla",
    "WebhookOut",
    "find_config",
    "load_config",
    "parse_config",
    "parse_duration",
    "report_channel",
]
