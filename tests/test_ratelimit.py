"""Token buckets with injected time: no sleeping."""

from __future__ import annotations

import pytest

from protocol_lib import RateLimit, RateLimiter


def test_burst_then_refill_at_the_rate():
    limiter = RateLimiter(RateLimit(burst=5, per_second=2))
    assert [limiter.allow("a", 0.0) for _ in range(7)] == [True] * 5 + [False] * 2
    assert not limiter.allow("a", 0.4)  # 0.8 of a token
    assert limiter.allow("a", 0.5)  # a whole token since the last refusal time
    assert not limiter.allow("a", 0.5)
    assert [limiter.allow("a", 100.0) for _ in range(6)] == [True] * 5 + [False]


def test_sources_are_limited_apart():
    limiter = RateLimiter(RateLimit(burst=1, per_second=1))
    assert limiter.allow("a", 0.0) and limiter.allow("b", 0.0)
    assert not limiter.allow("a", 0.0)


def test_memory_is_bounded_under_many_sources():
    limiter = RateLimiter(RateLimit(burst=2, per_second=1), max_sources=1000)
    for i in range(50_000):
        limiter.allow(("10.0.0.1", i), i * 1e-6)
    assert len(limiter) <= 1000


@pytest.mark.parametrize(("burst", "rate"), [(0, 1), (1, 0), (5, -1)])
def test_nonsense_limits_are_refused(burst, rate):
    with pytest.raises(ValueError):
        RateLimit(burst, rate)
