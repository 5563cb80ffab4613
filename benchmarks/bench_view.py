"""What the chat view costs per batch of new lines: the model insert, the follow, the frame.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_view.py [--compare REV]
     (about 1 minute; no network)

bench_client measures the whole client under a flood, where the worker, the GIL and
the kernel add their noise. This measures only the view's part of a drain pass, in
the window a user gets (``ChatWindow``, offscreen): batches of chat lines go into the
message model as the bridge adds them (a full 10,000-line scrollback, so each batch
also drops as many old lines), and each batch is timed until its frame is swapped.
Printed: the GUI thread's CPU per batch, for batches of 1, 50 and 1,000 lines (the
per-batch cost is what a flood pays per pass, whatever the batch holds). With
``--compare REV`` the same is measured at git revision REV, alternating processes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ["LANCHAT_NO_MDNS"] = "1"  # windows made here look for no chats: loopback only
BATCHES = (1, 50, 1000)
ROUNDS = 300  # batches timed per size (after WARMUP)
WARMUP = 30
REPEATS = 3


def measure(root: Path) -> dict[int, float]:
    """In this process: CPU seconds of the GUI thread per batch, median, for each size."""
    sys.path.insert(0, str(root))
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication([])  # noqa: F841 - kept alive while the window lives
    from qml_client.app import ChatWindow
    from qml_client.cli import ClientOptions
    from qml_client.presenter import ChatLine, LineKind

    chat = ChatWindow(ClientOptions("127.0.0.1", 9, "239.255.1.1", 9, "127.0.0.1"))
    chat.window.resize(900, 700)
    chat.window.show()
    frame = QEventLoop()  # waits for the next frame without spinning (its CPU is not counted)
    chat.window.frameSwapped.connect(frame.quit)
    give_up = QTimer(singleShot=True, interval=2000)  # a frame that never comes ends it too
    give_up.timeout.connect(frame.quit)
    model = chat.bridge.message_model
    serial = 0

    def batch(size: int) -> list[ChatLine]:
        nonlocal serial
        serial += size
        return [
            ChatLine(LineKind.IN, f"line {n} of the flood, a few words long", "alice", "12:00:00")
            for n in range(serial - size, serial)
        ]

    feed = getattr(chat.bridge, "feed", None)  # since the bridge split: the line feed
    add = feed.add if feed is not None else chat.bridge._add_lines

    def one(size: int) -> float:
        lines = batch(size)
        start = time.thread_time()
        add(lines)
        give_up.start()
        frame.exec()
        return time.thread_time() - start

    for _ in range(model.scrollback // 1000):  # a full scrollback: every batch drops lines
        one(1000)
    result = {}
    for size in BATCHES:
        for _ in range(WARMUP):
            one(size)
        result[size] = statistics.median(one(size) for _ in range(ROUNDS))
    chat.close(say_exit=False)
    return result


def run(root: Path) -> dict[int, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(root)],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    return {int(k): v for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


def main(revision: str | None) -> None:
    from bench_server import revision_worktree  # benchmarks/ is on sys.path when run

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; load {os.getloadavg()}")
    print("GUI thread CPU per batch of chat lines, from the model insert to the frame "
          f"swapped (median of {ROUNDS}; full scrollback; offscreen)\n")  # fmt: skip
    with ExitStack() as stack:
        trees = {"now": ROOT}
        if revision:
            trees[revision] = stack.enter_context(revision_worktree(revision))
        runs: dict[str, list[dict[int, float]]] = {name: [] for name in trees}
        for _ in range(REPEATS):
            for name, tree in trees.items():
                runs[name].append(run(tree))
    head = "| lines per batch | " + " | ".join(trees)
    print(head + (" | now/before (median, spread) |" if revision else " |"))
    print("|---" * (len(trees) + 1 + bool(revision)) + "|")
    for size in BATCHES:
        cells = [statistics.median(r[size] for r in runs[name]) * 1e3 for name in trees]
        row = f"| {size:,} | " + " | ".join(f"{c:.2f} ms" for c in cells)
        if revision:
            pairs = zip(runs["now"], runs[revision], strict=True)
            ratios = sorted(a[size] / b[size] for a, b in pairs)
            row += f" | {statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"
        print(row + " |", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(measure(Path(sys.argv[2]))))
    else:
        args = sys.argv[1:]
        main(args[args.index("--compare") + 1] if "--compare" in args else None)
