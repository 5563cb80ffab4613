"""Instructions per chat line and per login on the hot paths, counted by cachegrind.

Run: .venv/bin/python benchmarks/bench_instructions.py [--compare REV]   (2-4 minutes)
     needs valgrind (``apt-get install valgrind``); no network, no Qt.

Timings on this project's machines vary by up to 2x from one run to the next (a
shared host), so a change of 10-20% needs many alternating runs to show.  The number
of instructions the interpreter executes for the same work does not vary: this
script counts them with ``valgrind --tool=cachegrind`` for N and 11N items of each
workload and prints the difference per item (start-up cancels out).  Fewer
instructions is not always less time (cache misses, branch mispredictions), so a
change that matters is still measured in the real process (bench_server,
bench_client); this says, exactly, whether the Python got lighter.

Workloads (each in a child interpreter importing the tree at ROOT):
- server chat line: ``ServerCore.receive`` of ``msg,<text>`` from a logged-in user
- server login: ``ServerCore.receive`` of ``login,<name>``, each from a new host
- server log line: the spec's log line for a relayed chat line (``LogSink``), formatted
- client chat line: the GUI thread's part of a relayed line without Qt: the inbox,
  ``ClientCore.receive`` and ``Presenter.present``
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ("server chat line", "server login", "server log line", "client chat line")
SMALL, LARGE = 1_000, 11_000


def workload(root: str, name: str, count: int) -> None:
    """Run ``count`` items of one workload (in the child, under cachegrind)."""
    sys.path.insert(0, root)
    if name == "server chat line":
        from protocol_lib import ServerConfig, ServerCore

        core = ServerCore(ServerConfig(rate_limit=None))
        core.receive(b"login,alice", ("10.0.0.1", 5000), 0.0)
        lines = [b"msg,hello there, line %d" % i for i in range(count)]
        for data in lines:
            core.receive(data, ("10.0.0.1", 5000), 1.0)
    elif name == "server login":
        from protocol_lib import ServerConfig, ServerCore

        core = ServerCore(ServerConfig(rate_limit=None, max_sessions=count))
        logins = [(b"login,user%d" % i, (f"10.{i >> 8 & 255}.{i & 255}.1", 5000))
                  for i in range(count)]  # fmt: skip
        for data, addr in logins:
            core.receive(data, addr, 0.0)
        assert len(core.users) == count
    elif name == "server log line":
        from protocol_lib.server import RequestArrived
        from server_app.logfmt import LogSink

        with open(os.devnull, "wb") as sink:
            log = LogSink(sink)
            records = [RequestArrived("msg", "alice", ("10.0.0.1", 5000), f"hello, line {i}")
                       for i in range(count)]  # fmt: skip
            for record in records:
                log.event(record)
            log.flush()
            log.close()
    elif name == "client chat line":
        from protocol_lib import ClientConfig, ClientCore
        from qml_client.presenter import Presenter
        from qml_client.receiver import Inbox

        core = ClientCore(ClientConfig(server_sources=frozenset({"127.0.0.1"})))
        presenter, inbox = Presenter(), Inbox()
        inbox.put([(b"msg,alice: line %d" % i, "127.0.0.1") for i in range(count)], [])
        events: list = []
        more, now = True, time.monotonic()
        while more:
            datagrams, _errors, _dropped, more = inbox.take(250)
            if hasattr(core, "receive_all"):  # as the bridge reads a slice
                events += core.receive_all(datagrams, now)
            else:  # revisions before it
                for data, source in datagrams:
                    events.extend(core.receive(data, now, source))
        assert len(presenter.present(events, "bob").lines) == count
    else:
        raise SystemExit(f"unknown workload {name!r}")


def instructions(root: Path, name: str, count: int) -> int:
    """Instructions the interpreter executed for ``count`` items of ``name`` (all of it)."""
    args = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
            sys.executable, __file__, "--workload", str(root), name, str(count)]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{name} at {root}: {done.stderr.strip().splitlines()[-1:]}")
    return int(found.group(1).replace(",", ""))


def per_item(root: Path, name: str) -> int:
    """Instructions per item: the difference between LARGE and SMALL items, so start-up
    and imports cancel out."""
    return (instructions(root, name, LARGE) - instructions(root, name, SMALL)) // (LARGE - SMALL)


def main(revision: str | None) -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("bench_instructions: needs valgrind (apt-get install valgrind)")
    print(f"Python {sys.version.split()[0]}; instructions per item (cachegrind), "
          f"{LARGE:,} minus {SMALL:,} items")  # fmt: skip
    roots = {"now": ROOT}
    with ExitStack() as stack:
        if revision:
            from bench_server import revision_worktree

            roots[f"at {revision}"] = stack.enter_context(revision_worktree(revision))
        header = " | ".join(roots) + (" | now/before" if revision else "")
        print(f"| workload | {header} |")
        print("|---|" + "---|" * (len(roots) + (1 if revision else 0)))
        for name in WORKLOADS:
            counts: list[int | None] = []
            for root in roots.values():
                try:
                    counts.append(per_item(root, name))
                except RuntimeError:  # an older tree without this workload's API
                    counts.append(None)
            cells = [f"{c:,}" if c is not None else "n/a" for c in counts]
            if revision and None not in counts:
                cells.append(f"{counts[0] / counts[1]:.3f}")  # type: ignore[operator]
            elif revision:
                cells.append("n/a")
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--workload"]:
        workload(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1:2] == ["--compare"]:
        main(sys.argv[2])
    else:
        main(None)
