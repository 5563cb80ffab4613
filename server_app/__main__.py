"""``python -m server_app`` / ``lanchat-server``: start the chat server."""

from __future__ import annotations

import sys

from protocol_lib.io.net import SocketSetupError

from .cli import parse_options
from .logfmt import LogSink
from .server import ChatServer


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
    host, port = server.address
    log.plain(f"Multiuser server is ready on {host}:{port}!")
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
