"""Failed console logins, limited per client address (a token bucket per address)."""

from __future__ import annotations

import threading
import time

_MAX_ADDRESSES = 10_000


class LoginLimiter:
    """At most ``per_minute`` failed logins a minute from one address, in bursts of as many.

    A failure takes a token; tokens come back at ``per_minute`` a minute. An address with
    none left is refused before its key is looked at, until ``retry_after`` passes. Full
    buckets are forgotten when the table grows past 10,000 addresses.
    """

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _tokens(self, address: str, now: float) -> float:
        tokens, at = self._buckets.get(address, (self.capacity, now))
        return min(self.capacity, tokens + (now - at) * self.rate)

    def retry_after(self, address: str) -> float:
        """Seconds until ``address`` may try again (0: it may now)."""
        with self._lock:
            tokens = self._tokens(address, time.monotonic())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def failed(self, address: str) -> None:
        """Count one failed login from ``address``."""
        now = time.monotonic()
        with self._lock:
            self._buckets[address] = (max(0.0, self._tokens(address, now) - 1.0), now)
            if len(self._buckets) > _MAX_ADDRESSES:
                self._buckets = {
                    a: b for a, b in self._buckets.items() if self._tokens(a, now) < self.capacity
                }
