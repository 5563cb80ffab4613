"""The chats announced on this network, for the window's start view (issue 26).

``ChatFinder`` browses DNS-SD in zeroconf's thread and hands each new list to the GUI
thread by a queued signal; only the GUI thread touches ``ChatsModel``.  It also lists
the servers heard on the window's group that do not announce themselves (other
people's), learned from the source of their datagrams.  Join asks the app
for a window on that chat (``ChatBridge.joinRequested``), with the record's relay style, so
our own servers' senders are named from the first line.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal, Slot

from protocol_lib.discovery import ChatRecord
from protocol_lib.io.discovery import Browser

from .models import ChatsModel


class ChatFinder(QObject):
    """Browses while the window is open, and keeps the servers heard on the group without
    a record (other people's: they do not announce themselves)."""

    _found = Signal(object)  # emitted in zeroconf's thread, delivered in the GUI thread

    def __init__(self, model: ChatsModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._browser: Browser | None = None
        self._starting: threading.Thread | None = None
        self._announced: list[ChatRecord] = []
        self._heard: dict[str, ChatRecord] = {}  # source address -> a record made for it
        self.own: tuple[str, int] | None = None  # the chat this window hosts: not offered
        self._found.connect(self._show_announced)

    @Slot(object)
    def _show_announced(self, records: list[ChatRecord]) -> None:
        self._announced = records
        self._show()

    def heard(self, source: str, port: int, group: str, group_port: int) -> None:
        """This protocol's datagrams came on our group from ``source``: a server that does
        not announce itself, most likely on the port we know (the spec's by default)."""
        if source in self._heard:
            return
        title = f"a chat heard at {source} (not announced)"
        self._heard[source] = ChatRecord(title, source, port, group, group_port)
        self._show()

    @property
    def heard_sources(self) -> tuple[str, ...]:
        """The hosts, not this window's server, that sent this protocol on its group."""
        return tuple(self._heard)

    def hosting(self, where: tuple[str, int] | None) -> None:
        """This window hosts the chat at ``where`` (None: none any more): it is not offered
        to its own host with a Join."""
        self.own = where
        self._show()

    def _show(self) -> None:
        announced = {record.address for record in self._announced}
        heard = [r for address, r in self._heard.items() if address not in announced]
        own = self.own
        records = [*self._announced, *heard]
        self.model.set_records([r for r in records if (r.address, r.port) != own])

    def start(self, interfaces: list[str] | None = None) -> None:
        """Browse, from a thread of its own: importing zeroconf and opening its sockets
        took about 125 ms, which the window's start (its first frame) does not wait for.
        Where mDNS cannot be used (off, no LAN) the list stays empty."""
        self._starting = threading.Thread(
            target=self._start, args=(interfaces,), name="chat-finder", daemon=True
        )
        self._starting.start()

    def _start(self, interfaces: list[str] | None) -> None:
        browser = Browser(self._found.emit, interfaces)
        if browser.start() is None:
            self._browser = browser

    def close(self) -> None:
        """Stop browsing (before the application goes: zeroconf's thread signals here);
        a start still under way is waited for first."""
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        browser, self._browser = self._browser, None
        if browser is not None:
            browser.close()


def typed_chat(text: str, group: str, group_port: int) -> ChatRecord | str:
    """The chat at an address a person typed on the start screen ("10.0.0.5", or with its
    port, "10.0.0.5:4321"; "localhost"), on ``group``; else why it is not one, in words."""
    import ipaddress

    from protocol_lib import DEFAULT_SERVER_PORT

    where = text.strip()
    host, colon, port_text = where.rpartition(":")
    if not colon:
        host, port_text = where, str(DEFAULT_SERVER_PORT)
    if host.lower() == "localhost":
        host = "127.0.0.1"
    try:
        address = str(ipaddress.IPv4Address(host))
        port = int(port_text)
    except ValueError:
        return f"Not an address: {where!r}. Type one like 10.0.0.5, or 10.0.0.5:4321."
    if not 0 < port < 65536:
        return f"Not a port: {port_text} (1 to 65535)."
    return ChatRecord(where, address, port, group, group_port)
