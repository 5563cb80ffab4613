"""A chat bot on the public API alone: answers ``!time`` and ``!who``.

Run it beside a server (it needs no Qt):

    .venv/bin/python examples/bot.py 127.0.0.1 --interface 127.0.0.1 --name timebot

It shows the whole shape of a tool over ``protocol_lib``: ``ClientCore`` makes
every decision (login, retries, pacing under the server's rate limit, who
said what), ``protocol_lib.io`` gives the sockets, the waker and the options,
and this file is the loop: read datagrams, hand them to the core with the
time, send what it returns, sleep until its next deadline.
"""

from __future__ import annotations

import select
import signal
import socket
import sys
import time
from datetime import datetime

from lanchat.options import (
    OneLineParser,
    add_network_options,
    host_address,
    ranged_int,
    user_name,
)
from protocol_lib import (
    DEFAULT_SERVER_PORT,
    ClientConfig,
    ClientCore,
    ClientEvent,
    ClientState,
    IncomingMessage,
    LocalError,
    SendDatagram,
    StateChanged,
)
from protocol_lib.io.net import (
    READ_SIZE,
    SocketSetupError,
    group_receiver,
    server_sources,
    unicast_socket,
)
from protocol_lib.io.waker import Waker, stop_signals
from protocol_lib.ratelimit import RateLimit, client_pace

GREETING = "Hello! Say !time or !who and I answer."


def answer(text: str, client: ClientCore) -> str | None:
    """What the bot says to a line, if anything."""
    command = text.strip().lower()
    if command == "!time":
        return f"It is {datetime.now():%H:%M:%S} here."
    if command == "!who":
        return f"In the chat: {', '.join(client.roster)}"
    return None


class Bot:
    """The loop around one ClientCore."""

    def __init__(self, server: tuple[str, int], group: tuple[str, int], interface: str) -> None:
        limit = client_pace(RateLimit())  # our server's default; a bot must never flood
        sources = server_sources(server[0])
        self.client = ClientCore(ClientConfig(send_limit=limit, server_sources=sources))
        self.server = server
        self.group_sock = group_receiver(group[0], group[1], interface)
        self.group_sock.setblocking(False)
        bind_ip = "" if interface == "0.0.0.0" else interface
        self.sock = unicast_socket(bind_ip, 0, "open the socket to the server")
        self.waker = Waker()
        self.stopping = False

    def carry_out(self, events: list[ClientEvent]) -> None:
        now = time.monotonic()
        for event in events:
            if isinstance(event, SendDatagram):
                self.sock.sendto(event.data, self.server)
            elif isinstance(event, IncomingMessage) and event.sender != self.client.user:
                reply = answer(event.text, self.client)
                if reply is not None:
                    self.carry_out(self.client.say(reply, now))
            elif isinstance(event, StateChanged) and event.state is ClientState.IN_CHAT:
                print(f"bot: in the chat as {event.user}", flush=True)
                # Saying something first also teaches the core how this server relays
                # (its echo): until then it credits nobody, and commands are not heard.
                self.carry_out(self.client.say(GREETING, now))
            elif isinstance(event, LocalError):
                print(f"bot: {event.message}", file=sys.stderr, flush=True)

    def run(self, name: str) -> None:
        self.carry_out(self.client.login(name, time.monotonic()))
        readable = [self.group_sock, self.sock, self.waker.reader]
        while not self.stopping:
            deadline = self.client.next_deadline()
            timeout = 1.0 if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select(readable, [], [], min(timeout, 1.0))
            for sock in ready:
                if sock is self.waker.reader:
                    self.waker.drain()
                    continue
                self._read(sock)
            self.carry_out(self.client.handle_timer(time.monotonic()))
        self.carry_out(self.client.close(time.monotonic()))

    def _read(self, sock: socket.socket) -> None:
        while True:
            try:
                data, addr = sock.recvfrom(READ_SIZE)
            except OSError:  # would block (all read), or an ICMP error: next time
                return
            self.carry_out(self.client.receive(data, addr, time.monotonic()))

    def stop(self, *_: object) -> None:
        self.stopping = True
        self.waker.wake()

    def close(self) -> None:
        self.group_sock.close()
        self.sock.close()
        self.waker.close()


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="bot.py", description=__doc__.splitlines()[0])
    parser.add_argument("server", type=host_address, help="the server's address or host name")
    parser.add_argument("--port", type=ranged_int(1, 65535, "port"), default=DEFAULT_SERVER_PORT)
    add_network_options(parser, sends=False)
    parser.add_argument("--name", type=user_name, default="timebot", help="the bot's name")
    args = parser.parse_args(argv)
    try:
        bot = Bot((args.server, args.port), (args.group, args.group_port), args.interface)
    except (SocketSetupError, OSError) as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return 1
    for sig in stop_signals():
        signal.signal(sig, bot.stop)
    try:
        bot.run(args.name)
    finally:
        bot.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
