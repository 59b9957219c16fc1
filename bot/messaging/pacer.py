"""Pacing posts to Slack: about one message a second per channel, after a short burst, as
Slack's rate limits for chat.postMessage ask; a channel Slack answered 429 for is held
for as long as its Retry-After says."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

SPARE_S = 0.05  # added to a paced wait, so a post never reaches Slack before its slot


class Pacer:
    """A token bucket per channel: `rate` messages a second, bursts up to `burst`."""

    def __init__(
        self,
        *,
        rate: float = 1.0,
        burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate, self.burst = rate, burst
        self.clock, self.sleep = clock, sleep
        self.buckets: dict[str, tuple[float, float]] = {}
        self.resume_at: dict[str, float] = {}
        self.lock = threading.Lock()

    def pause(self, channel: str, seconds: float) -> None:
        """Holds a channel for `seconds` (Slack said to wait: a rate limit)."""
        self.resume_at[channel] = self.clock() + seconds

    def paused(self, channel: str) -> bool:
        """Tells whether a channel is held by a rate limit now."""
        return self.resume_at.get(channel, 0.0) > self.clock()

    def wait(self, channel: str) -> None:
        """Blocks until a message may go to `channel`, and takes its token. Senders in
        several threads share the bucket: each reserves its slot under the lock (the
        bucket may go below zero: the slots reserved ahead), then sleeps until it."""
        with self.lock:
            now = self.clock()
            tokens, stamp = self.buckets.get(channel, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - stamp) * self.rate)
            self.buckets[channel] = (tokens - 1, now)
        if tokens < 1:  # with a little to spare: a post can reach Slack early by the jitter
            self.sleep((1 - tokens) / self.rate + SPARE_S)
