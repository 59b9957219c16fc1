"""What the listeners work with, put into Bolt's context by one middleware."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from bot.config import RejectReason, SlaConfig, TeamConfig


@dataclass(frozen=True)
class Deps:
    """What the listeners work with."""

    engine: Engine
    team: TeamConfig
    reasons: list[RejectReason]
    clock: Callable[[], datetime]
    sla: SlaConfig | None = None
    wake_sender: Callable[[], None] = lambda: None
