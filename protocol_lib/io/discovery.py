"""DNS-SD over mDNS with python-zeroconf: a server advertises its chat, a client finds chats.

The record itself (what the TXT keys say, how a resolved service is read) is pure and lives
in ``protocol_lib.discovery``; this module only talks to the network.  Both sides bind
mDNS to the interfaces given, never more: a server advertises only where it serves.
zeroconf runs its own thread; ``Advertiser.start`` returns at once (registering probes the
name for about 1.5 s in the background), and a ``Browser`` calls ``on_change`` from
zeroconf's thread with the whole list each time something is added, updated or removed.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ..discovery import SERVICE_TYPE, ChatRecord, is_lan_address, read_record
from .net import local_addresses

if TYPE_CHECKING:
    from zeroconf import ServiceBrowser, ServiceInfo, Zeroconf

RESOLVE_MS = 1500  # how long a browser waits for a found service's record


NO_MDNS_ENV = "LANCHAT_NO_MDNS"
"""Set (to anything but "" or "0"): no mDNS at all, neither announced nor looked for (a
network where it is unwelcome; the test suite, whose traffic stays on loopback)."""


def mdns_disabled() -> bool:
    return os.environ.get(NO_MDNS_ENV, "") not in ("", "0")


def lan_addresses() -> list[str]:
    """This host's IPv4 addresses on a network (not loopback, not link-local)."""
    return [address for address in local_addresses() if is_lan_address(address)]


def served_interfaces(host: str) -> list[str]:
    """Where a server bound to ``host`` can be reached from the LAN: every LAN address for
    0.0.0.0, the address itself otherwise, nothing for loopback (only this machine)."""
    if host.startswith("127."):
        return []
    if host == "0.0.0.0":
        return lan_addresses()
    return [host]


class Advertiser:
    """One chat's record on the interfaces it serves, from ``start`` until ``close``.

    ``report`` is told, in a sentence, whatever goes wrong with mDNS after the start (an
    update or a goodbye that zeroconf refused): a record that silently stops being current
    is how a chat once vanished from every search five seconds into a lesson.
    """

    def __init__(
        self,
        record: ChatRecord,
        interfaces: list[str],
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.record = record
        self.interfaces = interfaces
        self.report = report
        self.problem: str | None = None  # why it could not advertise, once known
        self.registered = threading.Event()  # set when the record is out (or failed)
        self._zc: Zeroconf | None = None
        self._info: ServiceInfo | None = None
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        threading.Thread(target=self._register, name="advertiser", daemon=True).start()

    def _register(self) -> None:
        try:
            from zeroconf import IPVersion, Zeroconf

            zc = Zeroconf(interfaces=self.interfaces, ip_version=IPVersion.V4Only)
            info = self._service_info(self.record.instance_name())
            with self._lock:
                if self._closed:
                    zc.close()
                    return
                self._zc, self._info = zc, info
            zc.register_service(info, allow_name_change=True)
        except Exception as exc:  # zeroconf raises many kinds: say, never crash
            self.problem = f"{type(exc).__name__}: {exc}"
        finally:
            self.registered.set()

    def update_users(self, users: int) -> None:
        """Say how many are in the chat now (browsers show it); no-op until registered."""
        with self._lock:
            zc, info = self._zc, self._info
            if zc is None or info is None or self._closed or not self.registered.is_set():
                return
            self.record = replace(self.record, users=users)
            # the registered name and host name, as registration settled them: zeroconf's
            # update replaces the registered record with this one, and one without a host
            # name cannot be announced (it raised, with the old record already withdrawn)
            info = self._info = self._service_info(info.name, info.server)
        try:
            zc.update_service(info)
        except Exception as exc:  # zeroconf raises many kinds: said, never hidden
            self._report(f"could not update the announced record: {type(exc).__name__}: {exc}")

    def _report(self, problem: str) -> None:
        if self.report is not None:
            self.report(problem)

    def _service_info(self, name: str, server: str | None = None) -> ServiceInfo:
        from zeroconf import ServiceInfo

        return ServiceInfo(
            SERVICE_TYPE,
            name,
            addresses=[socket.inet_aton(a) for a in self.interfaces],
            port=self.record.port,
            properties=self.record.txt(),
            server=server,
        )

    def close(self) -> None:
        """Say goodbye (browsers drop the record at once) and stop mDNS."""
        with self._lock:
            self._closed = True
            zc, info = self._zc, self._info
            self._zc = self._info = None
        if zc is None:
            return
        try:
            if info is not None and self.registered.is_set() and self.problem is None:
                zc.unregister_service(info)
        except Exception as exc:  # browsers then drop the record when its TTL runs out
            self._report(f"could not withdraw the announced record: {type(exc).__name__}: {exc}")
        zc.close()


class Browser:
    """The chats advertised on the interfaces given (all LAN addresses by default)."""

    def __init__(
        self,
        on_change: Callable[[list[ChatRecord]], None],
        interfaces: list[str] | None = None,
    ) -> None:
        self.on_change = on_change
        self.interfaces = interfaces
        self.records: dict[str, ChatRecord] = {}  # instance name -> record
        self.rejected: dict[str, str] = {}  # instance name -> why its record is not used
        self._zc: Zeroconf | None = None
        self._browser: ServiceBrowser | None = None
        self._lock = threading.Lock()

    def start(self) -> str | None:
        """Browse; a sentence if mDNS cannot be used here (no interface, no port 5353)."""
        if mdns_disabled():
            return f"looking for chats on the network is off ({NO_MDNS_ENV} is set)"
        try:
            from zeroconf import IPVersion, ServiceBrowser, Zeroconf

            interfaces = self.interfaces if self.interfaces is not None else lan_addresses()
            if not interfaces:
                return "no network interface with an IPv4 address to look for chats on"
            zc = Zeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
            self._zc = zc
            self._browser = ServiceBrowser(zc, SERVICE_TYPE, handlers=[self._changed])
        except Exception as exc:  # zeroconf raises many kinds: say, never crash
            return f"cannot look for chats on this network ({type(exc).__name__}: {exc})"
        return None

    def _changed(self, zeroconf, service_type: str, name: str, state_change) -> None:  # type: ignore[no-untyped-def]
        from zeroconf import ServiceStateChange

        if state_change is ServiceStateChange.Removed:
            with self._lock:
                self.records.pop(name, None)
            self.on_change(self.found())
            return
        info = zeroconf.get_service_info(service_type, name, timeout=RESOLVE_MS)
        if info is None:
            return
        record, why = read_record(info.parsed_addresses(), info.port, info.properties)
        with self._lock:
            if record is None:
                self.rejected[name] = why
                self.records.pop(name, None)
            else:
                self.records[name] = record
        self.on_change(self.found())

    def found(self) -> list[ChatRecord]:
        with self._lock:
            return sorted(self.records.values(), key=lambda r: (r.title.casefold(), r.address))

    def close(self) -> None:
        browser, zc = self._browser, self._zc
        self._browser = self._zc = None
        if browser is not None:
            browser.cancel()  # raises only for a bug: let it be seen
        if zc is not None:
            zc.close()
