"""Progress output for long commands: a single updating line on a terminal, nothing otherwise.

Piped or captured output (CI, `> file`) gets no progress noise; the command's final
summary is always printed by the command itself.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts work done and redraws one status line at most every `interval` seconds."""

    def __init__(
        self,
        label: str,
        *,
        total: int | None = None,
        stream: TextIO | None = None,
        interval: float = 0.2,
    ) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval
        self.done = 0
        self.started = time.monotonic()
        self._drawn_at = 0.0

    def advance(self, count: int = 1) -> None:
        """Records `count` more items done, redrawing the line when it is due."""
        self.done += count
        if self.enabled and time.monotonic() - self._drawn_at >= self.interval:
            self._draw()

    def close(self) -> None:
        """Clears the status line (the caller prints its own summary)."""
        if self.enabled and self._drawn_at:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def _draw(self) -> None:
        self._drawn_at = time.monotonic()
        elapsed = max(self._drawn_at - self.started, 1e-9)
        rate = self.done / elapsed
        if self.total:
            share = min(self.done / self.total, 1.0)
            filled = int(share * 24)
            bar = "#" * filled + "-" * (24 - filled)
            text = f"{self.label} [{bar}] {self.done:,}/{self.total:,} ({rate:,.0f}/s)"
        else:
            text = f"{self.label} {self.done:,} ({rate:,.0f}/s)"
        self.stream.write("\r\033[K" + text)
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
