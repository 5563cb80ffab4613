"""The server started from another program: announced with DNS-SD, and run in a thread of
the program that hosts it (the window's "Host a chat", ``lanchat --host``), with the same
loop and log as ``lanchat-server``."""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
from typing import TYPE_CHECKING

from protocol_lib.client_events import RelayStyle
from protocol_lib.discovery import SERVICE_TYPE, ChatRecord
from protocol_lib.io.discovery import NO_MDNS_ENV, Advertiser, mdns_disabled, served_interfaces

from .cli import ServerOptions, Verbosity
from .logfmt import LogSink
from .server import ChatServer
from .web import INSTALL_HINT, start_web, web_port, web_urls

if TYPE_CHECKING:
    from web_gateway.runner import GatewayThread

USERS_UPDATE_INTERVAL = 2.0  # seconds between looks at the number of users for the record


def advertise(server: ChatServer, log: LogSink, web: int | None = None) -> Advertiser | None:
    """Announce the chat with DNS-SD where the server serves (never on loopback alone),
    and keep its ``users`` key current; a line in the log says where, or why not."""
    options = server.options
    said = options.verbosity >= Verbosity.NORMAL  # quiet: start, stop and errors only
    if mdns_disabled():
        if said:
            log.plain(f"Not announced on the network: {NO_MDNS_ENV} is set.")
        return None
    interfaces = served_interfaces(options.host)
    if not interfaces:  # loopback: this machine's chat (a launcher's), nothing to announce
        return None
    title = options.title or f"lanchat on {socket.gethostname()}"
    record = ChatRecord(
        title, interfaces[0], server.address[1], options.group, options.group_port,
        RelayStyle.ATTRIBUTED, users=0, web=web, capacity=options.config.max_sessions,
    )  # fmt: skip
    advertiser = Advertiser(record, interfaces, report=lambda why: log.plain(f"mDNS: {why}."))
    advertiser.start()

    def watch() -> None:
        if not advertiser.registered.wait(10.0) or advertiser.problem is not None:
            why = advertiser.problem or "no answer from mDNS within 10 s"
            log.plain(f"Not announced on the network: {why} (clients can still type the address).")
            return
        if said:
            log.plain(f'Announced on {", ".join(interfaces)} as "{title}" ({SERVICE_TYPE}).')
        shown = 0
        while not server.stopped.wait(USERS_UPDATE_INTERVAL):
            users = len(server.core.users)
            if users != shown:
                advertiser.update_users(users)
                shown = users

    threading.Thread(target=watch, name="advertised", daemon=True).start()
    return advertiser


class HostedServer:
    """Our server in a thread of this process: ``start`` binds and announces it (raises
    SocketSetupError or OSError if it cannot), ``stop`` says bye for everyone and ends it."""

    def __init__(self, options: ServerOptions) -> None:
        self.options = options
        try:
            self.log = LogSink.to_stdout(options.log_file)
        except OSError:  # no standard output (pythonw on Windows): the file alone
            self.log = LogSink(open(os.devnull, "wb"), options.log_file)
        try:
            self.server = ChatServer(options, self.log)
        except BaseException:
            self.log.close()
            raise
        self.advertiser: Advertiser | None = None
        self.web: GatewayThread | None = None  # phones' page, when options.web asks for it
        self.web_problem = ""
        self._thread = threading.Thread(target=self._serve, name="hosted-server", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address

    def start(self) -> None:
        self.server.say_ready()
        web = self.options.web
        if web is not None:
            self.web, self.web_problem = start_web(self.options, self.address[1])
            if self.web is None and web[1] and self.web_problem != INSTALL_HINT:
                # the usual port is taken (another chat hosted here): any free one will do,
                # people scan the QR code rather than type it
                any_port = dataclasses.replace(self.options, web=(web[0], 0))
                self.web, self.web_problem = start_web(any_port, self.address[1])
            urls = ", ".join(web_urls(self.options, self.web)) if self.web else ""
            self.log.plain(f"Phones and browsers join at {urls}" if urls else self.web_problem)
        port = web_port(self.web)
        self.advertiser = advertise(self.server, self.log, port) if self.options.advertise else None
        self._thread.start()

    def _serve(self) -> None:
        try:
            self.server.serve_forever()
        finally:
            self.server.say_stopped()

    @property
    def users(self) -> int:
        return len(self.server.core.users)

    def stop(self, timeout: float = 10.0) -> None:
        """Bye for everyone, the record withdrawn, the sockets and the log closed."""
        if self.advertiser is not None:
            self.advertiser.close()
            self.advertiser = None
        if self.web is not None:  # its people leave while the server still hears them
            self.web.stop(timeout, ended=True)  # pages: "The host ended the chat"
            self.web = None
        self.server.stop()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.server.close()
        self.log.close()
