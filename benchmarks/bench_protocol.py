"""protocol_lib's costs: the server's hot path and login scaling. Prints numbers.

Run: .venv/bin/python benchmarks/bench_protocol.py   (about 30 s, no network)

Every figure is compared with a baseline measured in the same run, so the
ratios mean something even on a loaded machine.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transitions import Machine

from protocol_lib import RateLimit, ServerConfig, ServerCore, parse_client
from protocol_lib.session import TRANSITIONS

MSG = b"msg,hello everyone, this is a chat line of ordinary length"
N = 200_000


def per_call(fn, n: int = N, repeat: int = 5) -> float:
    """Best-of-``repeat`` seconds per call of ``fn`` (best, to shed scheduling noise)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def hot_path() -> None:
    print("== server hot path: one msg datagram from a logged-in user ==")
    addr = ("10.0.0.1", 5000)
    baseline = per_call(lambda: MSG.decode().partition(","))
    parse = per_call(lambda: parse_client(MSG))
    rows = [("bytes.decode + partition (floor)", baseline), ("parse_client", parse)]
    for label, limit in (("off", None), ("on", RateLimit(burst=1e12, per_second=1e12))):
        core = ServerCore(ServerConfig(rate_limit=limit))
        core.receive(b"login,bob", addr, 0.0)
        t = [0.0]

        def step(core=core, t=t) -> None:
            t[0] += 1e-6
            core.receive(MSG, addr, t[0])

        rows.append((f"ServerCore.receive (rate limit {label})", per_call(step)))
    for label, seconds in rows:
        print(f"  {label:40s} {seconds * 1e6:7.2f} us  ({seconds / parse:5.2f}x parse)")


def _login_all(core: ServerCore, count: int, marks: dict[int, float] | None = None) -> None:
    batch = 1000
    t0 = time.perf_counter()
    for i in range(count):
        if i % batch == 0:
            t0 = time.perf_counter()
        addr = (f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", 4000)
        core.receive(f"login,user{i}".encode(), addr, 0.0)
        if marks is not None and (i + 1) in (1000, count):
            marks[i + 1] = (time.perf_counter() - t0) / batch


def login_scaling() -> None:
    print("== login scaling: sessions are not registered with the transitions Machine ==")
    marks: dict[int, float] = {}
    core = ServerCore(ServerConfig(rate_limit=None, max_sessions=100_000))
    _login_all(core, 100_000, marks)
    assert len(core.users) == 100_000
    for n, seconds in marks.items():
        print(f"  per login, the 1,000 logins up to {n:>7,} sessions: {seconds * 1e6:6.1f} us")
    del core
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    core = ServerCore(ServerConfig(rate_limit=RateLimit(), max_sessions=100_000))
    _login_all(core, 100_000)
    memory = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    print(f"  memory per session (session, indexes, rate bucket): {memory / 100_000:6.0f} bytes")

    print("== contrast: transitions Machine.add_model per call ==")
    for existing in (1_000, 10_000):
        machine = Machine(model=None, states=["new", "active"], initial="new",
                          transitions=TRANSITIONS, auto_transitions=False)  # fmt: skip
        models = [type("M", (), {})() for _ in range(existing + 200)]
        for m in models[:existing]:
            machine.add_model(m)
        t0 = time.perf_counter()
        for m in models[existing:]:
            machine.add_model(m)
        per_add = (time.perf_counter() - t0) / 200
        print(f"  add_model with {existing:>6,} models: {per_add * 1e6:8.1f} us")


if __name__ == "__main__":
    print(f"Python {sys.version.split()[0]}")
    hot_path()
    login_scaling()
