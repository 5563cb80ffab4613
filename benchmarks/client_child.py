"""The real Qt client in a process of its own, measured while datagrams arrive.

Not run by hand: bench_client.py and bench_hostile.py start it as
``client_child.py ROOT GROUP PORT EXPECTED MODE TIMEOUT [--per-datagram]`` and read one
JSON line from it.  ROOT is the source tree to import the client from (a git
worktree for "before" runs).  It builds the window a user gets (``ChatWindow``)
and runs ``app.exec()``; a 5 ms QTimer measures how late the event loop runs.
MODE says what progress means: ``welcome`` (names in the roster) or ``lines``
(lines appended to the message model).  With ``--per-datagram`` the product's
worker and inbox are replaced by the naive design, for contrast: a thread that
emits one queued signal per datagram, each handled on its own.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

root, group, port, expected, mode, timeout = sys.argv[1:7]
PER_DATAGRAM = "--per-datagram" in sys.argv[7:]
if os.environ.get("CLIENT_CHILD_TRACE"):  # where the GUI thread is during a long stall
    import faulthandler

    faulthandler.dump_traceback_later(float(os.environ["CLIENT_CHILD_TRACE"]), repeat=True)
sys.path.insert(0, root)
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["LANCHAT_NO_MDNS"] = "1"  # windows made here look for no chats: loopback only

from PySide6.QtCore import QObject, QTimer, Signal, Slot  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402

app = QGuiApplication([])

import qml_client.app as app_module  # noqa: E402
from qml_client.app import ChatWindow  # noqa: E402
from qml_client.cli import ClientOptions  # noqa: E402

EXPECTED, TIMEOUT = int(expected), float(timeout)
history = None
if os.environ.get("CLIENT_CHILD_HISTORY"):  # the product's history store, on a fresh file
    from qml_client.history_store import HistoryStore

    conversation = ("127.0.0.1", 9, group, int(port))
    history = HistoryStore(Path(os.environ["CLIENT_CHILD_HISTORY"]), conversation)
chat = ChatWindow(
    ClientOptions("127.0.0.1", 9, group, int(port), "127.0.0.1"),
    **({"history": history} if history is not None else {}),
)
chat.window.show()
frames = [0]  # frames swapped while the flood runs (each costs the GUI thread a layout)
chat.window.frameSwapped.connect(lambda: frames.__setitem__(0, frames[0] + 1))
bridge = chat.bridge
model = bridge.message_model
# Since the bridge split the driver reads, shows and times; before it, the bridge did.
driver = getattr(bridge, "driver", bridge)


NEW_SHAPE = "source" in list(__import__("inspect").signature(bridge.core.receive).parameters)[1:2]


def apply_events(events: list) -> None:
    """A batch of the core's events, carried out as a drain pass would."""
    if driver is bridge:  # revisions before the split
        bridge._apply(events)
    else:
        from qml_client.driver import Batch

        driver.carry_out(Batch(events))


def worker_thread() -> object:
    return getattr(driver, "receiver", None) or getattr(bridge, "_receiver", None)


class PerDatagram(QObject):
    """The naive design: one queued signal, one core call and one model insert per datagram."""

    arrived = Signal(bytes, str)

    def __init__(self) -> None:
        super().__init__()
        self.received = 0
        self.arrived.connect(self.on_datagram)
        self.stop = threading.Event()
        try:
            from protocol_lib.io.net import group_receiver
        except ImportError:  # revisions before the I/O fence
            from protocol_lib.net import group_receiver  # type: ignore[no-redef]
        self.sock = group_receiver(group, int(port), "127.0.0.1", timeout=0.2)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    @Slot(bytes, str)
    def on_datagram(self, data: bytes, source: str) -> None:
        if NEW_SHAPE:  # receive(data, source, now) since the cores share one shape
            apply_events(bridge.core.receive(data, source, time.monotonic()))
        else:
            apply_events(bridge.core.receive(data, time.monotonic(), source))

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            self.received += 1
            self.arrived.emit(data, addr[0])


