"""A server that is one site of several: the one-LAN ``ServerCore``, extended.

``ServerCore`` (server.py) is the assignment's server: one LAN, its sessions, its
rules.  A federated server is that core plus what the other sites add (protocol_lib/
federation.py has their events, claims and liveness): a login waits for the name's
claim while the broker is reachable, every welcome, line and bye is published, other
sites' users are in the list, and sites that go silent are given up.  It fills in the
core's hooks (``_may_join``, ``_joined``, ``_said``, ``_left``, ``_closing``,
``_others``), takes what the broker's side reports (``federated``), and adds its
deadlines to the core's.  Sans-I/O like the core: server_app/federation.py talks to
the broker.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Container, Iterable
from typing import assert_never

from .federation import (
    ClaimAnswered,
    ClaimName,
    ClaimOutcome,
    EventKind,
    FederationConfig,
    FederationInput,
    FederationNotice,
    LinkChanged,
    NameClaim,
    Publish,
    ReleaseNames,
    RemoteEvent,
    RemoteSites,
    SiteEvent,
    SiteHeard,
    name_key,
)
from .names import canonical_name
from .reasons import Reason
from .server import ServerConfig, ServerCore
from .server_events import Address, SendToGroup, ServerAction
from .session import Session
from .wire import Bye


class FederatedServerCore(ServerCore):
    """``ServerCore`` for one site of a federation (``FederationConfig``)."""

    def __init__(self, config: ServerConfig | None, federation: FederationConfig) -> None:
        super().__init__(config)  # its _may_join and _said: no plain joins, lines published
        self._sites = _Sites(federation)

    # --- the core's hooks -----------------------------------------------------

    def _may_join(self, name: str, canonical: str, addr: Address, now: float,
                  out: list[ServerAction]) -> bool:  # fmt: skip
        return self._sites.may_join(name, canonical, addr, now, out, self._reject)

    def _joined(self, name: str, out: list[ServerAction]) -> None:
        out.append(self._sites.publish(EventKind.WELCOME, name))

    def _said(self, user: str, text: str, out: list[ServerAction]) -> None:
        out.append(self._sites.publish(EventKind.MSG, user, text))

    def _left(self, user: str, out: list[ServerAction]) -> None:
        # the name is free before the others hear the bye
        out.append(self._sites.release(user))
        out.append(self._sites.publish(EventKind.BYE, user))

    def _closing(self, users: list[str], out: list[ServerAction]) -> None:
        out.append(self._sites.release_held(users))
        out += [self._sites.publish(EventKind.BYE, user) for user in users]

    def _others(self) -> tuple[str, ...]:
        return tuple(self._sites.remote.users())

    @property
    def federation_status(self) -> tuple[bool, int, int]:
        """(link to the broker up, remote sites heard, remote users): for monitoring."""
        remote = self._sites.remote
        return self._sites.link_up, len(remote.sites()), len(remote.users())

    # --- timers: the core's, and sites given up -------------------------------

    def handle_timer(self, now: float) -> list[ServerAction]:
        out = super().handle_timer(now)
        if self._sites.expire(now, out):
            self._list_replies = None
        return out

    def next_deadline(self) -> float | None:
        due = super().next_deadline()
        expiry = self._sites.next_expiry()
        if expiry is not None and (due is None or expiry < due):
            due = expiry
        return due

    # --- what the broker's side reports ---------------------------------------

    def federated(self, item: FederationInput, now: float) -> list[ServerAction]:
        """Handle what the broker's side reports: another site's event, a heartbeat,
        the answer to a name claim, the link going up or down."""
        out: list[ServerAction] = []
        sites = self._sites
        if isinstance(item, RemoteEvent):
            if not sites.apply(item.event, self._by_name, now, out):
                return out
            if item.event.kind is EventKind.MSG:
                return out
        elif isinstance(item, SiteHeard):
            sites.heard(item, now, out)
        elif isinstance(item, ClaimAnswered):
            self._claim_answered(item, now, out)
        elif isinstance(item, LinkChanged):
            sites.link_changed(item, self._by_name, now, out)
        else:
            assert_never(item)
        self._list_replies = None
        return out

    def _claim_answered(self, answer: ClaimAnswered, now: float, out: list[ServerAction]) -> None:
        sites = self._sites
        user, addr = answer.user, answer.addr
        canonical = canonical_name(user)
        session = self._by_name.get(canonical)
        if answer.reassert:
            if answer.outcome is ClaimOutcome.HELD and session is not None:
                site = answer.holder.site if answer.holder else "another site"
                self._end_session(session)
                out.append(SendToGroup(Bye(session.user).encode()))
                out.append(sites.publish(EventKind.BYE, session.user))
                out.append(
                    FederationNotice(
                        f"{user!r} at {session.addr!r} ended: the name was taken at site {site} "
                        "while this site was cut off"
                    )
                )
            return
        if not sites.claim_settled(user, addr):
            return  # not the claim that is out for this name (a stale answer)
        # Held, or shown from another site meanwhile (a site that decided alone while
        # cut off): never two users under one name on this LAN.
        remote = sites.remote.holder(canonical)
        if answer.outcome is ClaimOutcome.HELD or remote is not None:
            site = remote or (answer.holder.site if answer.holder else "another site")
            detail = f"{user!r} is in the chat at site {site}"
            self._reject(out, now, Reason.NAME_TAKEN, addr, detail)
            if answer.outcome is ClaimOutcome.GRANTED:
                out.append(sites.release(user))
            return
        if session is not None or addr in self._by_addr or not self._room_for(addr, now, out):
            if session is not None or addr in self._by_addr:
                self._reject(out, now, Reason.ALREADY_LOGGED_IN, addr, f"{user!r} claimed twice")
            if answer.outcome is ClaimOutcome.GRANTED:
                out.append(sites.release(user))
            return
        self._join(user, addr, canonical, now, out)


_Reject = Callable[[list[ServerAction], float, Reason, Address, str], None]


class _Sites:
    """This site's side of the federation: its own events, its claims, the other sites."""

    def __init__(self, config: FederationConfig) -> None:
        self.config = config
        self.remote = RemoteSites(config)
        self.link_up = False
        self.link_up_at = 0.0
        self._seq = 0
        self._claims: dict[str, tuple[str, Address]] = {}  # canonical -> (name, addr) asked

    def publish(
        self, kind: EventKind, user: str = "", text: str = "", users: tuple[str, ...] = ()
    ) -> Publish:
        """This site's next event.  Runs for every line the relay passes on: the tuples are
        made directly (``tuple.__new__``, as a NamedTuple's own ``__new__`` does, without
        its Python frame): 0.38 us a line instead of 0.57."""
        self._seq += 1
        config = self.config
        fields = (config.site, config.epoch, self._seq, kind, user, text, users)
        return tuple.__new__(Publish, (tuple.__new__(SiteEvent, fields),))

    def claim(self, user: str, addr: Address, reassert: bool = False) -> ClaimName:
        """Ask for ``user``'s name; a first claim may clear entries of sites given up."""
        config = self.config
        claim = NameClaim(user, config.site, config.epoch)
        stale = frozenset() if reassert else self.remote.lost()
        return ClaimName(user, addr, name_key(user), claim, reassert, stale)

    def release(self, user: str) -> ReleaseNames:
        return ReleaseNames(self.config.site, self.config.epoch, (name_key(user),))

    def release_held(self, users: Iterable[str]) -> ReleaseNames:
        """The names of ``users`` and of the claims still out, by key: a stopping site
        frees them without listing the bucket (a busy broker may not list it before
        the stop's deadline, and then every name stayed held after its bye)."""
        asked = (name for name, _ in self._claims.values())
        keys = sorted({name_key(user) for user in itertools.chain(users, asked)})
        return ReleaseNames(self.config.site, self.config.epoch, tuple(keys))

    def may_join(
        self,
        name: str,
        canonical: str,
        addr: Address,
        now: float,
        out: list[ServerAction],
        reject: _Reject,
    ) -> bool:
        """Whether a local login may join now; else it was refused or its claim is out.

        Connected, a login waits for its claim (an atomic create at the broker);
        cut off, the site decides alone and asserts the name when the link is back.
        """
        holder = self.remote.holder(canonical)
        if holder is not None:
            reject(out, now, Reason.NAME_TAKEN, addr, f"{name!r} is in the chat at site {holder}")
            return False
        asked = self._claims.get(canonical)
        if asked is not None:
            if asked[1] != addr:
                detail = f"{name!r} is being claimed from {asked[1]!r}"
                reject(out, now, Reason.NAME_TAKEN, addr, detail)
            return False  # a retry while its claim is out: the answer welcomes it
        if not self.link_up:
            return True
        self._claims[canonical] = (name, addr)
        out.append(self.claim(name, addr))
        return False

    def claim_settled(self, user: str, addr: Address) -> bool:
        """Take the answered claim off the list; False if it was not the one out."""
        canonical = canonical_name(user)
        if self._claims.get(canonical) != (user, addr):
            return False
        del self._claims[canonical]
        return True

    def apply(
        self, event: SiteEvent, local: Container[str], now: float, out: list[ServerAction]
    ) -> bool:
        sends: list[bytes] = []
        applied = self.remote.apply(event, local, now, sends)
        self._carry_out(sends, out)
        return applied

    def _carry_out(self, sends: list[bytes], out: list[ServerAction]) -> None:
        """What RemoteSites decided: lines for the group, notes for the log."""
        out += [SendToGroup(data) for data in sends]
        out += [FederationNotice(note) for note in self.remote.take_notes()]

    def heard(self, heartbeat: SiteHeard, now: float, out: list[ServerAction]) -> None:
        sends: list[bytes] = []
        self.remote.heard(heartbeat.site, heartbeat.epoch, now, sends)
        self._carry_out(sends, out)

    def link_changed(
        self, change: LinkChanged, local: dict[str, Session], now: float, out: list[ServerAction]
    ) -> None:
        """Cut off: serve this LAN alone.  Back: reconcile, re-assert names, tell the roster."""
        if not change.up:
            if self.link_up:
                out.append(FederationNotice("cut off from the federation: serving this LAN alone"))
            self.link_up = False
            # Claims that are out will be answered UNAVAILABLE by the broker's side.
            return
        self.link_up, self.link_up_at = True, now
        sends: list[bytes] = []
        self.remote.reconcile_claims(change.claims, local, now, sends)
        self._carry_out(sends, out)
        config = self.config
        stale: dict[int, list[str]] = {}
        for claim in change.claims:
            if claim.site != config.site:
                continue
            session = local.get(canonical_name(claim.user))
            if claim.epoch != config.epoch or session is None or session.user != claim.user:
                stale.setdefault(claim.epoch, []).append(name_key(claim.user))
        out += [ReleaseNames(config.site, epoch, tuple(keys)) for epoch, keys in stale.items()]
        out += [self.claim(session.user, session.addr, reassert=True) for session in local.values()]
        users = tuple(session.user for session in local.values())
        out.append(self.publish(EventKind.ROSTER, users=users))
        remote = self.remote.sites()
        summary = ", ".join(f"{site} ({n})" for site, n in remote.items()) or "no other site yet"
        out.append(
            FederationNotice(f"connected to the federation as site {config.site}: {summary}")
        )

    def expire(self, now: float, out: list[ServerAction]) -> bool:
        if not self.link_up:
            return False
        sends: list[bytes] = []
        lost = self.remote.expire(now, self.link_up_at, sends)
        self._carry_out(sends, out)
        for site, epoch, users in lost:
            silent = f"site {site} silent for {self.config.site_timeout:g} s"
            left = f": its {users} user(s) left" if users else ": gone (it had no users)"
            out.append(FederationNotice(silent + left))
            out.append(ReleaseNames(site, epoch))
        return bool(lost)

    def next_expiry(self) -> float | None:
        if not self.link_up:
            return None
        expiry = self.remote.next_expiry()
        if expiry is None:
            return None
        return max(expiry, self.link_up_at + self.config.site_timeout)
