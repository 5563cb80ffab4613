"""Federation's price, in one run: cross-site against same-site delivery, and the local
relay with federation on against off.  Prints two tables.

Run: .venv/bin/python benchmarks/bench_federation.py   (about 2 minutes; needs nats-server)

Everything is on 127.0.0.1: a nats-server with JetStream in a temporary store, two
sites (our server, each with its own port and multicast group), a paced load
generator logged in at site A and one listener in each site's group.  Lines carry
their send time (CLOCK_MONOTONIC ns), so each listener measures latency:
- same site: generator -> A -> A's group;
- cross site: generator -> A -> broker (JetStream publish) -> B's consumer -> B's group.
Then our server alone at 20,000 lines/s with and without ``--federation``,
alternating, repeated: its CPU per line (the federation thread included) and the
local group's latency, which is what the users at the site feel.  Last, how long
the federation takes to heal after a broker restart and after losing a cluster node.
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # bench_server; ROOT also gives tests.helpers_nats

from bench_server import (  # noqa: E402
    LOOPBACK,
    cpu_seconds,
    drain_output,
    free_port,
    generator,
    listener,
    quantile_ms,
)

GROUPS = {"labA": "239.255.78.1", "labB": "239.255.78.2"}


def nats_server(store: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("nats-server")
    if binary is None:
        sys.exit("nats-server is not installed (scripts/setup test installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "-js", "-a", LOOPBACK, "-p", str(port), "-sd", str(store)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    ready_then_drain(proc, "Server is ready")
    return proc, f"nats://{LOOPBACK}:{port}"


def site(name: str, port: int, group_port: int, broker: str | None) -> subprocess.Popen:
    args = [sys.executable, "-m", "server_app", "--host", LOOPBACK, "--port", str(port),
            "--group", GROUPS[name], "--group-port", str(group_port),
            "--interface", LOOPBACK, "--ttl", "1", "--no-rate-limit",
            "--max-sessions-per-host", "100000"]  # fmt: skip
    if broker is not None:
        args += ["--federation", broker, "--site", name]
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    ready_then_drain(proc, "connected to the federation" if broker is not None else "ready")
    return proc


def ready_then_drain(proc: subprocess.Popen, wanted: str) -> None:
    """Wait for the line saying ``proc`` is ready, then keep its output flowing."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if wanted in line:
            break
    drain_output(proc)


def run_load(port: int, listeners: dict[str, tuple[str, int]], rate: int, seconds: float,
             drain: float = 1.0) -> dict:  # fmt: skip
    """Offer ``rate`` lines/s at ``port``; what each listener saw, with latencies (ms)."""
    ctx = mp.get_context("fork")
    stop = ctx.Event()
    procs, queues = {}, {}
    for name, (group, group_port) in listeners.items():
        ready, queues[name] = ctx.Event(), ctx.Queue()
        procs[name] = ctx.Process(
            target=listener, args=(group_port, b"msg,u", ready, queues[name], stop, group)
        )
        procs[name].start()
        ready.wait(5)
    gres = ctx.Queue()
    gen = ctx.Process(target=generator, args=(port, 10, rate, seconds, gres))
    gen.start()
    sent, elapsed = gres.get(timeout=seconds * 5 + 30)
    gen.join(10)
    time.sleep(drain)  # lines still on their way (through the broker, for the other site)
    stop.set()
    out: dict = {"sent": sent, "offered": sent / elapsed}
    for name, q in queues.items():
        seen, latencies = q.get(timeout=10)
        procs[name].join(10)
        out[name] = {
            "seen": seen,
            "p50": quantile_ms(latencies, 0.5),
            "p99": quantile_ms(latencies, 0.99),
        }
    return out


def cross_site(broker: str) -> None:
    ports = {name: (free_port(), free_port()) for name in GROUPS}
    sites = {name: site(name, *ports[name], broker) for name in GROUPS}
    try:
        listeners = {name: (GROUPS[name], ports[name][1]) for name in GROUPS}
        print("\nCross-site against same-site delivery (generator logged in at labA)")
        print("| offered lines/s | labA group: got, p50, p99 | labB group (via the broker): "
              "got, p50, p99 |")  # fmt: skip
        print("|---|---|---|")
        for rate in (1_000, 5_000, 10_000, 20_000):
            r = run_load(ports["labA"][0], listeners, rate, 2.0, drain=2.0)
            cells = [
                f"{r[n]['seen'] / r['sent']:.1%}, {r[n]['p50']:.2f} ms, {r[n]['p99']:.2f} ms"
                for n in GROUPS
            ]
            print(f"| {r['offered']:,.0f} | {cells[0]} | {cells[1]} |", flush=True)
    finally:
        for proc in sites.values():
            proc.kill()
            proc.wait()