class StallTrace:
    """What ran inside the longest stalls (CLIENT_CHILD_STALLS=1; printed to stderr at the
    end): the drain pass, presenting, the model, the frame's polish (update request to
    afterAnimating) and whole frame (to frameSwapped), sync, render, and collections."""

    def __init__(self) -> None:
        import gc

        from PySide6.QtCore import QEvent, Qt

        self.spans: list[tuple[float, float, str]] = []  # (start, seconds, what), over 4 ms
        self.marks: dict[str, float] = {}
        split = driver is not bridge  # the driver drains and delivers to the bridge
        drain_name = "drain" if split else "_drain_inbox"
        for obj, name, label in ((driver, drain_name, "drain pass"),
                                 (driver, "deliver" if split else "_apply", "present + show"),
                                 (bridge.presenter, "present", "present"),
                                 (model, "append_lines", "model")):  # fmt: skip
            self._wrap(obj, name, label)
        # Passes run from the drain timer (revisions before it have none): time them too.
        drain_timer = getattr(driver, "drain_timer", None) or getattr(bridge, "_drain_timer", None)
        if drain_timer is not None:
            drain_timer.timeout.disconnect()
            drain_timer.timeout.connect(getattr(driver, drain_name))
        win, direct = chat.window, Qt.ConnectionType.DirectConnection
        update_request = QEvent.Type.UpdateRequest
        tracer = self

        class UpdateRequests(QObject):
            def eventFilter(self, obj: QObject, event: QEvent) -> bool:
                if event.type() == update_request:
                    tracer.marks["frame"] = time.monotonic()
                return False

        self._filter = UpdateRequests()
        win.installEventFilter(self._filter)
        win.afterAnimating.connect(lambda: self._since("frame", "polish"), direct)
        win.frameSwapped.connect(lambda: self._since("frame", "frame"), direct)
        win.beforeSynchronizing.connect(lambda: self._mark("sync"), direct)
        win.afterSynchronizing.connect(lambda: self._since("sync", "sync"), direct)
        win.beforeRendering.connect(lambda: self._mark("render"), direct)
        win.afterRendering.connect(lambda: self._since("render", "render"), direct)
        gc.callbacks.append(self._collection)

    def _wrap(self, obj: object, name: str, label: str) -> None:
        inner = getattr(obj, name)

        def timed(*args: object, **kwargs: object) -> object:
            start = time.monotonic()
            try:
                return inner(*args, **kwargs)
            finally:
                self._span(start, label)

        setattr(obj, name, timed)

    def _mark(self, name: str) -> None:
        self.marks[name] = time.monotonic()

    def _since(self, mark: str, label: str) -> None:
        if mark in self.marks:
            self._span(self.marks[mark], label)

    def _span(self, start: float, label: str) -> None:
        seconds = time.monotonic() - start
        if seconds > 0.004:
            self.spans.append((start, seconds, label))

    def _collection(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._mark("gc")
        else:
            self._since("gc", f"gc gen{info['generation']}")

    def print(self, gaps: list[tuple[float, float]], count: int = 6) -> None:
        for start, gap in sorted(gaps, key=lambda g: -g[1])[:count]:
            inside = ", ".join(
                f"+{(s - start) * 1000:.1f} {what} {seconds * 1000:.1f} ms"
                for s, seconds, what in self.spans
                if s < start + gap and s + seconds > start
            )
            print(f"stall {gap * 1000:.0f} ms: {inside or 'nothing over 4 ms'}", file=sys.stderr)


tracer = StallTrace() if os.environ.get("CLIENT_CHILD_STALLS") else None
inbox_drops = [0]  # what the inbox dropped (its notices may leave the scrollback before the end)
_say_dropped = getattr(bridge.presenter, "dropped", None)  # not in old revisions (bench_hostile)


def count_drops(count: int) -> object:
    inbox_drops[0] += count
    assert _say_dropped is not None
    return _say_dropped(count)


if _say_dropped is not None:
    bridge.presenter.dropped = count_drops  # type: ignore[method-assign]
contrast = PerDatagram() if PER_DATAGRAM else None
if contrast is None:
    bridge.start()
if hasattr(app_module, "freeze_startup_objects"):  # as run() does (not in old revisions)
    app_module.freeze_startup_objects()
if hasattr(app_module, "switch_threads_sooner"):  # as run() does (not in old revisions)
    app_module.switch_threads_sooner()
base_lines = model.total_appended
RSS0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
beats = [time.monotonic()]
state: dict[str, float | int | None] = {"first": None, "last_change": None, "last": -1}


def received() -> int:
    if contrast is not None:
        return contrast.received
    worker = worker_thread()
    return worker.received if worker is not None else 0  # type: ignore[attr-defined]


def progress() -> int:
    return len(bridge.core.roster) if mode == "welcome" else model.total_appended - base_lines


def thread_cpu(native_id: int | None) -> float:
    """CPU seconds of one thread of this process (0 when it is not there)."""
    if native_id is None:
        return 0.0
    try:
        fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(now: float) -> None:
    first = state["first"]
    worker = contrast.thread if contrast is not None else worker_thread()
    stalls = [b - a for a, b in itertools.pairwise(beats) if first and a >= first]
    if tracer is not None:
        tracer.print([(a, b - a) for a, b in itertools.pairwise(beats) if first and a >= first])
    dropped = inbox_drops[0]
    print(json.dumps({
        "catch_up": (state["last_change"] or now) - (first or now),
        "done": progress(), "received": received(), "dropped": dropped,
        "stall_ms": max(stalls) * 1000 if stalls else 0.0,
        "stalls_20ms": sum(s > 0.02 for s in stalls),
        "stalls_50ms": sum(s > 0.05 for s in stalls),
        "p99_stall_ms": sorted(stalls)[int(len(stalls) * 0.99)] * 1000 if stalls else 0.0,
        "stalls_100ms": sum(s > 0.1 for s in stalls),
        "rss0_mb": RSS0 / 1024,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "timed_out": now - beats[0] > TIMEOUT,
        # CPU seconds since start: the GUI thread, the worker (both hold the one GIL)
        "gui_cpu_s": thread_cpu(threading.main_thread().native_id),
        "frames": frames[0],
        "worker_cpu_s": thread_cpu(worker.native_id if worker is not None else None),
    }), flush=True)  # fmt: skip


def beat() -> None:
    now = time.monotonic()
    beats.append(now)
    if received() and state["first"] is None:
        state["first"] = now
    done = progress()
    if done != state["last"]:
        state["last"], state["last_change"] = done, now
    last_change = state["last_change"]
    idle = last_change is not None and now - float(last_change) > 2.0
    if done >= EXPECTED or (state["first"] is not None and idle) or now - beats[0] > TIMEOUT:
        report(now)
        timer.stop()
        if contrast is not None:
            contrast.stop.set()
            contrast.thread.join()
        bridge.shutdown(say_exit=False)
        app.exit(0)


timer = QTimer()
timer.timeout.connect(beat)
timer.start(5)
print("READY", flush=True)
app.exec()
