"""The loop's wake-up policy: one wake-up per datagram at a human pace, batches under load."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server_app.wakeups import BUSY_GAP, BUSY_RUN, COALESCE_SECONDS, IDLE_BATCH, WakeUps


def arrivals(wakeups: WakeUps, start: float, gap: float, count: int) -> list[bool]:
    return [wakeups.woke(start + i * gap) for i in range(count)]


def test_a_human_pace_never_coalesces():
    wakeups = WakeUps()
    assert not any(arrivals(wakeups, 0.0, 0.01, 1000))


@given(st.lists(st.floats(min_value=BUSY_GAP, max_value=10.0), max_size=200))
def test_datagrams_never_closer_than_the_busy_gap_never_coalesce(gaps):
    wakeups, now = WakeUps(), 100.0
    for gap in gaps:
        now += gap
        assert not wakeups.woke(now)


def test_a_run_of_close_datagrams_starts_coalescing_and_counts_as_the_first_batch():
    wakeups = WakeUps()
    seen = arrivals(wakeups, 0.0, BUSY_GAP / 2, BUSY_RUN + 1)
    assert seen == [False] * BUSY_RUN + [True]  # the first has no gap before it
    assert wakeups.queue_empty() == COALESCE_SECONDS


def test_one_wide_gap_starts_the_run_over():
    wakeups = WakeUps()
    assert not any(arrivals(wakeups, 0.0, BUSY_GAP / 2, BUSY_RUN))
    assert not any(arrivals(wakeups, 1.0, BUSY_GAP / 2, BUSY_RUN))


def test_full_batches_keep_coalescing_and_a_thin_one_ends_it():
    wakeups = WakeUps()
    arrivals(wakeups, 0.0, BUSY_GAP / 2, BUSY_RUN + 1)
    assert wakeups.queue_empty() == COALESCE_SECONDS
    for _ in range(5):
        assert all(arrivals(wakeups, 1.0, 0.0, IDLE_BATCH))
        assert wakeups.queue_empty() == COALESCE_SECONDS
    assert all(arrivals(wakeups, 2.0, 0.0, IDLE_BATCH - 1))
    assert wakeups.queue_empty() is None
    assert not wakeups.coalescing
    # Back to a wake-up per datagram: even a close one starts only a new run.
    assert not wakeups.woke(2.0 + BUSY_GAP / 2)


def test_an_empty_batch_ends_coalescing():
    wakeups = WakeUps()
    arrivals(wakeups, 0.0, 0.0, BUSY_RUN + 1)
    wakeups.queue_empty()
    assert wakeups.queue_empty() is None