def relay_cost(broker: str, rate: int = 20_000, repetitions: int = 3) -> None:
    print(f"\nThe local relay at {rate:,} lines/s, 3 s, federation off and on (alternating)")
    print("| server | CPU per line (median) | x off (median, spread) | local p50 | local p99 | "
          "lines relayed |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    results: dict[str, list[dict]] = {"off": [], "on": []}
    for _ in range(repetitions):
        for mode in ("off", "on"):
            port, group_port = free_port(), free_port()
            proc = site("labA", port, group_port, broker if mode == "on" else None)
            try:
                cpu0 = cpu_seconds(proc.pid)
                start = time.monotonic()
                r = run_load(port, {"labA": (GROUPS["labA"], group_port)}, rate, 3.0, 0.5)
                cpu = cpu_seconds(proc.pid) - cpu0
                r["cpu_us"] = cpu / max(1, r["labA"]["seen"]) * 1e6
                r["wall"] = time.monotonic() - start
            finally:
                proc.kill()
                proc.wait()
            results[mode].append(r)
    for mode in ("off", "on"):
        rs = results[mode]
        ratios = [a["cpu_us"] / b["cpu_us"] for a, b in zip(rs, results["off"], strict=True)]
        print(f"| federation {mode} | {median(r['cpu_us'] for r in rs):.1f} us | "
              f"{median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) | "
              f"{median(r['labA']['p50'] for r in rs):.2f} ms | "
              f"{median(r['labA']['p99'] for r in rs):.2f} ms | "
              f"{median(r['labA']['seen'] / r['sent'] for r in rs):.1%} |",
              flush=True)  # fmt: skip


def faults(repetitions: int = 3) -> None:
    """How long the federation takes to heal: a broker restarted with its store, and the
    cluster node a site is connected to killed.  Uses the tests' helpers (real processes)."""
    from tests.helpers_nats import NatsServer, Site, free_tcp_port

    print("\nHealing after a fault (a line sent at site labA, timed until labB's group has it)")
    print("| fault | seconds, each repetition |")
    print("|---|---|")
    restart, node_loss = [], []
    for _ in range(repetitions):
        with tempfile.TemporaryDirectory(prefix="lanchat-bench-nats-") as tmp:
            store = Path(tmp)
            broker = NatsServer(store / "single").start()
            a, b = Site("labA", broker.url).start(), Site("labB", broker.url).start()
            try:
                alice = a.login("alice")
                b.expect(b"welcome,alice")
                broker.kill()
                a.log_line("cut off")
                alice.send(b"msg,during the outage")
                start = time.monotonic()
                broker.start()
                b.expect(b"msg,alice: during the outage", 60)
                restart.append(time.monotonic() - start)
            finally:
                a.close()
                b.close()
                broker.kill()
            ports = [free_tcp_port() for _ in range(3)]
            nodes = [NatsServer(store / "c", f"n{i}", ports[i], tuple(ports)) for i in range(3)]
            for node in nodes:
                node.start()
            urls, extra = [n.url for n in nodes], ("--federation-replicas", "3")
            a, b = (
                Site("labA", *urls, extra=extra).start(),
                Site("labB", *urls, extra=extra).start(),
            )
            try:
                alice = a.login("alice")
                alice.send(b"msg,warm")
                b.expect(b"msg,alice: warm", 30)
                [node_of_a] = [n for n in nodes if "lanchat-labA" in n.clients()]
                start = time.monotonic()
                node_of_a.kill()
                alice.send(b"msg,after the node died")
                b.expect(b"msg,alice: after the node died", 60)
                node_loss.append(time.monotonic() - start)
            finally:
                a.close()
                b.close()
                for node in nodes:
                    node.kill()
    print("| broker killed, restarted (same store): from the restart | "
          + ", ".join(f"{t:.2f}" for t in restart) + " |")  # fmt: skip
    print("| 3-node cluster, the node labA is on killed: from the kill | "
          + ", ".join(f"{t:.2f}" for t in node_loss) + " |", flush=True)  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="lanchat-bench-nats-") as store:
        proc, url = nats_server(Path(store))
        try:
            cross_site(url)
            relay_cost(url)
        finally:
            proc.kill()
            proc.wait()
    faults()


if __name__ == "__main__":
    main()
