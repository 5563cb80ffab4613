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


def test_a_busy_source_keeps_its_bucket_through_any_churn():
    """Churn of spoofed sources never hands a flooding source a fresh burst."""
    limiter = RateLimiter(RateLimit(burst=3, per_second=0.001), max_sources=100)
    assert [limiter.allow("flooder", 0.0) for _ in range(4)] == [True] * 3 + [False]
    for i in range(10_000):  # 200 generations of churn, the flooder sending between
        limiter.allow(("spoofed", i), 0.0)
        if i % 40 == 0:
            assert not limiter.allow("flooder", 0.0)
        assert len(limiter) <= 100


def test_a_source_silent_through_a_generation_of_churn_starts_afresh():
    limiter = RateLimiter(RateLimit(burst=1, per_second=0.001), max_sources=10)
    assert limiter.allow("quiet", 0.0) and not limiter.allow("quiet", 0.0)
    for i in range(10):  # two generations of 5 others: its bucket is forgotten
        limiter.allow(i, 0.0)
    assert limiter.allow("quiet", 0.0)


def test_a_limiter_needs_room():
    with pytest.raises(ValueError):
        RateLimiter(RateLimit(), max_sources=1)
