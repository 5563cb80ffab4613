"""An honest pair's round trip before and during each attack of issue 37.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_attacks.py [--quick]
     (about 2 minutes; 1 with --quick; loopback only; mDNS off)

Our server runs as a subprocess on 127.0.0.1 with ``--web`` and ``--metrics`` (both on
127.0.0.1) and its default limits.  The honest pair: alice and bob, each a plain UDP
client as any implementation would be, and a page of the server's web gateway (an
asyncio WebSocket client).  Their round trip: alice's ``msg,`` sent to the time its relay
is read on the group (``udp``), and the page's line sent to the time it comes back as a
frame (``page``); ``--samples`` of each, paced at 4 a second (within the server's 5/s).
Each attack runs in a child process for the whole phase and is bounded in count and time:

- forged: datagrams to the group from another port of the server's host, as fast as it
  goes (``msg,alice: ...``, ``bye,bob``, ``welcome,mallory``): windows believe none;
- sweep: a new source port per datagram to the server (``msg,x``): one host's sessionless
  ports share one budget;
- lockout: 1,000 logins from 200 addresses (127.0.1.x), then each phase's newcomer;
- idle pages: 9,000 TCP connections to the page from 127.0.0.2 that never send a byte;
- idle metrics: 3,000 such connections to ``--metrics`` from 127.0.0.2.

Printed per attack: p50 / p99 / max of each round trip, before and during, with how much
the attacker sent and what it achieved (lines relayed in alice's name, people let in).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["LANCHAT_NO_MDNS"] = "1"

from protocol_lib.io.net import group_receiver, group_sender  # noqa: E402
from tests.helpers_net import LOOPBACK, ServerProcess  # noqa: E402
from tests.helpers_web import Page  # noqa: E402
from web_gateway.runner import raise_open_files_limit  # noqa: E402

PACE = 0.25  # seconds between samples: 4 a second, under the server's 5/s per client
ATTACK_SECONDS = 60.0  # an attack child never runs longer than this
LOST = 2.0  # seconds after which a round trip counts as lost


# --- the attacks, each run as ``python bench_attacks.py --attack NAME ...`` -----------------


def attack_forged(group: str, group_port: int, seconds: float) -> dict:
    sock = group_sender(LOOPBACK, ttl=1)
    forged = [b"msg,alice: I quit", b"bye,bob", b"welcome,mallory"]
    sent, end = 0, time.monotonic() + seconds
    while time.monotonic() < end and sent < 5_000_000:
        for data in forged:
            sock.sendto(data, (group, group_port))
        sent += 3
    return {"sent": sent}


def attack_sweep(server: tuple[str, int], seconds: float) -> dict:
    sent, end = 0, time.monotonic() + seconds
    while time.monotonic() < end and sent < 2_000_000:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # a new port each
            sock.sendto(b"msg,x", server)
        sent += 1
    return {"sent": sent}


def attack_lockout(server: tuple[str, int], seconds: float) -> dict:
    socks = []
    for i in range(1000):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((f"127.0.1.{i % 200 + 1}", 0))
        sock.sendto(f"login,x{i}".encode(), server)
        socks.append(sock)
    time.sleep(seconds)  # the phantoms stay for the phase: nothing more to do
    for sock in socks:
        sock.close()
    return {"sent": 1000}


def attack_idle(port: int, count: int, seconds: float) -> dict:
    raise_open_files_limit()
    held, refused, end = [], 0, time.monotonic() + seconds
    for _ in range(count):
        try:
            held.append(socket.create_connection((LOOPBACK, port), 2.0, ("127.0.0.2", 0)))
        except OSError:
            refused += 1
    time.sleep(max(0.0, end - time.monotonic()))
    still = 0
    for sock in held:  # how many the server still holds open at the end
        sock.setblocking(False)
        try:
            closed = sock.recv(1) == b""  # EOF: the server closed it
        except BlockingIOError:
            closed = False  # nothing to read: still open
        except OSError:
            closed = True  # reset
        still += not closed
        sock.close()
    return {"sent": count, "refused at connect": refused, "held at the end": still}


def run_attack(args: argparse.Namespace) -> None:
    seconds = min(args.seconds, ATTACK_SECONDS)
    host, _, port = args.target.partition(":")
    if args.attack == "forged":
        result = attack_forged(host, int(port), seconds)
    elif args.attack == "sweep":
        result = attack_sweep((host, int(port)), seconds)
    elif args.attack == "lockout":
        result = attack_lockout((host, int(port)), seconds)
    else:
        result = attack_idle(int(port), args.count, seconds)
    print(json.dumps(result), flush=True)


# --- the honest pair -----------------------------------------------------------------------


class Pair:
    """alice and bob as plain UDP clients, and the group as everyone hears it."""

    def __init__(self, server: ServerProcess) -> None:
        self.addr = server.addr
        self.group = group_receiver(server.group, server.group_port, LOOPBACK, timeout=5.0)
        self.alice = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.bob = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.forged_heard = 0  # "msg,alice: I quit" on the group (never believed by a window)
        self.sweep_relayed = 0  # a sweep's "msg,x" relayed in someone's name
        for name, sock in (("alice", self.alice), ("bob", self.bob)):
            sock.bind((LOOPBACK, 0))
            sock.sendto(f"login,{name}".encode(), self.addr)
            self.wait(f"welcome,{name}".encode())

    def wait(self, wanted: bytes, timeout: float = 5.0) -> float | None:
        """Read the group until ``wanted``; when it came (None: not within ``timeout``)."""
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            self.group.settimeout(left)
            try:
                data = self.group.recv(65536)
            except TimeoutError:
                return None
            if data == b"msg,alice: I quit":
                self.forged_heard += 1
            elif data.endswith(b": x") and data.startswith(b"msg,"):
                self.sweep_relayed += 1
            if data == wanted:
                return time.monotonic()
        return None

    def round_trips(self, samples: int, tag: str) -> list[float]:
        times = []
        for i in range(samples):
            text = f"{tag} {i}"
            started = time.monotonic()
            self.alice.sendto(f"msg,{text}".encode(), self.addr)
            came = self.wait(f"msg,alice: {text}".encode(), LOST)
            times.append((came - started) * 1000 if came is not None else float("inf"))
            time.sleep(max(0.0, PACE - (time.monotonic() - started)))
        return times

    def newcomer(self, name: str) -> float:
        """A person's login, from their own address, to their welcome (ms; inf: none)."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.3", 0))
            started = time.monotonic()
            sock.sendto(f"login,{name}".encode(), self.addr)
            came = self.wait(f"welcome,{name}".encode())
            if came is not None:
                sock.sendto(b"exit,", self.addr)
        return (came - started) * 1000 if came is not None else float("inf")

    def close(self) -> None:
        for sock in (self.alice, self.bob, self.group):
            sock.close()


