"""Typing to screen: from Enter in window A to the frame in window B that shows the line
(issue 29, goal 2). Where the time goes, p50 and p99 over LINES lines at chat pace.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_screen.py [--lines 200]
     (about a minute: 4 lines a second; loopback only; mDNS off)

Our server (a process) on 127.0.0.1; window A in this process, window B in a child process
(two real clients, each with its own event loop). A "presses Enter" the way the window's
Enter does (``ChatBridge.send``, then the same event loop runs), and a group listener
thread in this process stamps each relay's arrival. B stamps when the line enters its
model (rowsInserted) and the next frame it swaps (frameSwapped). All stamps are
CLOCK_MONOTONIC, shared by the processes. Phases:
- send + server: Enter in A until the relay is on the group (A's core, pacing and socket,
  the kernel, our server);
- receive + model: the relay on the group until B's model has the line (B's worker, its
  drain pass, the presenter, the view's pacing);
- frame: B's model until the frame that shows it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import quantiles

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["LANCHAT_NO_MDNS"] = "1"

from benchmarks.bench_server import free_port  # noqa: E402

LOOPBACK = "127.0.0.1"
PACE = 0.25  # seconds between two lines: a fast typist's chat pace

CHILD = r"""
import json, sys, time
from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtGui import QGuiApplication
from qml_client.app import ChatWindow
from qml_client.cli import ClientOptions
port, group, group_port, lines = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
app = QGuiApplication(["lanchat"])
chat = ChatWindow(ClientOptions("127.0.0.1", port, group, group_port, "127.0.0.1", "bee"))
chat.window.resize(900, 600)
chat.window.show()
model = chat.bridge.messages
inserted, framed, waiting = {}, {}, []
def rows(parent, first, last):
    now = time.monotonic_ns()
    for row in range(first, last + 1):
        text = model.line(row).line_text
        if "typed " in text:  # credited to ant, or whole ("ant: typed ...")
            text = text[text.index("typed "):]
            inserted[text] = now
            waiting.append(text)
def frame():
    now = time.monotonic_ns()
    while waiting:
        framed[waiting.pop()] = now
model.rowsInserted.connect(rows)
chat.window.frameSwapped.connect(frame)
chat.bridge.start()
print("READY", flush=True)
deadline = time.monotonic() + lines * 0.25 + 60
while len(framed) < lines and time.monotonic() < deadline:
    QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
print(json.dumps({"inserted": inserted, "framed": framed}), flush=True)
chat.close()
"""


def percentiles(values: list[float]) -> tuple[float, float]:
    cuts = quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200)
    args = parser.parse_args()
    from PySide6.QtCore import QCoreApplication, QEventLoop
    from PySide6.QtGui import QGuiApplication

    from protocol_lib.io.net import group_receiver
    from qml_client.app import ChatWindow
    from qml_client.cli import ClientOptions

    port, group_port = free_port(), free_port()
    group = f"239.255.{os.getpid() % 200 + 1}.{port % 200 + 1}"
    home = Path(tempfile.mkdtemp(prefix="lanchat-screen-"))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"):
        os.environ[name] = str(home / name)
    net = ["--port", str(port), "--group", group, "--group-port", str(group_port),
           "--interface", LOOPBACK]  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "server_app", "--host", LOOPBACK, "--ttl", "1", "--quiet", *net],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert server.stdout is not None and "ready" in server.stdout.readline()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(port), group, str(group_port), str(args.lines)],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    app = QGuiApplication(["lanchat"])
    relayed: dict[str, int] = {}
    listening = threading.Event()
    done = threading.Event()

    def listen() -> None:
        sock = group_receiver(group, group_port, LOOPBACK)
        sock.settimeout(0.5)
        listening.set()
        while not done.is_set():
            try:
                data = sock.recv(2048)
            except TimeoutError:
                continue
            text = data.decode(errors="replace").partition(": ")[2]
            if text.startswith("typed ") and text not in relayed:
                relayed[text] = time.monotonic_ns()
        sock.close()

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    listening.wait(5)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "READY"
        a = ChatWindow(ClientOptions(LOOPBACK, port, group, group_port, LOOPBACK, "ant"))
        a.window.show()
        a.bridge.start()

        def run_for(seconds: float) -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)

        run_for(3.0)  # both in the chat, each has its roster
        entered: dict[str, int] = {}
        for i in range(args.lines):
            text = f"typed {i:04d} and a few more words, as chat lines go"
            entered[text] = time.monotonic_ns()
            a.bridge.send(text)  # what Enter does in the window
            run_for(PACE)
        result = json.loads(child.stdout.readline())
        a.close()
    finally:
        done.set()
        child.wait(30)
        server.terminate()
        server.wait(10)
    del app
    inserted, framed = result["inserted"], result["framed"]
    shown = [t for t in entered if t in relayed and t in inserted and t in framed]
    ms = 1e-6
    phases = {
        "send + server": [(relayed[t] - entered[t]) * ms for t in shown],
        "receive + model": [(inserted[t] - relayed[t]) * ms for t in shown],
        "frame": [(framed[t] - inserted[t]) * ms for t in shown],
        "Enter to frame": [(framed[t] - entered[t]) * ms for t in shown],
    }
    print(f"{len(shown)} of {args.lines} lines on B's screen; a line every {PACE:g} s")
    print("| phase | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|")
    for name, values in phases.items():
        p50, p99 = percentiles(values)
        print(f"| {name} | {p50:.2f} | {p99:.2f} | {max(values):.2f} |")
    return 0 if len(shown) == args.lines else 1


if __name__ == "__main__":
    raise SystemExit(main())
