"""Test hosts on one machine: network namespaces joined by a bridge.

``Lan`` builds a bridge namespace and one namespace per host, each host with a
veth pair whose far end is a port of the bridge, addresses 10.200.0.0/24 that
exist only inside these namespaces, no default route and no link to the real
interfaces, and a route for 224.0.0.0/4 so multicast with TTL 1 crosses the
bridge as on a real LAN.  Names carry the process id, so a crashed run cannot
collide with the next, and ``close`` always removes everything it made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid


def unavailable_reason() -> str | None:
    """Why namespaces cannot be built here, or None if they can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root to create network namespaces"
    if shutil.which("ip") is None:
        return "needs the ip command (iproute2)"
    probe = f"lcprobe{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"ip netns add failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


class Lan:
    """A bridge and ``hosts`` namespaces on it; host i has address 10.200.0.(i+1)."""

    def __init__(self, hosts: list[str]) -> None:
        self.prefix = f"lc{os.getpid() % 100000}{uuid.uuid4().hex[:4]}"
        self.bridge_ns = f"{self.prefix}-br"
        self.namespaces: dict[str, str] = {}
        self.addresses: dict[str, str] = {}
        self._made: list[str] = []
        try:
            self._build(hosts)
        except BaseException:
            self.close()
            raise

    def _ip(self, *args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True, text=True)

    def _build(self, hosts: list[str]) -> None:
        self._ip("netns", "add", self.bridge_ns)
        self._made.append(self.bridge_ns)
        self._ip("-n", self.bridge_ns, "link", "add", "br0", "type", "bridge")
        # No IGMP querier on this LAN: flood multicast to every port instead of snooping.
        self._ip(
            "-n", self.bridge_ns, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0"
        )
        self._ip("-n", self.bridge_ns, "link", "set", "br0", "up")
        for i, host in enumerate(hosts):
            ns = f"{self.prefix}-{i}"
            self._ip("netns", "add", ns)
            self._made.append(ns)
            port = f"p{i}"
            # Created inside the host namespace, far end moved straight into the bridge's:
            # the machine's own namespace never sees either end.
            self._ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port,
                     "netns", self.bridge_ns)  # fmt: skip
            self._ip("-n", self.bridge_ns, "link", "set", port, "master", "br0")
            self._ip("-n", self.bridge_ns, "link", "set", port, "up")
            address = f"10.200.0.{i + 1}"
            self._ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            self._ip("-n", ns, "link", "set", "lo", "up")
            self._ip("-n", ns, "link", "set", "eth0", "up")
            self._ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")
            self.namespaces[host] = ns
            self.addresses[host] = address

    def add_routed_host(self, host: str) -> None:
        """``host`` on a second subnet (10.201.0.0/24) behind a router on the bridge
        (10.200.0.254 / 10.201.0.254): unicast is routed both ways, multicast with TTL 1
        is not (as beyond any router).  Only the two subnets are routed: no default route."""
        router = f"{self.prefix}-r"
        ns = f"{self.prefix}-{len(self.namespaces)}"
        for name in (router, ns):
            self._ip("netns", "add", name)
            self._made.append(name)
        self._ip("-n", router, "link", "add", "lan", "type", "veth", "peer", "name", "pr",
                 "netns", self.bridge_ns)  # fmt: skip
        self._ip("-n", self.bridge_ns, "link", "set", "pr", "master", "br0")
        self._ip("-n", self.bridge_ns, "link", "set", "pr", "up")
        self._ip("-n", router, "link", "add", "far", "type", "veth", "peer", "name", "eth0",
                 "netns", ns)  # fmt: skip
        self._ip("-n", router, "addr", "add", "10.200.0.254/24", "dev", "lan")
        self._ip("-n", router, "addr", "add", "10.201.0.254/24", "dev", "far")
        for link in ("lo", "lan", "far"):
            self._ip("-n", router, "link", "set", link, "up")
        subprocess.run(["ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
                       check=True, capture_output=True)  # fmt: skip
        self._ip("-n", ns, "addr", "add", "10.201.0.2/24", "dev", "eth0")
        self._ip("-n", ns, "link", "set", "lo", "up")
        self._ip("-n", ns, "link", "set", "eth0", "up")
        self._ip("-n", ns, "route", "add", "10.200.0.0/24", "via", "10.201.0.254")
        self._ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")
        for other in self.namespaces.values():
            self._ip("-n", other, "route", "add", "10.201.0.0/24", "via", "10.200.0.254")
        self.namespaces[host] = ns
        self.addresses[host] = "10.201.0.2"

    def run_in(self, host: str, *args: str) -> None:
        """A command inside ``host``'s namespace (nft, ip), which must succeed."""
        subprocess.run(["ip", "netns", "exec", self.namespaces[host], *args], check=True,
                       capture_output=True, text=True)  # fmt: skip

    def routes(self, host: str) -> str:
        return subprocess.run(
            ["ip", "-n", self.namespaces[host], "route", "show"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip

    def popen(self, host: str, args: list[str], **kwargs) -> subprocess.Popen:
        """Start ``args`` inside ``host``'s namespace."""
        return subprocess.Popen(["ip", "netns", "exec", self.namespaces[host], *args], **kwargs)

    def close(self) -> None:
        for ns in reversed(self._made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self._made.clear()


def mdns_env() -> dict[str, str]:
    """The suite's environment for a process inside the namespaces: the project on the
    path, unbuffered, and mDNS on (as on a real LAN; the suite turns it off elsewhere)."""
    from tests.helpers_net import ROOT

    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    env.pop("LANCHAT_NO_MDNS", None)
    return env


def start_server(
    lan: Lan, group: str, group_port: int, port: int, *extra: str, interface: str | None = None
):  # type: ignore[no-untyped-def]
    """Our server on the "server" host, bound to 0.0.0.0, multicasting from ``interface``
    (default: its address), once it says it is ready (a tests.test_netns.Process)."""
    import sys

    from tests.helpers_net import ROOT
    from tests.test_netns import Process

    args = [
        sys.executable, "-m", "server_app", "--host", "0.0.0.0", "--port", str(port),
        "--group", group, "--group-port", str(group_port),
        "--interface", interface or lan.addresses["server"], "--ttl", "1", *extra,
    ]  # fmt: skip
    output = {"text": True, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    server = Process(lan.popen("server", args, cwd=ROOT, env=mdns_env(), **output))
    server.expect(f"Multiuser server is ready on 0.0.0.0:{port}!")
    return server
