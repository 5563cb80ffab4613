"""Our server against a minimal blocking relay, same run, same loopback. Prints a table.

Run: .venv/bin/python benchmarks/bench_server.py   (about 2-3 minutes, loopback only)
     .venv/bin/python benchmarks/bench_server.py --compare REV   (about 2 minutes)
     our server now beside our server at git revision REV (a worktree), same run:
     CPU per relayed line at 20,000 lines/s, with the spec's log line per request.
     .venv/bin/python benchmarks/bench_server.py --logins [--compare REV]   (2-3 minutes)
     CPU per login into 1k/5k/20k held sessions: ours beside the minimal relay
     (and ours at git revision REV, alternating).
     .venv/bin/python benchmarks/bench_server.py --scraped   (about 1 minute)
     ours logging to a file, with and without a scraper reading --metrics every second.
     .venv/bin/python benchmarks/bench_server.py --fixed   (about 2 minutes)
     CPU per line at 20,000 lines/s: the minimal relay, a naive print-per-request
     server, ours logging to a file, ours --quiet; repeated, ratios and spread.

Three processes per measurement, so none steals the others' interpreter:
- the server under test (ours: ``python -m server_app --no-rate-limit`` with its
  log lines going to /dev/null; or the minimal relay below: recvfrom, dict
  lookup, sendto, the floor of what CPython can do);
- a load generator: N users, each with its own socket, sending ``msg,<seq> <t>``
  at a paced rate, where t is CLOCK_MONOTONIC in ns (shared by processes);
- a group listener joined on 127.0.0.1 that counts relays and latencies.
All multicast is pinned to 127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from protocol_lib.io.net import READ_SIZE, group_receiver, group_sender  # noqa: E402

LOOPBACK = "127.0.0.1"
GROUP = "239.255.77.77"
STEP_SECONDS = 1.5
GENERATOR_NAP = 0.0001  # seconds ahead of its schedule from which the generator sleeps
RATES = [10_000, 20_000, 30_000, 40_000, 45_000, 50_000, 55_000, 60_000, 65_000, 70_000,
         75_000, 80_000, 90_000, 100_000]  # fmt: skip


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


# --- the minimal relay --------------------------------------------------------


def minimal_relay(port: int, group_port: int) -> None:
    """The floor: recvfrom, a dict lookup, sendto. No validation, no logging."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOPBACK, port))
    out = group_sender(LOOPBACK, ttl=1)
    dest = (GROUP, group_port)
    users: dict[tuple[str, int], bytes] = {}
    print("Multiuser server is ready", flush=True)
    while True:
        data, addr = sock.recvfrom(1024)
        kind, _, body = data.partition(b",")
        if kind == b"msg":
            name = users.get(addr)
            if name is not None:
                out.sendto(b"msg," + name + b": " + body, dest)
        elif kind == b"login":
            users[addr] = body
            out.sendto(b"welcome," + body, dest)


def naive_server(port: int, group_port: int) -> None:
    """A typical implementation of the assignment: if/elif, a print per request."""
    from datetime import datetime

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOPBACK, port))
    out = group_sender(LOOPBACK, ttl=1)
    dest = (GROUP, group_port)
    users: dict[tuple[str, int], str] = {}
    print(f"Multiuser server is ready on {LOOPBACK}:{port}!", flush=True)
    while True:
        data, addr = sock.recvfrom(1024)
        text = data.decode()
        kind, _, body = text.partition(",")
        if kind == "login":
            users[addr] = body
            print(f"{datetime.now()} login request has arrived from {body}@{addr}")
            out.sendto(f"welcome,{body}".encode(), dest)
        elif kind == "msg":
            user = users.get(addr)
            if user is not None:
                print(f'{datetime.now()} msg "{body}" has arrived from user: {user}@{addr}')
                out.sendto(f"msg,{user}: {body}".encode(), dest)
        elif kind == "list":
            print(f"{datetime.now()} list request has arrived from user: {users.get(addr)}@{addr}")
            out.sendto(("list," + ",".join(users.values())).encode(), dest)
        elif kind == "exit":
            user = users.pop(addr, None)
            out.sendto(f"bye,{user}".encode(), dest)


