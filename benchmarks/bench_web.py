"""The web gateway under a class and more: N WebSocket users on one lanchat-web, a chat of
20 lines a second from the group (issue 27).

Run: .venv/bin/python benchmarks/bench_web.py [--users 50 200 500] [--seconds 10]
     (about 1 minute for the three sizes; loopback only; mDNS off)

For each N: our server (no rate limit, the gateway's address let past the per-host cap) and
``lanchat-web`` as subprocesses on 127.0.0.1; N asyncio WebSocket clients (this process,
not browsers) log in; then ``--seconds`` of lines sent to the group at 20 a second, each
stamped with CLOCK_MONOTONIC (shared by all processes here) at sending. Printed:

- the gateway's CPU time per line delivered to one user (from /proc, the whole process),
- its resident memory per user (after the logins, minus before them),
- p50 / p99 / max from the group datagram to the WebSocket frame read by the client,
  over every user's every line; beside it the *floor*: the same datagrams read by a plain
  multicast socket in this process (the machine and this process's own loop: what the
  gateway cannot go under);
- the same chat again with one more page that stops reading (a raw socket that never
  reads after its login): everyone else's p99 must not move; the gateway drops it.

Goal (issue 27): 500 users, p99 under 50 ms, under 100 KB a user.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_rest import rss_mb  # noqa: E402
from benchmarks.bench_server import cpu_seconds, free_port  # noqa: E402
from protocol_lib.io.net import group_receiver, group_sender  # noqa: E402
from tests.helpers_web import free_tcp_port, slow_page  # noqa: E402

LOOPBACK = "127.0.0.1"
RATE = 20.0  # lines a second from the group


def start(args: list[str], ready: str) -> subprocess.Popen[str]:
    env = dict(os.environ, LANCHAT_NO_MDNS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    deadline = time.monotonic() + 15
    for line in proc.stdout:
        if ready in line:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{args[1]} did not start")
    # the rest of its output is read (and dropped) so that it never blocks on a full pipe
    threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
    return proc


def _drain(stream) -> None:  # type: ignore[no-untyped-def]
    for _ in stream:
        pass


class Users:
    """N pages: each logs in, then records the delay of every line it is sent."""

    def __init__(self, url: str, n: int) -> None:
        self.url = url
        self.n = n
        self.delays: list[float] = []
        self.counting = False

    async def open(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        in_chat = []
        for i in range(self.n):
            ws = await self.session.ws_connect(self.url + "ws")
            await ws.send_str(json.dumps({"t": "login", "name": f"u{i}"}))
            in_chat.append(asyncio.get_running_loop().create_future())
            asyncio.get_running_loop().create_task(self.read(ws, in_chat[-1]))
            if i % 25 == 24:
                await asyncio.wait_for(asyncio.gather(*in_chat), 30)
        await asyncio.wait_for(asyncio.gather(*in_chat), 30)

    async def read(self, ws, in_chat: asyncio.Future) -> None:  # type: ignore[no-untyped-def,type-arg]
        async for message in ws:
            frame = json.loads(message.data)
            kind = frame["t"]
            if kind == "state" and frame["state"] == "in chat" and not in_chat.done():
                in_chat.set_result(None)
            elif kind == "line" and self.counting:
                sent = float(frame["text"].split(" ", 2)[1])
                self.delays.append(time.monotonic() - sent)

    async def close(self) -> None:
        await self.session.close()


async def chat(group: tuple[str, int], seconds: float, users: Users) -> list[float]:
    """Lines at RATE for ``seconds``, stamped; returns the floor's delays."""
    sender = group_sender(LOOPBACK)
    floor_sock = group_receiver(group[0], group[1], LOOPBACK)
    floor_sock.setblocking(False)
    loop = asyncio.get_running_loop()
    floor: list[float] = []

    def floor_read() -> None:
        try:
            data = floor_sock.recv(2048)
        except BlockingIOError:
            return
        floor.append(time.monotonic() - float(data.split(b" ", 2)[1]))

    loop.add_reader(floor_sock.fileno(), floor_read)
    users.counting = True
    lines = int(seconds * RATE)
    start_at = loop.time()
    filler = "x" * 60
    for n in range(lines):
        await asyncio.sleep(max(0.0, start_at + n / RATE - loop.time()))
        sender.sendto(f"msg,teacher: {time.monotonic():.6f} {n} {filler}".encode(), group)
    await asyncio.sleep(1.0)  # the last lines arrive
    users.counting = False
    loop.remove_reader(floor_sock.fileno())
    floor_sock.close()
    sender.close()
    return floor


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000


