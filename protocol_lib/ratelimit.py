"""Per-source token buckets: a flood from one address cannot crowd out the rest.

Time is passed in (``now``, seconds on any monotonic clock), so limits are
tested without sleeping.

The default is a burst of 10, then 5 datagrams a second per client.  IRC's
flood control (a burst of 5, then one line every 2 s) was made to stop
scripts, and people trip over it: six quick replies ("ok", "lol", ...) within
a second, or a pasted paragraph, already exceed it.  10 then 5/s lets a fast
typist and a short paste through untouched, while a script still gets at
most 5 lines a second into the chat.  Our client paces itself a little under
whatever limit it is told (``client_pace``), so nothing it sends is refused.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket's shape: ``burst`` datagrams at once, ``per_second`` after."""

    burst: float = 10.0
    per_second: float = 5.0

    def __post_init__(self) -> None:
        if not (self.burst >= 1 and self.per_second > 0):
            raise ValueError("a rate limit needs burst >= 1 and per_second > 0")


class RateLimiter:
    """Token buckets keyed by source: O(1) per datagram, bounded memory, any churn.

    A bucket that has refilled is the same as no bucket, so buckets may be
    forgotten; the question is which and at what cost.  Buckets live in two
    generations of at most ``max_sources // 2`` each: a datagram looks in the
    young one, then moves its bucket up from the old one; when the young one
    is full, the old one is dropped whole and the young one becomes old.  So
    every datagram costs a dict lookup or two, never a scan, and a bucket is
    forgotten only after ``max_sources // 2`` other sources were seen since
    its own last datagram.  (The previous design scanned the whole table for
    refilled buckets when it was full: near 131k new sources a second that
    scan ran on almost every datagram, 181 us each instead of 5.)

    Forgetting a bucket gives that source a new burst; a flood that churns
    through tens of thousands of addresses already has a burst for each, so
    this gives it nothing it did not have.
    """

    __slots__ = ("limit", "max_sources", "_generation", "_young", "_old")

    def __init__(self, limit: RateLimit, max_sources: int = 65536) -> None:
        if max_sources < 2:
            raise ValueError("a rate limiter needs room for at least 2 sources")
        self.limit = limit
        self.max_sources = max_sources
        self._generation = max_sources // 2
        self._young: dict[Hashable, list[float]] = {}  # key -> [tokens, last_now]
        self._old: dict[Hashable, list[float]] = {}

    def allow(self, key: Hashable, now: float) -> bool:
        """Take one token for ``key`` at time ``now``; False when none is left."""
        bucket = self._young.get(key)
        limit = self.limit
        if bucket is None:
            bucket = self._old.pop(key, None)
            if len(self._young) >= self._generation:
                self._old = self._young
                self._young = {}
            if bucket is None:
                self._young[key] = [limit.burst - 1.0, now]
                return True
            self._young[key] = bucket
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
        return len(self._young) + len(self._old)


def client_pace(server_limit: RateLimit) -> RateLimit:
    """The pace a client keeps so that a server with ``server_limit`` never refuses it.

    A little under the server's limit: datagrams sent at the exact pace can
    arrive bunched (scheduling, the network), and a bucket that is short by a
    hair refuses the whole datagram.
    """
    return RateLimit(max(1.0, server_limit.burst - 2.0), server_limit.per_second * 0.9)


_EPSILON = 1e-9


class TokenBucket:
    """One token bucket that can also tell when its next token is due.

    For a sender pacing itself (the server's ``RateLimiter`` keeps one per
    source and never needs to look ahead).  ``force`` takes a token even when
    none is left, for datagrams that must not wait (leaving the chat): the
    debt delays what follows, as the server's own bucket would.
    """

    __slots__ = ("limit", "_tokens", "_last")

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._tokens = limit.burst
        self._last: float | None = None

    def _refill(self, now: float) -> None:
        if self._last is not None and now > self._last:
            self._tokens = min(
                self.limit.burst, self._tokens + (now - self._last) * self.limit.per_second
            )
        if self._last is None or now > self._last:
            self._last = now

    def take(self, now: float, amount: float = 1.0) -> bool:
        """Take ``amount`` tokens if there are; False means wait until ``ready_at``.

        An amount over ``burst`` is never granted.
        """
        self._refill(now)
        if self._tokens < amount - _EPSILON:  # at ready_at() exactly, rounding must not refuse
            return False
        self._tokens -= amount
        return True

    def force(self, now: float) -> None:
        """Take one token now, going into debt if there is none."""
        self._refill(now)
        self._tokens -= 1.0

    def ready_at(self) -> float:
        """The earliest time at which ``take`` succeeds (in the past if it would now)."""
        if self._last is None or self._tokens >= 1.0:
            return float("-inf") if self._last is None else self._last
        return self._last + (1.0 - self._tokens) / self.limit.per_second
