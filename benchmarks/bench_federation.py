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
local group's latency, which is what the users at the site feel (``--relay-only``: this
alone).  Then 2, 4 and 8 sites on one broker (``--sites 2 4 8 [--compare REV]``: this
alone, and REV's code in the same run): a site's CPU per remote line and the consumers
at the broker must not grow per site.  Last, how long the federation takes to heal after
a broker restart and after losing a cluster node.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
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
    revision_worktree,
)

GROUPS = {"labA": "239.255.78.1", "labB": "239.255.78.2"}


def nats_server(store: Path, monitor: int | None = None) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("nats-server")
    if binary is None:
        sys.exit("nats-server is not installed (scripts/setup test installs it)")
    port = free_port()
    watch = ["-m", str(monitor)] if monitor else []
    proc = subprocess.Popen(
        [binary, "-js", "-a", LOOPBACK, "-p", str(port), "-sd", str(store), *watch],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    ready_then_drain(proc, "Server is ready")
    return proc, f"nats://{LOOPBACK}:{port}"


def site(
    name: str, port: int, group_port: int, broker: str | None, root: Path = ROOT
) -> subprocess.Popen:
    group = GROUPS.get(name) or f"239.255.79.{int(name[3:]) + 1}"  # labN: the N-th site
    args = [sys.executable, "-m", "server_app", "--host", LOOPBACK, "--port", str(port),
            "--group", group, "--group-port", str(group_port),
            "--interface", LOOPBACK, "--ttl", "1", "--no-rate-limit",
            "--max-sessions-per-host", "100000"]  # fmt: skip
    if broker is not None:
        args += ["--federation", broker, "--site", name]
    proc = subprocess.Popen(
        args, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
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


def relay_cost(broker: str, rate: int = 20_000, repetitions: int = 3, compare: str = "") -> float:
    """Prints the table; returns this code's median CPU per line with federation off."""
    print(f"\nThe local relay at {rate:,} lines/s, 3 s, federation off and on (alternating)")
    print("| code | server | CPU per line (median) | x off (median, spread) | of it, threads "
          "beside the relay's | local p50 | local p99 | lines relayed |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    with contextlib.ExitStack() as stack:
        variants: list[tuple[str, Path]] = [("this", ROOT)]
        if compare:
            variants.append((compare, stack.enter_context(revision_worktree(compare))))
        results: dict[tuple[str, str], list[dict]] = {}
        for _ in range(repetitions):
            for label, root in variants:
                for mode in ("off", "on"):
                    r = _relay_once(broker if mode == "on" else None, root, rate)
                    results.setdefault((label, mode), []).append(r)
    for label, _root in variants:
        for mode in ("off", "on"):
            rs = results[label, mode]
            off = results[label, "off"]
            ratios = [a["cpu_us"] / b["cpu_us"] for a, b in zip(rs, off, strict=True)]
            print(f"| {label} | federation {mode} | {median(r['cpu_us'] for r in rs):.1f} us | "
                  f"{median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) | "
                  f"{median(r['beside_us'] for r in rs):.1f} us | "
                  f"{median(r['labA']['p50'] for r in rs):.2f} ms | "
                  f"{median(r['labA']['p99'] for r in rs):.2f} ms | "
                  f"{median(r['labA']['seen'] / r['sent'] for r in rs):.1%} |",
                  flush=True)  # fmt: skip
    return median(r["cpu_us"] for r in results["this", "off"])


def floor(broker: str, off_us: float, batch: int = 300) -> None:
    """The least that federation adds to a line in this design, each part timed alone
    (no threads, no waiting): the federated core's extra work, the line's share of
    encoding a batch, and of publishing it with its ack.  Against the relay's cost
    with federation off (``off_us``, the table above), this is how close to it an
    in-process federation can ever come."""
    import asyncio

    import nats

    from protocol_lib import ServerConfig, ServerCore
    from protocol_lib.federated_server import FederatedServerCore
    from protocol_lib.federation import (
        ClaimAnswered,
        ClaimName,
        ClaimOutcome,
        EventBatch,
        FederationConfig,
        LinkChanged,
        Publish,
    )

    line, addr = b"msg,an ordinary chat line of some forty bytes", ("127.0.0.1", 5000)

    def per_line(core: ServerCore, n: int = 100_000) -> float:
        for action in core.receive(b"login,u0", addr, 0.0):
            if isinstance(action, ClaimName):
                answer = ClaimAnswered("u0", addr, ClaimOutcome.GRANTED, None, False)
                core.federated(answer, 0.0)  # type: ignore[attr-defined]
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(n):
                core.receive(line, addr, 1.0)
            best = min(best, (time.perf_counter() - start) / n * 1e6)
        return best

    config = ServerConfig(rate_limit=None)
    federated = FederatedServerCore(config, FederationConfig("labA", time.time_ns(), 15.0))
    federated.federated(LinkChanged(True, ()), 0.0)
    core_us = per_line(federated) - per_line(ServerCore(config))
    events = [a.event for a in federated.receive(line, addr, 2.0) if isinstance(a, Publish)]
    events = [events[0]._replace(seq=events[0].seq + i) for i in range(batch)]
    start = time.perf_counter()
    for _ in range(200):
        data = EventBatch.of(events).data
    encode_us = (time.perf_counter() - start) / 200 / batch * 1e6

    async def publishing() -> float:
        nc = await nats.connect(broker)
        js = nc.jetstream(timeout=2.0)
        await js.add_stream(name="FLOOR", subjects=["floor.>"])
        start = time.thread_time()
        for i in range(300):
            await js.publish("floor.labA", data, headers={"Nats-Msg-Id": str(i)})
        spent = time.thread_time() - start
        await js.delete_stream("FLOOR")
        await nc.close()
        return spent / 300 / batch * 1e6

    publish_us = asyncio.run(publishing())
    total = core_us + encode_us + publish_us
    print(f"\nThe least federation adds to a line here, each part timed alone ({batch} lines "
          "a batch)")  # fmt: skip
    print("| the federated core's extra work | encoding | publish and ack | sum | "
          "x off at best |")  # fmt: skip
    print("|---|---|---|---|---|")
    print(f"| {core_us:.2f} us | {encode_us:.2f} us | {publish_us:.2f} us | {total:.2f} us | "
          f"{(off_us + total) / off_us:.2f} |", flush=True)  # fmt: skip


def _relay_once(broker: str | None, root: Path, rate: int) -> dict:
    """Our server (at ``root``) relaying ``rate`` lines/s for 3 s: its CPU per line; with
    federation on, a second site (idle) is in the federation too, as in any real one."""
    port, group_port = free_port(), free_port()
    other = site("labB", free_port(), free_port(), broker, root) if broker else None
    proc = site("labA", port, group_port, broker, root)
    try:
        cpu0, beside0 = cpu_seconds(proc.pid), beside_relay(proc.pid)
        r = run_load(port, {"labA": (GROUPS["labA"], group_port)}, rate, 3.0, 0.5)
        lines = max(1, r["labA"]["seen"])
        r["cpu_us"] = (cpu_seconds(proc.pid) - cpu0) / lines * 1e6
        r["beside_us"] = (beside_relay(proc.pid) - beside0) / lines * 1e6
    finally:
        for running in (proc, other):
            if running is not None:
                running.kill()
                running.wait()
    return r


def beside_relay(pid: int) -> float:
    """CPU seconds of ``pid``'s threads but its main one (the relay loop): the broker's
    thread with federation on, and the log's writer (idle under ``--quiet``-less load:
    the server logs nothing per line by default)."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        if task.name != str(pid):
            with contextlib.suppress(FileNotFoundError):
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def consumers(monitor: int) -> list[str]:
    import json
    import urllib.request

    url = f"http://{LOOPBACK}:{monitor}/jsz?accounts=true&streams=true&consumers=true"
    with urllib.request.urlopen(url, timeout=5) as reply:
        report = json.load(reply)
    return [
        c["name"]
        for account in report.get("account_details", [])
        for stream in account.get("stream_detail", [])
        for c in stream.get("consumer_detail", [])
    ]


def sites_run(count: int, root: Path, rate: int, seconds: float) -> dict:
    """``count`` sites on a fresh broker, lines offered at lab0; lab1's CPU per line it
    delivers (all remote), and how many consumers each site keeps at the broker."""
    with tempfile.TemporaryDirectory(prefix="lanchat-bench-nats-") as store:
        monitor = free_port()
        broker, url = nats_server(Path(store), monitor)
        names = [f"lab{i}" for i in range(count)]
        ports = {name: (free_port(), free_port()) for name in names}
        procs: dict[str, subprocess.Popen] = {}
        try:
            for name in names:
                procs[name] = site(name, *ports[name], url, root)
            time.sleep(2.0)  # every site heard (heartbeats), every reader started
            cpu0 = {name: cpu_seconds(proc.pid) for name, proc in procs.items()}
            listeners = {"lab1": ("239.255.79.2", ports["lab1"][1])}
            r = run_load(ports["lab0"][0], listeners, rate, seconds, drain=1.5)
            cpu = {name: cpu_seconds(proc.pid) - cpu0[name] for name, proc in procs.items()}
            seen = r["lab1"]["seen"]
            idle = [cpu[name] for name in names[2:]]
            return {
                "sites": count,
                "got": seen / max(1, r["sent"]),
                "cpu_us": cpu["lab1"] / max(1, seen) * 1e6,
                "idle_ms": (median(idle) / (seconds + 1.5) * 1000) if idle else float("nan"),
                "consumers": len(consumers(monitor)),
                "p99": r["lab1"]["p99"],
            }
        finally:
            for proc in [*procs.values(), broker]:
                proc.kill()
                proc.wait()


def flat_in_sites(counts: list[int], compare: str | None, rate: int = 2_000) -> None:
    """A site's CPU per remote line and the consumers at the broker, for 2, 4, 8 sites;
    with ``compare``, the same for our server at that revision, in the same run."""
    print(f"\nSites on one broker: lines offered at lab0 at {rate:,}/s for 3 s; lab1 delivers them")
    print("| code | sites | lab1 got | lab1 CPU per remote line | each other site's CPU, ms/s | "
          "consumers at the broker (per site) | lab1 p99 |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    variants: list[tuple[str, Path]] = [("this", ROOT)]
    with contextlib.ExitStack() as stack:
        if compare:
            variants.append((compare, stack.enter_context(revision_worktree(compare))))
        for count in counts:
            for label, root in variants:
                r = sites_run(count, root, rate, 3.0)
                print(f"| {label} | {count} | {r['got']:.1%} | {r['cpu_us']:.1f} us | "
                      f"{r['idle_ms']:.1f} | {r['consumers']} ({r['consumers'] / count:g}) | "
                      f"{r['p99']:.1f} ms |", flush=True)  # fmt: skip


def faults(repetitions: int = 3) -> None:
    """How long the federation takes to heal: a broker restarted with its store, and the
    cluster node a site is connected to killed.  Uses the tests' helpers (real processes)."""
    from tests.helpers_nats import FAILOVER_WAIT, NatsServer, Site, free_tcp_port

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
            for node in nodes:  # JetStream answers only once the cluster has chosen a leader
                node.wait_for_metadata_leader()
            urls, extra = [n.url for n in nodes], ("--federation-replicas", "3")
            a, b = (
                Site("labA", *urls, extra=extra).start(connect_wait=FAILOVER_WAIT),
                Site("labB", *urls, extra=extra).start(connect_wait=FAILOVER_WAIT),
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, nargs="+", help="only the sites table, for these")
    parser.add_argument("--compare", metavar="REV", help="REV's code too, in the same run")
    parser.add_argument("--relay-only", action="store_true", help="only the relay's cost")
    args = parser.parse_args()
    if args.sites:
        flat_in_sites(args.sites, args.compare)
        return
    with tempfile.TemporaryDirectory(prefix="lanchat-bench-nats-") as store:
        proc, url = nats_server(Path(store))
        try:
            if not args.relay_only:
                cross_site(url)
            off_us = relay_cost(url, compare=args.compare or "")
            floor(url, off_us)
        finally:
            proc.kill()
            proc.wait()
    if not args.relay_only:
        flat_in_sites([2, 4, 8], None)
        faults()


if __name__ == "__main__":
    main()
