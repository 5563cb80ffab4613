"""One hostile host against the chat: what it can make the server and every client do.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_hostile.py [--quick]
     [--baseline REV]   (default: 634fa50, the last revision before the caps; "" skips it)

Everything stays on loopback.  Server attacks run the sans-I/O ``ServerCore`` in
this process (the decisions are all there; no socket can change them):

- sessions: logins from one source IP on 25,000 ports each, from 4 IPs;
- amplification: bytes the server sends to the group per byte of the worst request
  (one ``list,`` to the fullest roster the attacker could build), and for five
  of them (the rate limit's burst);
- memory: what the sessions cost (tracemalloc);
- the rate limiter's cost per datagram under source churn, this design beside
  the previous one (a full-table scan when full), both copied into this run.

"Before" is the same core configured as it was before the caps (no session
caps, no list budget).  The client attack runs the real Qt client (a
``ChatWindow`` with its worker thread and ``app.exec()``) in a child process
fed 100,000 datagrams on a loopback multicast group, measuring catch-up time,
the longest event-loop stall (a 5 ms heartbeat timer) and peak memory; with
``--baseline`` the same child runs from a git worktree of that revision.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["LANCHAT_NO_MDNS"] = "1"  # windows made here look for no chats: loopback only

from protocol_lib import RateLimit, RateLimiter, SendToGroup, ServerConfig, ServerCore  # noqa: E402
from protocol_lib.io.net import group_sender  # noqa: E402

LOOPBACK = "127.0.0.1"
UNCAPPED = ServerConfig(
    rate_limit=None,
    max_sessions_per_host=10**9,
    max_sessions=10**9,
    list_budget=RateLimit(burst=1e12, per_second=1e12),
)


# --- server -------------------------------------------------------------------


def fill(core: ServerCore, hosts: int, per_host: int) -> int:
    """Log in ``per_host`` names from each of ``hosts`` IPs; return how many were welcomed."""
    welcomed = 0
    for h in range(hosts):
        ip = f"10.9.0.{h + 1}"
        for port in range(per_host):
            out = core.receive(b"login,u%d_%d" % (h, port), (ip, 1024 + port), 0.0)
            welcomed += any(type(a) is SendToGroup for a in out)
    return welcomed


def list_amplification(core: ServerCore, requests: int) -> tuple[int, int]:
    """Bytes multicast for one ``list,`` and for ``requests`` of them in a row."""
    addr = core.address_of(core.users[-1]) if core.users else ("10.9.0.1", 1024)
    assert addr is not None
    totals = []
    for i in range(requests):
        out = core.receive(b"list,", addr, 1.0 + i * 0.01)
        totals.append(sum(len(a.data) for a in out if type(a) is SendToGroup))
    return totals[0], sum(totals)


def server_attacks(per_host: int) -> None:
    print(f"Server: logins from 4 IPs x {per_host:,} ports, then list requests from one of them")
    header = f"{'welcomed':>9s} {'per IP':>8s} {'memory':>9s} {'list, x1':>12s} {'x5':>10s}"
    print(f"  {'':22s} {header}")
    for label, config in (("before (no caps)", UNCAPPED), ("now (defaults)", ServerConfig())):
        config = ServerConfig(**{**_fields(config), "rate_limit": None})
        gc.collect()
        tracemalloc.start()
        core = ServerCore(config)
        welcomed = fill(core, 4, per_host)
        memory = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        one, five = list_amplification(core, 5)
        per_ip = max(core._per_host.values())
        print(
            f"  {label:22s} {welcomed:>9,} {per_ip:>8,} {memory / 1e6:>7.1f}MB "
            f"{one:>8,} B ({one // 5:,}x) {five:>8,} B"
        )
    print("  (x = bytes multicast per byte of the 5-byte request)")


def _fields(config: ServerConfig) -> dict:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}


class ScanningLimiter(RateLimiter):
    """The previous design, for contrast: when full, scan every bucket for refilled ones."""

    def __init__(self, limit: RateLimit, max_sources: int = 65536) -> None:
        super().__init__(limit, max_sources)
        self._buckets: dict = {}

    def allow(self, key, now: float) -> bool:  # type: ignore[override]
        bucket = self._buckets.get(key)
        limit = self.limit
        if bucket is None:
            if len(self._buckets) >= self.max_sources:
                self._buckets = {
                    k: b
                    for k, b in self._buckets.items()
                    if b[0] + (now - b[1]) * limit.per_second < limit.burst
                }
                if len(self._buckets) >= self.max_sources:
                    self._buckets = dict(list(self._buckets.items())[len(self._buckets) // 2 :])
            self._buckets[key] = [limit.burst - 1.0, now]
            return True
        tokens = min(limit.burst, bucket[0] + (now - bucket[1]) * limit.per_second)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return False
        bucket[0] = tokens - 1.0
        return True

    def __len__(self) -> int:
        return len(self._buckets)


def limiter_churn(datagrams: int, budget: float = 10.0) -> None:
    print(f"Rate limiter (65,536 sources): up to {datagrams:,} datagrams, two per source,")
    print(f"at a given number of new sources a second (each run stops after {budget:.0f} s)")
    print(f"  {'new sources/s':>14s} {'scan (before)':>15s} {'generations (now)':>18s}")
    for churn in (1_000, 131_000, 160_000, 163_000, 163_800, 300_000):
        row = []
        for cls in (ScanningLimiter, RateLimiter):
            limiter = cls(RateLimit())
            step = 1.0 / (2 * churn)  # two datagrams per new source
            t0 = time.perf_counter()
            done = 0
            while done < datagrams and time.perf_counter() - t0 < budget:
                for i in range(done, done + 1000):
                    limiter.allow((i >> 1, 5), i * step)
                done += 1000
            row.append((time.perf_counter() - t0) / done * 1e6)
        print(f"  {churn:>14,} {row[0]:>12.2f} us {row[1]:>15.2f} us")


# --- client ---------------------------------------------------------------------

CHILD = Path(__file__).resolve().parent / "client_child.py"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def client_attack(root: Path, mode: str, count: int, rate: float, timeout: float) -> dict:
    group, port = f"239.255.{os.getpid() % 250 + 1}.{99 if mode == 'welcome' else 98}", free_port()
    progress = "welcome" if mode == "welcome" else "lines"
    args = [sys.executable, str(CHILD), str(root), group, str(port), str(count), progress]
    proc = subprocess.Popen([*args, str(timeout)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY"
    sender = group_sender(LOOPBACK, ttl=0)
    start = time.monotonic()
    for i in range(count):
        data = b"welcome,user%d" % i if mode == "welcome" else b"\xff junk %d \x00" % i
        sender.sendto(data, (group, port))
        if i % 500 == 499:  # paced, so the kernel buffer, not the pace, is the test
            delay = start + (i + 1) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    sender.close()
    line = proc.stdout.readline()
    proc.wait(timeout + 30)
    return json.loads(line) if line else {}


def client_attacks(count: int, rate: float, baseline: str, timeout: float) -> None:
    print(f"Client (real Qt window, offscreen): {count:,} datagrams offered at {rate:,.0f}/s")
    header = f"{'catch-up':>9s} {'processed':>10s} {'longest stall':>14s} {'>100ms':>7s}"
    print(f"  {'':30s} {header} {'memory':>17s}")
    roots = [("now", ROOT)]
    worktree = None
    if baseline:
        worktree = Path(tempfile.mkdtemp(prefix="lanchat-baseline-"))
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "-q", "--detach", str(worktree), baseline], check=True)
        roots.insert(0, (f"before ({baseline})", worktree))
    try:
        for mode in ("welcome", "junk"):
            for label, root in roots:
                r = client_attack(root, mode, count, rate, timeout)
                late = " (timed out)" if r.get("timed_out") else ""
                print(
                    f"  {mode + ' ' + label:30s} {r['catch_up']:>7.1f} s {r['done']:>10,} "
                    f"{r['stall_ms']:>11.0f} ms {r['stalls_100ms']:>7,} "
                    f"{r['rss0_mb']:>5.0f} -> {r['peak_mb']:>5.0f} MB{late}"
                )
    finally:
        if worktree is not None:
            git = ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)]
            subprocess.run(git, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--baseline", default="634fa50", help="git revision to compare ('' skips)")
    parser.add_argument("--timeout", type=float, default=150.0, help="seconds per client run")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; all traffic on 127.0.0.1\n")
    server_attacks(25_000 // scale)
    print()
    limiter_churn(1_000_000 // scale)
    print()
    client_attacks(100_000 // scale, 25_000.0, args.baseline, args.timeout)


if __name__ == "__main__":
    main()
