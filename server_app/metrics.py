"""``--metrics HOST:PORT``: numbers an admin can watch, in Prometheus' text format at
``/metrics`` (prometheus-client, the ``metrics`` extra).

Nothing is counted on the relay's path for this: a scrape reads the core's own counters
(datagrams received, lines relayed, refusals by reason, users, the most sessions of one
host, the size of a list reply), the log's dropped lines and the federation link's state
when Prometheus asks, in the HTTP server's thread.  Reading plain integers there needs no
lock; a dict that the relay changes meanwhile is read again.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from protocol_lib.federated_server import FederatedServerCore
from protocol_lib.wire import UserList

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from prometheus_client.registry import Collector

    from .server import ChatServer

REQUEST_WITHIN = 5.0  # seconds a scrape's connection has for its request (then closed)
MAX_SCRAPES = 16  # connections served at once; more are closed at once, each a thread
PER_ADDRESS = 4  # of them from one address: one host holding its share keeps none from Prometheus


def _http_server(host: str, port: int, registry: Any) -> WSGIServer:
    """prometheus-client's WSGI app in a threaded server that cannot hurt the relay: a
    connection that does not finish its request in REQUEST_WITHIN is closed, and at most
    MAX_SCRAPES are served at once, PER_ADDRESS from one address (3,000 idle connections,
    a thread each, once took all of the server's 1,024 descriptors and a real scrape
    timed out)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from prometheus_client import make_wsgi_app
    from prometheus_client.exposition import ThreadingWSGIServer

    class Handler(WSGIRequestHandler):
        timeout = REQUEST_WITHIN  # the socket's: a silent or slow client is let go

        def log_message(self, format: str, *args: Any) -> None:
            pass  # a scrape is no news; the server's log is the chat's

    lock = threading.Lock()
    serving: dict[str, int] = {}  # address -> connections served now

    def take(address: str) -> bool:
        with lock:
            if sum(serving.values()) >= MAX_SCRAPES or serving.get(address, 0) >= PER_ADDRESS:
                return False
            serving[address] = serving.get(address, 0) + 1
            return True

    def give_back(address: str) -> None:
        with lock:
            serving[address] -= 1
            if not serving[address]:
                del serving[address]

    class Server(ThreadingWSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        request_queue_size = 128  # socketserver's 5 dropped a real scrape's SYN in a crowd

        def process_request(self, request: Any, client_address: Any) -> None:
            if not take(client_address[0]):  # over its share: closed at once, no thread
                self.shutdown_request(request)
                return
            try:
                super().process_request(request, client_address)
            except BaseException:
                give_back(client_address[0])
                raise

        def process_request_thread(self, request: Any, client_address: Any) -> None:
            try:
                super().process_request_thread(request, client_address)
            finally:
                give_back(client_address[0])

    return make_server(host, port, make_wsgi_app(registry), Server, handler_class=Handler)


INSTALL_HINT = (
    "--metrics needs prometheus-client: pip install 'lanchat[metrics]' (or "
    ".venv/bin/pip install prometheus-client)"
)


def _copy(counter: dict) -> dict:  # type: ignore[type-arg]
    """A copy of a dict the relay thread may change meanwhile."""
    for _ in range(10):
        try:
            return dict(counter)
        except RuntimeError:  # changed size during the copy: read it again
            continue
    return {}


class ChatCollector:
    """The server's numbers, read at scrape time."""

    def __init__(self, server: ChatServer) -> None:
        self.server = server

    def collect(self) -> Iterator[object]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        core = self.server.core
        users = core.users
        yield GaugeMetricFamily("lanchat_users", "Users in the chat.", value=len(users))
        yield CounterMetricFamily(
            "lanchat_datagrams_received", "Datagrams received from clients.", value=core.received
        )
        yield CounterMetricFamily(
            "lanchat_lines_relayed", "Chat lines relayed to the group.", value=core.relayed
        )
        refusals = CounterMetricFamily(
            "lanchat_refusals", "Datagrams not acted on, by reason.", labels=["reason"]
        )
        for reason, count in sorted(_copy(core.rejections).items()):
            refusals.add_metric([str(reason)], count)
        yield refusals
        yield GaugeMetricFamily(
            "lanchat_sessions_per_host_max",
            "The most sessions one IP address holds (the per-host cap applies to it).",
            value=core.most_sessions_from_one_host,
        )
        yield GaugeMetricFamily(
            "lanchat_list_bytes",
            "Bytes of one list reply now (every chunk).",
            value=sum(len(reply.encode()) for reply in UserList.chunks(users)),
        )
        yield CounterMetricFamily(
            "lanchat_log_lines_dropped",
            "Log lines dropped while the log's output was blocked or failing.",
            value=self.server.log.dropped,
        )
        if isinstance(core, FederatedServerCore):
            up, sites, remote_users = core.federation_status
            yield GaugeMetricFamily(
                "lanchat_federation_link_up", "1 while the broker link is up.", value=int(up)
            )
            yield GaugeMetricFamily(
                "lanchat_federation_remote_sites", "Other sites heard.", value=sites
            )
            yield GaugeMetricFamily(
                "lanchat_federation_remote_users", "Users at other sites.", value=remote_users
            )


class MetricsServer:
    """The HTTP endpoint, in a thread of its own, from ``start`` until ``close``."""

    def __init__(self, server: ChatServer, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.collector = ChatCollector(server)
        self._http: WSGIServer | None = None
        self.url = ""  # where it answers, once started

    def start(self) -> tuple[str, int]:
        """Listen (OSError if the address cannot be bound); where, as bound."""
        from prometheus_client import CollectorRegistry
        from prometheus_client.process_collector import ProcessCollector

        registry = CollectorRegistry()
        ProcessCollector(registry=registry)  # process_start_time_seconds, CPU, memory
        collector: Collector = self.collector  # type: ignore[assignment]
        registry.register(collector)
        http = _http_server(self.host, self.port, registry)
        threading.Thread(target=http.serve_forever, name="metrics", daemon=True).start()
        self._http = http
        bound = http.server_address
        return str(bound[0]), int(bound[1])

    def close(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