async def one_size(n: int, seconds: float) -> dict[str, float]:
    port, group_port, http = free_port(), free_port(), free_tcp_port()
    group = f"239.255.{os.getpid() % 250}.{n % 250}"
    server = start(
        ["-m", "server_app", "--host", LOOPBACK, "--port", str(port), "--group", group,
         "--group-port", str(group_port), "--interface", LOOPBACK, "--no-rate-limit",
         "--gateway", LOOPBACK, "--max-sessions", "10000", "--quiet", "--no-advertise"],
        "ready",
    )  # fmt: skip
    gateway = start(
        ["-m", "web_gateway", LOOPBACK, "--port", str(port), "--group", group,
         "--group-port", str(group_port), "--interface", LOOPBACK, "--http-host", LOOPBACK,
         "--http-port", str(http), "--relay", "attributed", "--max-users", "10000",
         "--per-address", "10000", "--no-qr", "--quiet"],
        "Ctrl+C stops",
    )  # fmt: skip
    url = f"http://{LOOPBACK}:{http}/"
    try:
        await asyncio.sleep(0.5)
        before = rss_mb(gateway.pid)
        users = Users(url, n)
        await users.open()
        await asyncio.sleep(1.0)
        after = rss_mb(gateway.pid)
        cpu0 = cpu_seconds(gateway.pid)
        floor = await chat((group, group_port), seconds, users)
        cpu = cpu_seconds(gateway.pid) - cpu0
        lines = int(seconds * RATE)
        delivered = len(users.delays)
        result = {
            "n": n,
            "delivered": delivered / (lines * n),
            "cpu_us": cpu / max(1, delivered) * 1e6,
            "kb_per_user": (after - before) * 1024 / n,
            "p50": pct(users.delays, 50),
            "p99": pct(users.delays, 99),
            "max": pct(users.delays, 100),
            "floor_p50": pct(floor, 50),
            "floor_p99": pct(floor, 99),
        }
        users.delays = []
        slow = slow_page(url)
        await asyncio.sleep(0.5)
        await chat((group, group_port), seconds, users)
        result["slow_p99"] = pct(users.delays, 99)
        result["slow_delivered"] = len(users.delays) / (lines * n)
        slow.close()
        await users.close()
        return result
    finally:
        for proc in (gateway, server):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(f"lanchat-web, {RATE:g} lines/s from the group for {args.seconds:g} s; "
          f"{os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}")  # fmt: skip
    print(
        f"{'users':>6} {'got':>6} {'CPU us/line/user':>17} {'KB/user':>8} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'floor p50/p99':>14} "
        f"{'p99 w/ slow page':>17}"
    )
    for n in args.users:
        r = asyncio.run(one_size(n, args.seconds))
        print(
            f"{r['n']:>6} {r['delivered']:>6.1%} {r['cpu_us']:>17.1f} {r['kb_per_user']:>8.1f} "
            f"{r['p50']:>7.1f} {r['p99']:>7.1f} {r['max']:>7.1f} "
            f"{r['floor_p50']:>6.2f}/{r['floor_p99']:<7.2f} "
            f"{r['slow_p99']:>9.1f} ({r['slow_delivered']:.0%})",
            flush=True,
        )


if __name__ == "__main__":
    main()
