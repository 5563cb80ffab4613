"""``python -m server_app`` / ``lanchat-server``: start the chat server."""

from __future__ import annotations

import os
import socket
import sys
import threading

from protocol_lib.client_events import RelayStyle
from protocol_lib.discovery import SERVICE_TYPE, ChatRecord
from protocol_lib.io.discovery import NO_MDNS_ENV, Advertiser, mdns_disabled, served_interfaces
from protocol_lib.io.net import SocketSetupError

from .cli import Verbosity, parse_options
from .logfmt import LogSink
from .server import ChatServer


def _stop_at_end_of_input(server: ChatServer) -> None:
    """``--stop-with-stdin``: read standard input until it ends (the program that started
    us closed its end, or died: the OS closes it then), then stop as on SIGTERM.  Works
    the same on every OS, where a signal to a child does not (Windows)."""
    try:
        fd = sys.stdin.fileno()
        while os.read(fd, 4096):
            pass
    except (AttributeError, OSError, ValueError):  # no standard input at all: ended
        pass
    server.log.line("stopping: standard input ended")
    server.stop()


USERS_UPDATE_INTERVAL = 5.0  # seconds between looks at the number of users for the record


def advertise(server: ChatServer, log: LogSink) -> Advertiser | None:
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
        RelayStyle.ATTRIBUTED, users=0,
    )  # fmt: skip
    advertiser = Advertiser(record, interfaces)
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


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    try:
        log = LogSink.to_stdout(options.log_file)
    except OSError as exc:
        print(f"lanchat-server: cannot open the log file: {exc}", file=sys.stderr)
        return 1
    try:
        server = ChatServer(options, log)
    except SocketSetupError as exc:
        print(f"lanchat-server: {exc}", file=sys.stderr)
        log.close()
        return 1
    restore = server.install_signal_handlers()
    if options.stop_with_stdin:
        threading.Thread(target=_stop_at_end_of_input, args=(server,), daemon=True).start()
    host, port = server.address
    log.plain(f"Multiuser server is ready on {host}:{port}!")
    advertiser = advertise(server, log) if options.advertise else None
    if options.verbosity:
        iface = "the OS's choice" if options.interface == "0.0.0.0" else options.interface
        replies = options.config.list_reply.value
        log.plain(
            f"Sending to group {options.group}:{options.group_port} "
            f"(TTL {options.ttl}, interface {iface}, list replies: {replies})"
        )
    try:
        server.serve_forever()
    finally:
        if advertiser is not None:
            advertiser.close()  # a goodbye: browsers drop the chat at once
        restore()
        core = server.core
        log.plain(
            f"Multiuser server stopped: {core.received} datagrams received, "
            f"{core.relayed} relayed, {core.rejections.total()} rejected."
        )
        server.close()
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
