"""The real Qt client at 50k, 100k and 200k lines a second: what reaches the view, and stalls.

Run: .venv/bin/python benchmarks/bench_client.py   (about 1 minute, loopback only)
     .venv/bin/python benchmarks/bench_client.py --compare REV   (now against git revision
     REV, alternating runs at 100k and 200k lines/s; REPS=3 by default; ~2 min)
     .venv/bin/python benchmarks/bench_client.py --trace [RATE]   (one run: what ran in
     the longest stalls: drain pass, presenting, the model, polish, frame, collections)

Each measurement is three processes: the client as a user runs it (``ChatWindow``,
its worker thread, ``app.exec()``; benchmarks/client_child.py), a paced sender
multicasting ``msg,alice: line N`` on 127.0.0.1 for 2 s, and this script. The
client reports how many datagrams its worker read from the kernel, how many
reached the model, how many its bounded inbox dropped, the longest gap of a 5 ms
heartbeat timer (how long the event loop could not run: paint, keys) and its
peak memory. Beside it, in the same run, the naive design: one queued signal and
one model insert per datagram. Then the time from starting a client process to
its first frame.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().parent / "client_child.py"
sys.path.insert(0, str(ROOT))
os.environ["LANCHAT_NO_MDNS"] = "1"  # windows made here look for no chats: loopback only

from protocol_lib.io.net import group_sender  # noqa: E402

LOOPBACK = "127.0.0.1"
SECONDS = 2.0
RATES = (50_000, 100_000, 200_000)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def send_paced(group: str, port: int, rate: int, seconds: float) -> tuple[int, float]:
    """Multicast ``rate`` lines a second for ``seconds`` (TTL 0, out of 127.0.0.1)."""
    sock = group_sender(LOOPBACK, ttl=0)
    total = int(rate * seconds)
    start = time.monotonic()
    sent = 0
    while sent < total and time.monotonic() - start < seconds * 3:
        due = min(total, int((time.monotonic() - start) * rate) + 1)
        while sent < due:
            sock.sendto(b"msg,alice: line %d" % sent, (group, port))
            sent += 1
    elapsed = time.monotonic() - start
    sock.close()
    return sent, elapsed


def run_client(
    root: Path,
    rate: int,
    mode: str = "lines",
    count: int | None = None,
    per_datagram: bool = False,
    history: Path | None = None,
) -> dict:
    """Start the client, feed it, return its report (and what was offered)."""
    group, port = f"239.255.{os.getpid() % 250 + 1}.{rate // 1000 % 250}", free_port()
    count = count if count is not None else int(rate * SECONDS)
    args = [sys.executable, str(CHILD), str(root), group, str(port), str(count), mode, "120"]
    if per_datagram:
        args.append("--per-datagram")
    env = dict(os.environ, CLIENT_CHILD_HISTORY=str(history)) if history else None
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY"
    time.sleep(0.3)  # the first frame and the worker's start are not measured
    sender = subprocess.Popen(
        [sys.executable, __file__, "--send", group, str(port), str(rate), str(count / rate)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    out, _ = sender.communicate(timeout=60)
    sent, elapsed = json.loads(out)
    line = proc.stdout.readline()
    proc.wait(150)
    report = json.loads(line) if line else {}
    report.update(sent=sent, offered_rate=sent / elapsed)
    return report


def first_frame(bytecode_cache: bool = True) -> float:
    """Seconds from starting a client process to its first frame on screen.

    With ``bytecode_cache`` the interpreter may keep compiled modules (``__pycache__``),
    as it does for anyone who has started the client once; without it every start
    compiles every module from source (``PYTHONDONTWRITEBYTECODE=1``, which some
    sandboxes set, including the machine these figures come from).
    """
    code = (
        f"import sys, time; sys.path.insert(0, {str(ROOT)!r})\n"
        "from PySide6.QtGui import QGuiApplication\n"
        "app = QGuiApplication([])\n"
        "from qml_client.app import ChatWindow\n"
        "from qml_client.cli import ClientOptions\n"
        f"opts = ClientOptions('127.0.0.1', 1, '239.255.1.1', {free_port()}, '127.0.0.1')\n"
        "chat = ChatWindow(opts)\n"
        "chat.window.frameSwapped.connect(lambda: (print('FRAME', flush=True), app.exit(0)))\n"
        "chat.bridge.start()\n"
        "app.aboutToQuit.connect(chat.bridge.shutdown)\n"
        "app.exec()\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    elapsed = float("nan")
    for line in proc.stdout:
        if line.startswith("FRAME"):
            elapsed = time.monotonic() - t0
            break
    proc.wait(30)
    return elapsed


def main() -> None:
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; load {os.getloadavg()}")
    print(f"`msg,alice: line N` multicast on 127.0.0.1 for {SECONDS:g} s at each rate\n")
    print("| offered | design | sent | read by the worker | in the model | dropped (inbox) |"
          " longest stall | stalls > 50 ms | peak memory |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="lanchat-bench-"))
    for rate in RATES:
        for design in ("product", "product + history", "one signal per datagram"):
            history = tmp / f"history-{rate}.sqlite3" if "history" in design else None
            r = run_client(ROOT, rate, per_datagram=design.startswith("one"), history=history)
            print(f"| {rate:,}/s | {design} | {r['sent']:,} | {r['received']:,} | "
                  f"{r['done']:,} | {r['dropped']:,} | {r['stall_ms']:.0f} ms | "
                  f"{r['stalls_50ms']} | {r['peak_mb']:.0f} MB |", flush=True)  # fmt: skip
    first_frame()  # a first start writes the bytecode cache, as a user's first start does
    cached = sorted(first_frame() for _ in range(7))
    uncached = sorted(first_frame(bytecode_cache=False) for _ in range(7))
    print(f"\nstart to first frame (process start, offscreen), medians of 7: "
          f"{cached[3] * 1000:.0f} ms with the bytecode cache, "
          f"{uncached[3] * 1000:.0f} ms compiling every module")  # fmt: skip


def compare(revision: str, repetitions: int = int(os.environ.get("REPS", "3"))) -> None:
    """The client now against itself at ``revision`` (the same child script drives both),
    alternating runs at each rate: what reached the model, stalls, CPU, memory."""
    from bench_server import revision_worktree  # benchmarks/ is on sys.path when run

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; now vs {revision}, "
          f"{repetitions} alternating runs of {SECONDS:g} s at each rate")  # fmt: skip
    print("| offered | client | in the model | dropped | longest stall | p99 stall |"
          " GUI CPU | worker CPU | peak memory |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    with revision_worktree(revision) as before:
        for rate in (100_000, 200_000):
            runs: dict[str, list[dict]] = {"now": [], revision: []}
            for _ in range(repetitions):
                runs[revision].append(run_client(before, rate))
                runs["now"].append(run_client(ROOT, rate))
            for name, reports in runs.items():

                def spread(key: str, form: str = ".0f", reports: list[dict] = reports) -> str:
                    values = sorted(r.get(key, float("nan")) for r in reports)
                    return f"{values[0]:{form}}-{values[-1]:{form}}"

                print(f"| {rate:,}/s | {name} | {spread('done', form=',.0f')} | "
                      f"{spread('dropped', form=',.0f')} | {spread('stall_ms')} ms | "
                      f"{spread('p99_stall_ms')} ms | {spread('gui_cpu_s', form='.2f')} s | "
                      f"{spread('worker_cpu_s', form='.2f')} s | {spread('peak_mb')} MB |",
                      flush=True)  # fmt: skip


def trace(rate: int) -> None:
    """One product run at ``rate`` with the child's stall trace: what ran in the longest."""
    os.environ["CLIENT_CHILD_STALLS"] = "1"
    report = run_client(ROOT, rate)
    print(f"{rate:,}/s: {report['done']:,} of {report['sent']:,} in the model, longest stall "
          f"{report['stall_ms']:.0f} ms (its breakdown above, on stderr)")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["--compare"]:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        compare(sys.argv[2])
    elif sys.argv[1:2] == ["--trace"]:
        trace(int(sys.argv[2]) if len(sys.argv) > 2 else 100_000)
    elif sys.argv[1:2] == ["--send"]:
        group, port, rate, seconds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        print(json.dumps(send_paced(group, port, rate, float(seconds))))
    else:
        main()
