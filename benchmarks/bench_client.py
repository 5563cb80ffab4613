"""The Qt client under a burst: ingest rate and event-loop stalls; start-up to first frame.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_client.py   (~30 s, loopback)

The product path (worker thread -> inbox -> one queued wake-up -> one model
insert per drain) is measured beside a per-datagram path (one queued signal and
one model insert per datagram), in the same run, with the same burst: 20,000
datagrams multicast on 127.0.0.1 by a sender process as fast as it can.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QObject, QTimer, Signal, Slot  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402

from protocol_lib.io.net import READ_SIZE, group_sender  # noqa: E402
from qml_client.app import ChatWindow  # noqa: E402
from qml_client.cli import ClientOptions  # noqa: E402

BURST = 20_000
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def send_burst(group: str, port: int, count: int) -> None:
    sock = group_sender(LOOPBACK, ttl=1)
    for i in range(count):
        sock.sendto(b"msg,alice: burst line %d" % i, (group, port))
    sock.close()


class PerDatagram(QObject):
    """The naive design, for contrast: a queued signal and a model insert per datagram."""

    arrived = Signal(bytes)

    def __init__(self, chat: ChatWindow) -> None:
        super().__init__()
        self.chat = chat
        self.arrived.connect(self.on_datagram)

    @Slot(bytes)
    def on_datagram(self, data: bytes) -> None:
        bridge = self.chat.bridge
        bridge._handle(bridge.core.receive(data, time.monotonic()))

    def run_worker(self, sock: socket.socket, stop: threading.Event) -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                self.arrived.emit(sock.recv(READ_SIZE))
            except TimeoutError:
                continue


def measure(app: QGuiApplication, coalescing: bool) -> dict:
    group, port = f"239.255.{os.getpid() % 250 + 1}.{int(coalescing) + 7}", free_port()
    chat = ChatWindow(ClientOptions(LOOPBACK, free_port(), group, port, LOOPBACK))
    chat.window.show()
    model = chat.bridge.message_model
    stop = threading.Event()
    contrast_thread = None
    if coalescing:
        chat.bridge.start()
    else:  # the same group socket, read by the per-datagram worker instead
        from protocol_lib.io.net import group_receiver

        contrast = PerDatagram(chat)
        sock = group_receiver(group, port, LOOPBACK)
        contrast_thread = threading.Thread(target=contrast.run_worker, args=(sock, stop))
        contrast_thread.start()
    start_total = model.total_appended
    beats = [time.monotonic()]
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: beats.append(time.monotonic()))
    heartbeat.start(5)
    t0 = time.monotonic()
    sender = subprocess.Popen([sys.executable, __file__, "--send", group, str(port), str(BURST)])
    deadline = t0 + 60
    last_change, last_total = time.monotonic(), start_total
    while time.monotonic() < deadline:
        app.processEvents()
        total = model.total_appended
        if total != last_total:
            last_change, last_total = time.monotonic(), total
        if total - start_total >= BURST:
            break
        if sender.poll() is not None and time.monotonic() - last_change > 1.0:
            break  # the sender is done and nothing has arrived for a second: the rest was lost
    t_end = time.monotonic() if total - start_total >= BURST else last_change
    heartbeat.stop()
    sender.wait()
    got = model.total_appended - start_total
    stop.set()
    if contrast_thread is not None:
        contrast_thread.join()
    chat.close()
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    return {
        "got": got,
        "rate": got / (t_end - t0),
        "max_stall_ms": max(gaps) * 1000 if gaps else float("nan"),
    }


def first_frame() -> float:
    """Seconds from starting a client process to its first frame on screen."""
    code = (
        f"import sys, time; sys.path.insert(0, {str(ROOT)!r})\n"
        "from PySide6.QtGui import QGuiApplication\n"
        "app = QGuiApplication([])\n"
        "from qml_client.app import ChatWindow\n"
        "from qml_client.cli import ClientOptions\n"
        f"opts = ClientOptions('127.0.0.1', 1, '239.255.1.1', {free_port()}, '127.0.0.1')\n"
        "chat = ChatWindow(opts)\n"
        "chat.window.frameSwapped.connect(lambda: (print('FRAME', flush=True), app.quit()))\n"
        "chat.bridge.start()\n"
        "app.aboutToQuit.connect(chat.bridge.shutdown)\n"
        "app.exec()\n"
    )
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("FRAME"):
            elapsed = time.monotonic() - t0
            break
    else:
        elapsed = float("nan")
    proc.wait(30)
    return elapsed


def main() -> None:
    app = QGuiApplication([])
    print(f"Python {sys.version.split()[0]}; burst of {BURST:,} datagrams on 127.0.0.1")
    for coalescing in (True, False):
        label = "coalesced (product)" if coalescing else "one signal per datagram"
        r = measure(app, coalescing)
        counted = f"{r['got']:>6,} / {BURST:,} in the model"
        print(f"  {label:26s} {counted}, {r['rate']:>9,.0f} msg/s, "
              f"longest event-loop stall {r['max_stall_ms']:6.1f} ms")  # fmt: skip
    frames = sorted(first_frame() for _ in range(3))
    print(f"  start to first frame (process start, offscreen): median {frames[1] * 1000:.0f} ms")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--send"]:
        send_burst(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
