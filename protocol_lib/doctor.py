"""Why nobody can be heard: facts about the network in, plain-words diagnoses out.

The most common complaint about every LAN messenger is "I can't see the others", and the
usual answer is "the firewall".  ``diagnose`` tells which of the known causes holds, in
order (the first that explains the symptom comes first), each with what to do on this OS.
The facts come from probes (``protocol_lib.io.doctor``: a refusal on a connected socket,
a login's welcome on the group, the mDNS record, the routes the kernel would take) or from
a window that already knows (it heard its server, or datagrams from other hosts).  No
sockets here: every diagnosis is testable from facts alone.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .discovery import is_lan_address


@dataclass(frozen=True, slots=True)
class Findings:
    """What the probes (or the window) found about one chat."""

    server: str
    port: int
    group: str
    group_port: int
    interface: str = "0.0.0.0"  # where the client joins the group ("0.0.0.0": the OS's choice)
    # This host's IPv4 addresses with their prefix lengths (loopback included).
    addresses: tuple[tuple[str, int], ...] = ()
    refused: bool = False  # ICMP port unreachable: nothing listens at server:port
    answered: bool = False  # a unicast reply came from the server
    announced: bool = False  # the server's DNS-SD record was seen
    heard_group: bool = False  # a datagram from the server arrived on the group
    # Addresses that sent this protocol's datagrams on the group, other than the server.
    other_sources: tuple[str, ...] = ()
    route_to_server: str | None = None  # the local address the kernel uses toward the server
    route_to_group: str | None = None  # ... and for multicast to the group
    # The group the server's DNS-SD record names, when it is not the one asked about.
    announced_group: tuple[str, int] | None = None
    # Why the group could not be joined here ("": it was, or nobody tried), in words.
    join_error: str = ""
    # (people in, as many as it lets in), when the server's record says the chat is full.
    full: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One cause, in one short paragraph: what holds, and what to do."""

    key: str  # stable, for tests and scripts: no-lan, refused, route, source, subnet, ...
    title: str
    text: str
    remedies: tuple[str, ...] = field(default_factory=tuple)

    def paragraph(self) -> str:
        steps = " ".join(self.remedies)
        return f"{self.title} {self.text}" + (f" {steps}" if steps else "")


def firewall_remedy(group_port: int, platform: str) -> str:
    """How to let the group's datagrams in, on this OS."""
    if platform == "win32":
        return (
            "Allow them in Windows' firewall (PowerShell as administrator): New-NetFirewallRule "
            f"-DisplayName lanchat -Direction Inbound -Protocol UDP -LocalPort {group_port} "
            "-Action Allow; and answer Allow when Windows asks about Python."
        )
    if platform == "darwin":
        return (
            "In System Settings > Network > Firewall > Options, allow incoming connections "
            "for Python (or turn 'Block all incoming connections' off)."
        )
    return (
        f"Let UDP {group_port} in: sudo ufw allow {group_port}/udp (ufw), sudo firewall-cmd "
        f"--add-port={group_port}/udp (firewalld), or an nftables rule accepting udp dport "
        f"{group_port}."
    )


def _on_link(server: str, addresses: tuple[tuple[str, int], ...]) -> bool:
    """Whether ``server`` is on one of this host's subnets (or is this host)."""
    target = ipaddress.IPv4Address(server)
    for address, prefix in addresses:
        try:
            network = ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)
        except ValueError:
            continue
        if target in network:
            return True
    return False


def _lan(addresses: tuple[tuple[str, int], ...]) -> list[tuple[str, int]]:
    return [(address, prefix) for address, prefix in addresses if is_lan_address(address)]


