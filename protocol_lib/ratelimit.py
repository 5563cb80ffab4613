"""Per-source token buckets: a flood from one address cannot crowd out the rest.

Time is passed in (``now``, seconds on any monotonic clock), so limits are
tested without sleeping.  The default follows IRC servers: a burst of 5, then
2 datagrams a second, which a person typing never reaches.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket's shape: ``burst`` datagrams at once, ``per_second`` after."""

    burst: float = 5.0
    per_second: float = 2.0

    def __post_init__(self) -> None:
        if not (self.burst >= 1 and self.per_second > 0):
            raise ValueError("a rate limit needs burst >= 1 and per_second > 0")


class RateLimiter:
    """Token buckets keyed by source; memory stays bounded under spoofed floods.

    A bucket that has refilled is the same as no bucket, so when the table
    grows past ``max_sources`` the full ones are forgotten; if a flood from
    that many distinct sources keeps them all busy, the oldest half goes.
    """

    __slots__ = ("limit", "max_sources", "_buckets")

    def __init__(self, limit: RateLimit, max_sources: int = 65536) -> None:
        self.limit = limit
        self.max_sources = max_sources
        self._buckets: dict[Hashable, list[float]] = {}  # key -> [tokens, last_now]

    def allow(self, key: Hashable, now: float) -> bool:
        """Take one token for ``key`` at time ``now``; False when none is left."""
        bucket = self._buckets.get(key)
        limit = self.limit
        if bucket is None:
            if len(self._buckets) >= self.max_sources:
                self._shrink(now)
            self._buckets[key] = [limit.burst - 1.0, now]
            return True
        tokens = bucket[0] + (now - bucket[1]) * limit.per_second
        if tokens > limit.burst:
            tokens = limit.burst
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return False
        bucket[0] = tokens - 1.0
        return True

    def __len__(self) -> int:
        return len(self._buckets)

    def _shrink(self, now: float) -> None:
        limit = self.limit
        self._buckets = {
            k: b
            for k, b in self._buckets.items()
            if b[0] + (now - b[1]) * limit.per_second < limit.burst
        }
        if len(self._buckets) >= self.max_sources:
            keep = list(self._buckets.items())[len(self._buckets) // 2 :]
            self._buckets = dict(keep)
