"""A chat at rest should cost nothing: wake-ups and CPU of a server and a client that have
nothing to do, and the client's memory at rest and after 10,000 lines (issue 29, goal 1).

Run: .venv/bin/python benchmarks/bench_rest.py [--compare REV] [--seconds 30]
     (about 1 minute per variant; loopback only; mDNS off)

For each variant (the code here, and with --compare our code at git revision REV, in a
worktree, same run): our server on 127.0.0.1 and one client window (offscreen) logged in;
after 12 s of settling (the text cursor stops blinking 10 s after the last key),
``--seconds`` of nothing, measured from /proc: context switches of
every thread (voluntary and not: each is a wake-up) per second, and CPU time per minute.
Then a peer logs in and sends 10,000 lines through the server (bounded, paced by the
relay's echo), and the client's resident memory is read again once they are shown; at
rest again, how long each takes to end after Ctrl+C (SIGINT).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_server import cpu_seconds, free_port, revision_worktree  # noqa: E402
from protocol_lib.io.net import group_receiver  # noqa: E402

LOOPBACK = "127.0.0.1"
LINES = 10_000
SETTLE = 12.0  # seconds after the login before the rest is measured


def wakeups(pid: int) -> dict[str, int]:
    """Context switches of each thread of ``pid`` so far, by thread id."""
    counts: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            lines = (task / "status").read_text().splitlines()
        except OSError:  # a thread that just ended
            continue
        counts[task.name] = sum(
            int(line.split()[1]) for line in lines
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"))
        )  # fmt: skip
    return counts


def woke_since(pid: int, before: dict[str, int]) -> int:
    """Context switches since ``before``: of the threads alive now (one that ended in
    between, as Qt's idle pool threads do after 30 s, is not counted, never negative)."""
    return sum(count - before.get(tid, 0) for tid, count in wakeups(pid).items())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_for(path: Path, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise SystemExit(f"bench_rest: {text!r} not in {path} within {timeout:g} s")
        time.sleep(0.05)  # polling a log file (a benchmark's harness, bounded)


def variant(root: Path, seconds: float) -> dict[str, float]:
    """One server and one client from the code at ``root``, at rest, then after lines."""
    port, group_port = free_port(), free_port()
    group = f"239.255.{os.getpid() % 200 + 1}.{port % 200 + 1}"
    home = Path(tempfile.mkdtemp(prefix="lanchat-rest-"))
    env = dict(os.environ, LANCHAT_NO_MDNS="1", QT_QPA_PLATFORM="offscreen",
               XDG_CONFIG_HOME=str(home / "c"), XDG_DATA_HOME=str(home / "d"),
               XDG_RUNTIME_DIR=str(home / "r"), PYTHONPATH=str(root))  # fmt: skip
    net = ["--port", str(port), "--group", group, "--group-port", str(group_port),
           "--interface", LOOPBACK]  # fmt: skip
    server_log, client_log = home / "server.log", home / "client.log"
    with open(server_log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "server_app", "--host", LOOPBACK, "--no-rate-limit",
             "--ttl", "1", *net], cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(server_log, "is ready on")
        with open(client_log, "wb") as out:
            client = subprocess.Popen(
                [sys.executable, "-m", "qml_client", LOOPBACK, *net, "--user", "alice",
                 "--server-rate", "100000", "--server-burst", "100000"],
                cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_for(server_log, "list request has arrived from user: alice@")
            # Settle: the login's work is over, and the cursor has stopped blinking (it does
            # after 10 s without typing: Main.qml's cursorRest).
            time.sleep(SETTLE)
            marks = {name: (wakeups(p.pid), cpu_seconds(p.pid))
                     for name, p in (("server", server), ("client", client))}  # fmt: skip
            time.sleep(seconds)  # nothing happens: that is what is measured
            result: dict[str, float] = {}
            for name, process in (("server", server), ("client", client)):
                woke, cpu = marks[name]
                result[f"{name} wake-ups/s"] = woke_since(process.pid, woke) / seconds
                result[f"{name} CPU s/min"] = (cpu_seconds(process.pid) - cpu) / seconds * 60
            result["client RSS at rest MB"] = rss_mb(client.pid)
            send_lines(port, group, group_port)
            time.sleep(3.0)  # the window shows what arrived (paced at 30 frames a second)
            result[f"client RSS after {LINES:,} lines MB"] = rss_mb(client.pid)
            time.sleep(SETTLE)  # at rest again: how soon does Ctrl+C end each of them?
            result["client exits after Ctrl+C, s"] = stop_time(client)
            time.sleep(6.0)  # the server blocks up to 5 s at rest
            result["server exits after Ctrl+C, s"] = stop_time(server)
        finally:
            client.terminate()
            client.wait(20)
    finally:
        server.terminate()
        server.wait(20)
    return result


def stop_time(process: subprocess.Popen) -> float:
    """Seconds from SIGINT (Ctrl+C) to the process's end."""
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.wait(20)
    return time.monotonic() - started


def send_lines(port: int, group: str, group_port: int) -> None:
    """A peer logs in and says LINES lines, each after the previous one's relay (bounded)."""
    listener = group_receiver(group, group_port, LOOPBACK)
    listener.settimeout(5.0)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.connect((LOOPBACK, port))
    try:
        peer.send(b"login,bob")
        for i in range(LINES):
            text = f"line {i} from bob, about as long as a chat line usually is".encode()
            peer.send(b"msg," + text)
            while not listener.recv(2048).endswith(text):
                pass
        peer.send(b"exit,")
    finally:
        peer.close()
        listener.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compare", metavar="REV", help="also our code at git revision REV")
    parser.add_argument("--seconds", type=float, default=30.0, help="the rest measured")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}; {args.seconds:g} s at rest, then {LINES:,} lines")
    results = {"now": variant(ROOT, args.seconds)}
    if args.compare:
        with revision_worktree(args.compare) as worktree:
            results[args.compare] = variant(worktree, args.seconds)
    names = list(results)
    print("| measure | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for key in results["now"]:
        print(f"| {key} | " + " | ".join(f"{results[n][key]:.2f}" for n in names) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
