"""What a benchmark reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Result:
    """One measured number, its unit, and the target it is held to (if any)."""

    name: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        """Tells whether the target was met (None when there is no target)."""
        if self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def verdict(self) -> str:
        """Gets "ok", "BELOW TARGET" or "" for the table."""
        return {None: "", True: "ok", False: "BELOW TARGET"}[self.met]

    def to_dict(self) -> dict[str, Any]:
        """Gets the result as written to bench-report.json."""
        return {
            "name": self.name,
            "value": round(self.value, 3),
            "unit": self.unit,
            "target": self.target,
            "higher_is_better": self.higher_is_better,
            "met": self.met,
            **({"details": self.details} if self.details else {}),
        }