def _decisive(f: Findings, loopback: bool, lan: list[tuple[str, int]]) -> Diagnosis | None:
    """A cause that explains everything by itself (nothing after it is worth saying)."""
    if not loopback and not lan:
        return Diagnosis(
            "no-lan", "This computer has no network address.",
            "No interface has an IPv4 address on a network, so nothing can reach the chat.",
            ("Connect to the network (cable or Wi-Fi), then try again.",),
        )  # fmt: skip
    if f.refused:
        return Diagnosis(
            "refused", f"Nothing listens at {f.server}:{f.port}.",
            "The computer there answered that no program uses that UDP port.",
            ("Check the address and the port, and that the server runs there "
             "(lanchat-server, or the teacher's Host a chat); a chat announced on this "
             "network is in the window's list of chats, with its Join.",),
        )  # fmt: skip
    if f.full is not None:
        users, capacity = f.full
        return Diagnosis(
            "full", "The chat is full.",
            f"{users} {'person is' if users == 1 else 'people are'} in it; its server "
            f"lets in {capacity} at once.",
            ("Try again when someone has left, or ask whoever runs it to start it with a "
             "larger --max-sessions.",),
        )  # fmt: skip
    if f.join_error:
        return Diagnosis(
            "join", f"This computer cannot join the group {f.group}:{f.group_port}.",
            f"The chat's datagrams cannot reach it: {f.join_error}.",
        )  # fmt: skip
    if f.announced_group is not None and not f.heard_group:
        group, port = f.announced_group
        return Diagnosis(
            "group", f"The server sends to the group {group}:{port}, not {f.group}:"
            f"{f.group_port}.",
            "Its record on the network says so: you listen where it does not send.",
            (f"Start the client with --group {group} --group-port {port}.",),
        )  # fmt: skip
    return None


def diagnose(f: Findings, platform: str) -> list[Diagnosis]:
    """The causes that hold, most decisive first; one "fine" diagnosis when none does."""
    loopback = f.server.startswith("127.")
    lan = _lan(f.addresses)
    decisive = _decisive(f, loopback, lan)
    if decisive is not None:
        return [decisive]
    out: list[Diagnosis] = []
    if (
        f.interface == "0.0.0.0"
        and f.route_to_server
        and f.route_to_group
        and f.route_to_server != f.route_to_group
    ):
        out.append(Diagnosis(
            "route", "Multicast would leave by another network than the server's.",
            f"The server is reached through {f.route_to_server}, but datagrams to the group "
            f"{f.group} go through {f.route_to_group} (a VPN, Docker or a second card), so "
            "the group is joined on the wrong network.",
            (f"Start the client with --interface {f.route_to_server}.",),
        ))  # fmt: skip
    if not f.heard_group and f.other_sources:
        sources = ", ".join(f.other_sources)
        out.append(Diagnosis(
            "source", f"The group's datagrams come from {sources}, not from {f.server}.",
            "The server sends from another address than the one you send to (several "
            "cards, or NAT), so the client does not believe them.",
            (f"Start the client with --server-source {f.other_sources[0]}.",),
        ))  # fmt: skip
    if not loopback and not _on_link(f.server, tuple(lan)):
        if not f.heard_group:
            mine = ", ".join(f"{a}/{p}" for a, p in lan)
            out.append(Diagnosis(
                "subnet", f"The server {f.server} is on another network than this computer "
                f"({mine}).",
                "Your datagrams reach it through a router, but its multicast is sent with "
                "TTL 1 (the spec's), which no router passes on.",
                ("Join from the server's own network, or ask its operator to run it with "
                 "a larger --ttl on routers that forward multicast.",),
            ))  # fmt: skip
    elif not f.heard_group and not out:
        alive = (
            "The server is there (it answered)" if f.answered
            else "The server is there (it announces itself)" if f.announced
            else "Nothing refused your datagrams"
        )  # fmt: skip
        out.append(Diagnosis(
            "group-blocked", "Nothing the server sends to the group arrives here.",
            f"{alive}, but its group datagrams ({f.group}:{f.group_port}) do not reach this "
            "computer: a firewall drops them"
            + (" or the Wi-Fi isolates its clients from each other."
               if f.answered or f.announced  # not "or it is not running": it was just seen
               else ", the Wi-Fi isolates its clients from each other, or the server is not "
               "running."),
            (f"Check that {f.group}:{f.group_port} is the server's group (lanchat-server "
             "prints it when it starts; --group and --group-port set it here).",
             firewall_remedy(f.group_port, platform),
             "On Wi-Fi, try a cable, or ask for client isolation to be turned off."),
        ))  # fmt: skip
    if not out:
        out.append(Diagnosis(
            "fine", "No problem found.",
            f"The server at {f.server}:{f.port} answers and its group datagrams arrive here.",
        ))  # fmt: skip
    return out
