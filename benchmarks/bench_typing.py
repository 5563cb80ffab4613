"""Lines typed fast: how many reach the chat, paced (today's client) vs unpaced, same run.

Run: .venv/bin/python benchmarks/bench_typing.py   (about 40 s, loopback only)

Our real server process (default rate limit) on 127.0.0.1, multicast pinned to
127.0.0.1.  A typist is a ClientCore on a real UDP socket, driven as a shell
drives it: lines "typed" at a fixed rate, ``tick`` at ``next_deadline``, every
group datagram fed to ``receive``.  For each typing rate it prints how many
lines the group relayed, how many the client marked delivered / failed, and
how long the last one took, for the paced client and for one with pacing off
(``send_limit=None``: what the client did before, sending each line at once).
Every loop is bounded in count and time.
"""

from __future__ import annotations

import selectors
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from protocol_lib import ClientConfig, ClientCore, SendDatagram  # noqa: E402
from protocol_lib.client_events import DeliveryFailed, MessageDelivered  # noqa: E402
from protocol_lib.io.net import READ_SIZE, group_receiver  # noqa: E402
from qml_client.commands import typed_line  # noqa: E402
from tests.helpers_net import LOOPBACK, ServerProcess  # noqa: E402

CASES = [  # (lines, seconds to type them): 6 quick replies; 60 lines in 6.5 s; a burst
    (6, 1.0),
    (60, 6.5),
    (40, 2.0),
]


def run_typist(server: ServerProcess, lines: int, seconds: float, paced: bool) -> dict:
    config = ClientConfig() if paced else ClientConfig(send_limit=None)
    core = ClientCore(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOPBACK, 0))
    sock.setblocking(False)
    group = group_receiver(server.group, server.group_port, LOOPBACK)
    group.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(group, selectors.EVENT_READ)
    relayed = delivered = failed = 0
    last_delivery = 0.0

    def handle(events: list) -> None:
        nonlocal delivered, failed, last_delivery
        for event in events:
            if isinstance(event, SendDatagram):
                sock.sendto(event.data, server.addr)
            elif isinstance(event, MessageDelivered):
                delivered += 1
                last_delivery = time.monotonic()
            elif isinstance(event, DeliveryFailed):
                failed += len(event.message_ids)

    name = f"typist{int(time.monotonic() * 1000) % 100000}"
    start = time.monotonic()
    handle(typed_line(core, f"/login {name}", start))
    typed = 0
    prefix = f"msg,{name}: ".encode()
    limit = start + seconds + 30.0  # the bound: delivery timeouts are 5 s
    while time.monotonic() < limit:
        now = time.monotonic()
        if (
            core.state.value == "in chat"
            and typed < lines
            and now >= start + 0.2 + typed * (seconds / lines)
        ):
            handle(typed_line(core, f"line {typed}", now))
            typed += 1
        if typed == lines and delivered + failed == lines:
            break
        deadline = core.next_deadline()
        wait = 0.005 if deadline is None else max(0.0, min(0.005, deadline - now))
        for _ in selector.select(wait):
            while True:
                try:
                    data = group.recv(READ_SIZE)
                except BlockingIOError:
                    break
                if data.startswith(prefix):
                    relayed += 1
                handle(core.receive(data, LOOPBACK, time.monotonic()))
        due = core.next_deadline()
        if due is not None and time.monotonic() >= due:
            handle(core.handle_timer(time.monotonic()))
    handle(core.close(time.monotonic()))
    selector.close()
    sock.close()
    group.close()
    return {
        "relayed": relayed,
        "delivered": delivered,
        "failed": failed,
        "last": last_delivery - start - 0.2 if delivered else float("nan"),
    }


def main() -> None:
    server = ServerProcess("--quiet").start()
    try:
        print("Typing into our server (default limit: burst 10, then 5 lines/s per client)")
        print(f"{'lines in seconds':>17} {'client':>9} {'relayed':>8} {'delivered':>9} "
              f"{'failed':>6} {'last delivered after':>21}")  # fmt: skip
        for lines, seconds in CASES:
            for paced in (False, True):
                r = run_typist(server, lines, seconds, paced)
                label = "paced" if paced else "unpaced"
                print(f"{lines:>6} in {seconds:>4.1f} s {label:>9} {r['relayed']:>8} "
                      f"{r['delivered']:>9} {r['failed']:>6} {r['last']:>19.2f} s")  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
