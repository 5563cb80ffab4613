"""The loop's wake-up policy: one wake-up per datagram at a human pace, batches under load."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server_app.wakeups import BUSY_RUN, BUSY_WINDOW, COALESCE_SECONDS, IDLE_BATCH, WakeUps

CLOSE = BUSY_WINDOW / BUSY_RUN / 2  # a gap that, kept up, is twice the busy rate


def arrivals(wakeups: WakeUps, start: float, gap: float, count: int) -> list[bool]:
    return [wakeups.woke(start + i * gap) for i in range(count)]


def test_a_human_pace_never_coalesces():
    wakeups = WakeUps()
    assert not any(arrivals(wakeups, 0.0, 0.01, 1000))


@given(
    st.lists(
        st.floats(min_value=BUSY_WINDOW / (BUSY_RUN - 1) * 1.001, max_value=10.0), max_size=200
    )
)
def test_a_rate_under_the_busy_rate_never_coalesces(gaps):
    wakeups, now = WakeUps(), 100.0
    for gap in gaps:
        now += gap
        assert not wakeups.woke(now)


def test_a_busy_window_starts_coalescing_and_counts_as_the_first_batch():
    wakeups = WakeUps()
    seen = arrivals(wakeups, 0.0, CLOSE, BUSY_RUN)
    assert seen == [False] * (BUSY_RUN - 1) + [True]
    assert wakeups.queue_empty() == COALESCE_SECONDS


def test_bunched_arrivals_count_by_their_average_rate():
    """Pairs 1 us apart, a pair every BUSY_WINDOW / 5: busy on average, though every
    other gap is wide."""
    wakeups = WakeUps()
    times = sorted([i * BUSY_WINDOW / 5 for i in range(5)] + [i * BUSY_WINDOW / 5 + 1e-6
                                                              for i in range(5)])  # fmt: skip
    assert [wakeups.woke(t) for t in times][-1]


def test_a_window_that_ends_thin_starts_over():
    wakeups = WakeUps()
    assert not any(arrivals(wakeups, 0.0, CLOSE, BUSY_RUN - 1))
    assert not any(arrivals(wakeups, 1.0, CLOSE, BUSY_RUN - 1))


def test_full_batches_keep_coalescing_and_a_thin_one_ends_it():
    wakeups = WakeUps()
    arrivals(wakeups, 0.0, CLOSE, BUSY_RUN)
    assert wakeups.queue_empty() == COALESCE_SECONDS
    for _ in range(5):
        assert all(arrivals(wakeups, 1.0, 0.0, IDLE_BATCH))
        assert wakeups.queue_empty() == COALESCE_SECONDS
    assert all(arrivals(wakeups, 2.0, 0.0, IDLE_BATCH - 1))
    assert wakeups.queue_empty() is None
    assert not wakeups.coalescing
    # Back to a wake-up per datagram: even a close one only starts a new window.
    assert not wakeups.woke(2.0 + CLOSE)


def test_an_empty_batch_ends_coalescing():
    wakeups = WakeUps()
    arrivals(wakeups, 0.0, 0.0, BUSY_RUN)
    wakeups.queue_empty()
    assert wakeups.queue_empty() is None