async def page_round_trips(url: str, samples: int, tag: str) -> list[float]:
    page = await Page.open(url)
    times = []
    try:
        await page.login(f"page{tag.replace(' ', '')}"[:30])
        for i in range(samples):
            text = f"{tag} page {i}"
            started = time.monotonic()
            await page.send(t="say", text=text)
            try:
                await page.wait_for(  # the gateway heard its relay: the line's ✓
                    lambda f: f["t"] == "mark" and f.get("status") == "delivered", "✓", LOST
                )
                times.append((time.monotonic() - started) * 1000)
            except AssertionError:
                times.append(float("inf"))
            await asyncio.sleep(max(0.0, PACE - (time.monotonic() - started)))
    finally:
        await page.close()
    return times


def summary(times: list[float]) -> str:
    done = sorted(t for t in times if t != float("inf"))
    lost = len(times) - len(done)
    if not done:
        return f"{'all lost':>22s}"
    p99 = done[min(len(done) - 1, round(0.99 * (len(done) - 1)))]
    text = f"{statistics.median(done):5.1f} /{p99:6.1f} /{done[-1]:6.1f}"
    return text + (f" ({lost} lost)" if lost else "")


def measure(pair: Pair, url: str, samples: int, tag: str) -> tuple[list[float], list[float]]:
    udp = pair.round_trips(samples, tag)
    page = asyncio.run(page_round_trips(url, samples, tag))
    return udp, page


# --- the run ---------------------------------------------------------------------------------


def start_attack(name: str, target: str, seconds: float, count: int = 0) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, "--attack", name, "--target", target, "--seconds",
         str(seconds), "--count", str(count)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 samples a phase, not 40")
    parser.add_argument("--attack", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=10.0, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attack:
        run_attack(args)
        return
    raise_open_files_limit()
    samples = 20 if args.quick else 40
    phase = samples * PACE * 2 + 5  # the udp and the page samples, and a margin
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; all traffic on 127.0.0.1")
    print(f"{samples} round trips per phase, 4 a second; ms p50 / p99 / max\n")
    server = ServerProcess("--web", f"{LOOPBACK}:0", "--metrics", f"{LOOPBACK}:0").start()
    try:
        metrics = server.wait_for_line(r"Metrics at http://[\d.]+:(\d+)/").group(1)
        url = server.wait_for_line(r"Phones and browsers join at (\S+)").group(1)
        page_port = url.rstrip("/").rsplit(":", 1)[1]
        pair = Pair(server)
        where = f"{LOOPBACK}:{server.port}"
        attacks = [
            ("forged", f"{server.group}:{server.group_port}", 0),
            ("sweep", where, 0),
            ("lockout", where, 0),
            ("idle pages", f"{LOOPBACK}:{page_port}", 9000),
            ("idle metrics", f"{LOOPBACK}:{metrics}", 3000),
        ]
        header = f"{'attack':14s} {'':7s} {'udp pair':>22s}   {'page':>22s}   newcomer"
        print(header)
        for n, (name, target, count) in enumerate(attacks):
            before = measure(pair, url, samples, f"b{n}")
            welcome_before = pair.newcomer(f"new{n}a")
            child = start_attack(name.split()[0] if count == 0 else "idle", target, phase, count)
            time.sleep(1.0 if count == 0 else 4.0)  # the attack under way (idle: connected)
            during = measure(pair, url, samples, f"d{n}")
            welcome_during = pair.newcomer(f"new{n}b")
            out, _ = child.communicate(timeout=ATTACK_SECONDS + 30)
            result = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
            print(f"{name:14s} {'before':7s} {summary(before[0]):>22s}   "
                  f"{summary(before[1]):>22s}   {welcome_before:6.1f}")  # fmt: skip
            print(f"{'':14s} {'during':7s} {summary(during[0]):>22s}   "
                  f"{summary(during[1]):>22s}   {welcome_during:6.1f}")  # fmt: skip
            print(f"{'':14s} attacker: {', '.join(f'{k} {v:,}' for k, v in result.items())}")
        print(f"\nforged lines read by the pair on the group: {pair.forged_heard:,} (a window "
              "shows them as not from the server and believes none)")  # fmt: skip
        print(f"sweep datagrams relayed in someone's name: {pair.sweep_relayed}")
        pair.close()
    finally:
        server.kill()


if __name__ == "__main__":
    main()