def start_server(
    kind: str, port: int, group_port: int, root: Path = ROOT, log_to: Path | None = None
) -> subprocess.Popen:
    """Start one server; its output goes to ``log_to`` (a file) or to a drained pipe."""
    if kind.startswith("ours"):
        args = [sys.executable, "-m", "server_app", "--host", LOOPBACK, "--port", str(port),
                "--group", GROUP, "--group-port", str(group_port), "--interface", LOOPBACK,
                "--ttl", "1", "--no-rate-limit",
                "--max-sessions-per-host", "100000",  # all users are on 127.0.0.1
                "--max-sessions", "100000"]  # fmt: skip
        if kind == "ours --quiet":  # no log line per request: shows what the spec's log costs
            args.append("--quiet")
        if "scraped" in kind:  # --metrics on loopback; measure() scrapes it every second
            args += ["--metrics", f"{LOOPBACK}:{port}"]  # TCP: the UDP port's number is free
    else:
        mode = "--naive-server" if kind.startswith("naive") else "--minimal-relay"
        args = [sys.executable, str(Path(__file__).resolve()), mode,
                str(port), str(group_port)]  # fmt: skip
    if log_to is not None:
        with open(log_to, "wb") as log:
            proc = subprocess.Popen(args, cwd=root, stdout=log, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while b"ready" not in log_to.read_bytes():
            assert time.monotonic() < deadline and proc.poll() is None, "no ready line"
            time.sleep(0.01)
        return proc
    proc = subprocess.Popen(args, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert b"ready" in line, line
    drain_output(proc)
    return proc


def drain_output(proc: subprocess.Popen) -> None:
    """Read the rest of ``proc``'s output in a thread: a pipe nobody reads blocks the writer."""
    import threading

    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()


def quantile_ms(latencies_ns: list[int], q: float) -> float:
    """The ``q`` quantile in ms; NaN when nothing arrived."""
    if not latencies_ns:
        return float("nan")
    ordered = sorted(latencies_ns)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- listener and generator (child processes) ----------------------------------


def listener(
    group_port: int, expected_prefix: bytes, ready, results, stop, group: str = GROUP
) -> None:
    """Counts the lines starting with ``expected_prefix`` and their latencies (their last
    word is the send time, CLOCK_MONOTONIC ns)."""
    sock = group_receiver(group, group_port, LOOPBACK, timeout=0.2)
    ready.set()
    seen = 0
    latencies: list[int] = []
    while not stop.is_set():
        try:
            data = sock.recv(READ_SIZE)
        except TimeoutError:
            continue
        now = time.monotonic_ns()
        if not data.startswith(expected_prefix):
            continue
        try:
            sent_ns = int(data.rsplit(b" ", 1)[1])
        except (IndexError, ValueError):
            continue
        seen += 1
        if len(latencies) < 200_000:
            latencies.append(now - sent_ns)
    results.put((seen, latencies))


def generator(port: int, users: int, rate: int, seconds: float, results) -> None:
    """Send ``rate`` msg/s for ``seconds`` round-robin over ``users`` logged-in sockets."""
    socks = []
    for i in range(users):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((LOOPBACK, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        socks.append(s)
        s.sendto(f"login,u{i}".encode(), (LOOPBACK, port))
        if i % 200 == 199:
            time.sleep(0.01)  # let the server's buffer drain between login bursts
    time.sleep(0.3)  # logins are not measured; give the relays time to settle
    dest = (LOOPBACK, port)
    total = int(rate * seconds)
    start = time.monotonic()
    sent = 0
    while sent < total:
        due = min(total, int((time.monotonic() - start) * rate) + 1)
        while sent < due:
            socks[sent % users].sendto(b"msg,%d %d" % (sent, time.monotonic_ns()), dest)
            sent += 1
        ahead = sent / rate - (time.monotonic() - start)
        if ahead > GENERATOR_NAP:
            # Sleep rather than spin: a spinning generator held a core, and the server and
            # the listener queued for the other (p99 at 2k/s: 1-9 ms for every server,
            # the minimal relay too; sleeping: 0.1-0.9 ms). Above ~10k/s it never sleeps.
            time.sleep(ahead)
        if time.monotonic() - start > seconds * 3:
            break  # the generator cannot keep up: report what it sent
    elapsed = time.monotonic() - start
    results.put((sent, elapsed))
    for s in socks:
        s.close()


def scrape_every_second(port: int, done: threading.Event) -> int:
    """Prometheus' way: GET /metrics every second until ``done`` (bounded by the run)."""
    import urllib.request

    scrapes = 0
    while not done.wait(1.0) and scrapes < 600:
        with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/metrics", timeout=5) as reply:
            reply.read()
        scrapes += 1
    return scrapes


def measure(
    kind: str,
    users: int,
    rate: int,
    seconds: float = STEP_SECONDS,
    root: Path = ROOT,
    log_to: Path | None = None,
) -> dict:
    port, group_port = free_port(), free_port()
    server = start_server(kind, port, group_port, root, log_to)
    try:
        ctx = mp.get_context("fork")
        ready, stop = ctx.Event(), ctx.Event()
        lres, gres = ctx.Queue(), ctx.Queue()
        lp = ctx.Process(target=listener, args=(group_port, b"msg,u", ready, lres, stop))
        lp.start()
        ready.wait(5)
        cpu0 = cpu_seconds(server.pid)
        scraping = threading.Event()
        scraper = threading.Thread(target=scrape_every_second, args=(port, scraping))
        if "scraped" in kind:
            scraper.start()
        gp = ctx.Process(target=generator, args=(port, users, rate, seconds, gres))
        gp.start()
        sent, elapsed = gres.get(timeout=seconds * 5 + 30)
        gp.join(10)
        scraping.set()
        if scraper.is_alive():
            scraper.join(10)
        time.sleep(0.3)  # in-flight relays
        stop.set()
        seen, latencies = lres.get(timeout=10)
        lp.join(10)
        cpu = cpu_seconds(server.pid) - cpu0
    finally:
        server.kill()
        server.wait()
    return {
        "sent": sent, "seen": seen, "rate": sent / elapsed,
        "loss": 1 - seen / sent if sent else 0.0,
        "p50": quantile_ms(latencies, 0.5),
        "p99": quantile_ms(latencies, 0.99),
        "cpu": cpu / elapsed,
        "cpu_us": cpu / seen * 1e6 if seen else float("nan"),  # server CPU per relayed msg
    }  # fmt: skip


def generator_alone(users: int) -> float:
    """The generator's own ceiling, with nobody reading (the kernel drops what is not read)."""
    port = free_port()
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind((LOOPBACK, port))
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=generator, args=(port, users, 10_000_000, 0.5, q))
    p.start()
    sent, elapsed = q.get(timeout=60)
    p.join()
    sink.close()
    return sent / elapsed


def max_rate(kind: str, users: int, log_to: Path | None = None) -> dict:
    """The highest step with < 1% loss; a failed step is tried once more (the
    three processes share two cores, so one bad second is not a verdict)."""
    best = None
    for rate in RATES:
        for _attempt in range(2):
            result = measure(kind, users, rate, log_to=log_to)
            result["target"] = rate
            if result["loss"] < 0.01 and result["rate"] >= rate * 0.9:
                break
        else:
            break
        best = result
    nan = float("nan")
    return best or {"target": 0, "rate": 0, "loss": nan, "cpu": nan, "cpu_us": nan}


MAIN_KINDS = ("minimal", "ours (log to a file)", "ours --quiet")
LATENCY_REPETITIONS = 3  # one 3 s run's p99 is 60 lines: one preemption of the listener moves it


def main() -> None:
    """Max rate, loss at half of it and latency at 2k/s; ours logs the spec's line for
    every request to a file, as the issue's goals say (a pipe read by this process
    costs the server blocked writes that a file does not)."""
    import tempfile
    from statistics import median

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; load: {os.getloadavg()}")
    for users in (10, 1000):
        print(f"generator alone, {users} users: {generator_alone(users):,.0f} datagrams/s")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        for users in (10, 1000):
            latencies: dict[str, list[dict]] = {kind: [] for kind in MAIN_KINDS}
            for _ in range(LATENCY_REPETITIONS):  # alternating, so a bad minute hits all
                for kind in MAIN_KINDS:
                    to_file = log if "file" in kind else None
                    latencies[kind].append(measure(kind, users, 2000, 3.0, log_to=to_file))
            for kind in MAIN_KINDS:
                to_file = log if "file" in kind else None
                top = max_rate(kind, users, to_file)
                half_rate = max(1000, top["target"] // 2)
                half = measure(kind, users, half_rate, seconds=2.0, log_to=to_file)
                rows.append((users, kind, top, half, latencies[kind]))
                print(f"  done: {kind} with {users} users", flush=True)
    print()
    print("| users | server | max msg/s (<1% loss) | loss there | CPU there | CPU per msg |"
          f" loss at half max | at 2k/s, {LATENCY_REPETITIONS} runs: p50 | p99 (median, "
          "spread) | loss |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for users, kind, top, half, lat in rows:
        at_max = (
            f"{top['target']:,} | {top['loss']:.2%} | {top['cpu']:.0%} | {top['cpu_us']:.1f} us"
        )
        p50, p99 = median(r["p50"] for r in lat), [r["p99"] for r in lat]
        loss = max(r["loss"] for r in lat)
        at_2k = f"{p50:.2f} ms | {median(p99):.2f} ms ({min(p99):.2f}-{max(p99):.2f}) | {loss:.2%}"
        print(f"| {users} | {kind} | {at_max} | {half['loss']:.2%} | {at_2k} |")
    for users in (10, 1000):
        floor = next(r[2] for r in rows if r[0] == users and r[1] == "minimal")
        for kind in MAIN_KINDS[1:]:
            ours = next(r[2] for r in rows if r[0] == users and r[1] == kind)
            ratio = ours["target"] / floor["target"] if floor["target"] else float("nan")
            cpu_ratio = ours["cpu_us"] / floor["cpu_us"]
            print(f"{users} users: max rate {kind}/minimal = {ratio:.2f}; "
                  f"CPU per message {kind}/minimal = {cpu_ratio:.2f}")  # fmt: skip
    print(f"load after: {os.getloadavg()}")


FIXED_KINDS = ("minimal", "naive (print to a file)", "ours (log to a file)", "ours --quiet")


def fixed_rate(rate: int = 20_000, repetitions: int = 3) -> None:
    """CPU per relayed line at one offered rate, every server in turn, repeated."""
    cpu_ratios(FIXED_KINDS, "the minimal relay", rate, repetitions, places=1)


SCRAPE_KINDS = ("ours (log to a file)", "ours (log to a file), scraped every second")


def scraped(rate: int = 20_000, repetitions: int = int(os.environ.get("REPS", "5"))) -> None:
    """Issue 30: what a Prometheus scraper polling /metrics every second costs the relay,
    beside the same server unscraped, alternating, same run."""
    cpu_ratios(SCRAPE_KINDS, "unscraped", rate, repetitions, places=2)


def cpu_ratios(
    kinds: tuple[str, ...], first: str, rate: int, repetitions: int, places: int
) -> None:
    """CPU per relayed line of each kind of server in turn (the first is the baseline,
    called ``first`` in the table), repeated; medians, ratios and their spread."""
    import tempfile
    from statistics import median

    print(f"\nCPU per relayed line at {rate:,} lines/s offered, 3 s, {repetitions} repetitions")
    print(f"| users | server | CPU per line (median) | x {first} (median) | spread |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        for users in (10, 1000):
            cpu: dict[str, list[float]] = {kind: [] for kind in kinds}
            for _ in range(repetitions):
                for kind in kinds:
                    to_file = log if "file" in kind else None
                    cpu[kind].append(measure(kind, users, rate, 3.0, log_to=to_file)["cpu_us"])
            for kind in kinds:
                ratios = [a / b for a, b in zip(cpu[kind], cpu[kinds[0]], strict=True)]
                r = places + 1  # ratios one place finer than the microseconds
                print(f"| {users} | {kind} | {median(cpu[kind]):.{places}f} us | "
                      f"{median(ratios):.{r}f} | {min(ratios):.{r}f}-{max(ratios):.{r}f} |",
                      flush=True)  # fmt: skip


@contextmanager
def revision_worktree(revision: str) -> Iterator[Path]:
    """A git worktree of ``revision``, removed afterwards: our server as it was."""
    import tempfile

    worktree = Path(tempfile.mkdtemp(prefix="lanchat-rev-"))
    git = ["git", "-C", str(ROOT), "worktree"]
    subprocess.run([*git, "add", "-q", "--detach", str(worktree), revision], check=True)
    try:
        yield worktree
    finally:
        subprocess.run([*git, "remove", "--force", str(worktree)], check=False)


def compare(revision: str, repetitions: int = int(os.environ.get("REPS", "5"))) -> None:
    """Our server now against itself at ``revision``: CPU per line, alternating runs."""
    from statistics import median

    print(f"Python {sys.version.split()[0]}; ours now vs ours at {revision}, 20,000 lines/s, 3 s")
    with revision_worktree(revision) as worktree:
        for users in (10, 1000):
            runs: dict[str, list[dict]] = {"now": [], "before": []}
            for _ in range(repetitions):
                runs["before"].append(measure("ours", users, 20_000, 3.0, worktree))
                runs["now"].append(measure("ours", users, 20_000, 3.0))
            now, before = ([r["cpu_us"] for r in runs[k]] for k in ("now", "before"))
            ratios = sorted(a / b for a, b in zip(now, before, strict=True))
            print(f"  {users:>5} users: CPU per line now {median(now):.2f} us, at {revision} "
                  f"{median(before):.2f} us (medians); now/before per repetition, sorted: "
                  + ", ".join(f"{r:.3f}" for r in ratios)
                  + f"; median {median(ratios):.3f}")  # fmt: skip
            for k, rs in runs.items():
                print(f"         latency {k}: p50 {median(r['p50'] for r in rs):.2f} ms, "
                      f"p99 {median(r['p99'] for r in rs):.2f} ms (medians)")  # fmt: skip


# --- logins ------------------------------------------------------------------


def login_generator(port: int, before: int, count: int, rate: int, results) -> None:
    """``before`` logins (not measured), then ``count`` more: each from its own address
    (an explicit port, used once), paced.  Reports when the measured ones begin."""
    start, sent, port_no = time.monotonic(), 0, 20_000
    while sent < before + count and port_no < 65_000:
        if sent == before:
            time.sleep(0.3)  # let the server take the unmeasured ones
            results.put("measure")
            start = time.monotonic() - sent / rate
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((LOOPBACK, port_no))
        except OSError:
            port_no += 1
            s.close()
            continue
        port_no += 1
        s.sendto(f"login,u{sent}".encode(), (LOOPBACK, port))
        s.close()
        sent += 1
        while sent > (time.monotonic() - start) * rate:
            time.sleep(0.0005)
    results.put((sent, time.monotonic() - start))


def welcome_counter(group_port: int, ready, results, stop) -> None:
    sock = group_receiver(GROUP, group_port, LOOPBACK, timeout=0.2)
    ready.set()
    seen = 0
    while not stop.is_set():
        try:
            if sock.recv(READ_SIZE).startswith(b"welcome,"):
                seen += 1
        except TimeoutError:
            continue
    results.put(seen)


def measure_logins(
    kind: str, before: int, count: int, rate: int, log_to: Path | None, root: Path = ROOT
) -> dict:
    port, group_port = free_port(), free_port()
    server = start_server(kind, port, group_port, root, log_to=log_to)
    try:
        ctx = mp.get_context("fork")
        ready, stop, lres, gres = ctx.Event(), ctx.Event(), ctx.Queue(), ctx.Queue()
        lp = ctx.Process(target=welcome_counter, args=(group_port, ready, lres, stop))
        lp.start()
        ready.wait(5)
        gp = ctx.Process(target=login_generator, args=(port, before, count, rate, gres))
        gp.start()
        assert gres.get(timeout=before / rate * 5 + 30) == "measure"
        cpu0 = cpu_seconds(server.pid)
        sent, _elapsed = gres.get(timeout=count / rate * 5 + 30)
        gp.join(10)
        time.sleep(0.3)
        cpu = cpu_seconds(server.pid) - cpu0
        stop.set()
        seen = lres.get(timeout=10) - before
        lp.join(10)
    finally:
        server.kill()
        server.wait()
    sent -= before
    return {"sent": sent, "seen": seen, "cpu_us": cpu / seen * 1e6 if seen > 0 else float("nan")}


def logins(
    revision: str | None = None, rate: int = 5_000, repetitions: int = 3, count: int = 10_000
) -> None:
    """CPU per login (welcome sent) for ours (log to a file) and the minimal relay, into a
    server that already holds N sessions: flat in N is the goal.  With ``revision``,
    ours at that revision too (a worktree), in the same alternation."""
    import tempfile
    from statistics import median

    print(f"\nCPU per login: {count:,} logins at {rate:,}/s into a server already holding N "
          f"sessions, each login from its own address, {repetitions} repetitions")  # fmt: skip
    before_kind = f"ours at {revision}" if revision else None
    extra = f" | {before_kind} | now/before (median, spread)" if before_kind else ""
    print(f"| N | minimal relay | ours (log to a file) | x minimal (median, spread) | welcomed"
          f"{extra} |")  # fmt: skip
    print("|---|---|---|---|---|" + ("---|---|" if before_kind else ""))
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        log = Path(tmp) / "server.log"
        roots = {"minimal": ROOT, "ours (log to a file)": ROOT}
        if revision and before_kind:
            roots[before_kind] = stack.enter_context(revision_worktree(revision))
        for before in (1_000, 5_000, 20_000):
            runs: dict[str, list[dict]] = {kind: [] for kind in roots}
            for _ in range(repetitions):
                for kind, root in roots.items():
                    to_file = log if kind != "minimal" else None
                    server_kind = "ours" if kind != "minimal" else kind
                    runs[kind].append(
                        measure_logins(server_kind, before, count, rate, to_file, root)
                    )
            mins, ours = runs["minimal"], runs["ours (log to a file)"]
            ratios = [o["cpu_us"] / m["cpu_us"] for o, m in zip(ours, mins, strict=True)]
            row = (f"| {before:,} | {median(r['cpu_us'] for r in mins):.1f} us | "
                   f"{median(r['cpu_us'] for r in ours):.1f} us | {median(ratios):.2f} "
                   f"({min(ratios):.2f}-{max(ratios):.2f}) | "
                   f"{min(r['seen'] for r in ours):,}/{count:,} |")  # fmt: skip
            if before_kind:
                old = runs[before_kind]
                vs = [o["cpu_us"] / b["cpu_us"] for o, b in zip(ours, old, strict=True)]
                row += (f" {median(r['cpu_us'] for r in old):.1f} us | {median(vs):.2f} "
                        f"({min(vs):.2f}-{max(vs):.2f}) |")  # fmt: skip
            print(row, flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--minimal-relay"]:
        minimal_relay(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1:2] == ["--naive-server"]:
        naive_server(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1:2] == ["--compare"]:
        compare(sys.argv[2])
    elif sys.argv[1:2] == ["--fixed"]:
        fixed_rate()
    elif sys.argv[1:2] == ["--scraped"]:
        scraped()
    elif sys.argv[1:2] == ["--logins"]:
        logins(sys.argv[3] if sys.argv[2:3] == ["--compare"] else None)
    else:
        main()
