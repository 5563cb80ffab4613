"""``python -m server_app`` / ``lanchat-server``: start the chat server."""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING

from protocol_lib.io.net import SocketSetupError, loop_is_the_senders

from .cli import ServerOptions, parse_options
from .hosted import advertise
from .logfmt import LogSink
from .server import ChatServer
from .web import start_web, web_port, web_urls

if TYPE_CHECKING:
    from web_gateway.runner import GatewayThread

    from .metrics import MetricsServer


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


def serve_metrics(
    server: ChatServer, log: LogSink, where: tuple[str, int]
) -> tuple[MetricsServer | None, str]:
    """The --metrics endpoint, started; or why not (the extra missing, the address taken)."""
    try:
        from .metrics import MetricsServer

        metrics = MetricsServer(server, *where)
        host, port = metrics.start()
    except ImportError:
        from .metrics import INSTALL_HINT

        return None, INSTALL_HINT
    except OSError as exc:
        return None, f"cannot serve --metrics on {where[0]}:{where[1]}: {exc}"
    metrics.url = f"http://{host}:{port}/metrics"
    return metrics, ""


Started = tuple[ChatServer, LogSink, "MetricsServer | None", "GatewayThread | None"]


def _start(options: ServerOptions) -> Started | str:
    """The log, the sockets, (--metrics) the endpoint and (--web) the page; or what
    stopped them, in words (what did start is closed again)."""
    try:
        log = LogSink.to_stdout(options.log_file)
    except OSError as exc:
        return f"cannot open the log file: {exc}"
    try:
        server = ChatServer(options, log)
    except SocketSetupError as exc:
        log.close()
        return str(exc)
    metrics = None
    if options.metrics is not None:
        metrics, problem = serve_metrics(server, log, options.metrics)
        if metrics is None:
            server.close()
            log.close()
            return problem
    web = None
    if options.web is not None:  # asked for and not there: nobody would know why
        web, problem = start_web(options, server.address[1])
        if web is None:
            if metrics is not None:
                metrics.close()
            server.close()
            log.close()
            return problem
    return server, log, metrics, web


def caveats(options: ServerOptions, platform: str = sys.platform) -> list[str]:
    """Options that cannot do here what they say, each said at start (else the operator
    believes them)."""
    notes = []
    if not options.loop and not loop_is_the_senders(platform):
        notes.append(
            "Note: --no-loop has no effect on Windows (there each receiving program decides "
            "whether it hears multicast sent from its own computer): clients on this "
            "computer still hear the chat."
        )
    return notes


def _say_start(
    server: ChatServer,
    log: LogSink,
    options: ServerOptions,
    metrics: MetricsServer | None,
    web: GatewayThread | None,
) -> None:
    """The start lines: the spec's ready line, where metrics and the page are, the group
    (verbose), and what an option cannot do here."""
    server.say_ready()
    if metrics is not None:
        log.plain(f"Metrics at {metrics.url}")
    if web is not None:
        log.plain(f"Phones and browsers join at {', '.join(web_urls(options, web))}")
    if options.verbosity:
        iface = "the OS's choice" if options.interface == "0.0.0.0" else options.interface
        replies = options.config.list_reply.value
        log.plain(
            f"Sending to group {options.group}:{options.group_port} "
            f"(TTL {options.ttl}, interface {iface}, list replies: {replies})"
        )
    for note in caveats(options):
        log.plain(note)


def main(argv: list[str] | None = None) -> int:
    if "--print-systemd-unit" in (sys.argv[1:] if argv is None else argv):
        from .service import systemd_unit

        print(systemd_unit(), end="")
        return 0
    options = parse_options(argv)
    started = _start(options)
    if isinstance(started, str):
        print(f"lanchat-server: {started}", file=sys.stderr)
        return 1
    server, log, metrics, web = started
    restore = server.install_signal_handlers()
    if options.stop_with_stdin:
        threading.Thread(target=_stop_at_end_of_input, args=(server,), daemon=True).start()
    _say_start(server, log, options, metrics, web)
    advertiser = advertise(server, log, web_port(web)) if options.advertise else None
    try:
        server.serve_forever()
    finally:
        if advertiser is not None:
            advertiser.close()  # a goodbye: browsers drop the chat at once
        if web is not None:
            web.stop(ended=True)  # its people leave (an exit each; their pages: ended)
        if metrics is not None:
            metrics.close()
        restore()
        server.say_stopped()
        server.close()
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
