"""Several sites, one chat: what servers tell each other through a broker, with no I/O.

Each site keeps its own server and multicast group; the servers meet on a
broker (NATS JetStream, run by ``server_app.federation``).  This module owns
every rule of that meeting, so it is tested without a broker:

- what a site publishes (``SiteEvent``: a welcome, a chat line, a bye, or the
  whole roster after a (re)connection), and how it is encoded and checked;
- who owns a name across sites (``NameClaim``, the value of a key-value entry
  created atomically by the login's site: the key is ``name_key(user)``);
- which remote users a site shows and when they leave (``RemoteSites``): a
  site that stops sending heartbeats for ``FederationConfig.site_timeout``
  seconds is gone, and its users get a ``bye`` everywhere.

Loops cannot happen: every event carries its origin site, a site publishes
only its own users' events, and it never republishes what it received.  A
site's events carry ``(epoch, seq)``: the epoch is its process's start, so a
restarted site is told apart from a late message of its former self, and
``seq`` orders and de-duplicates its events (a retried publish, a redelivery).
"""

from __future__ import annotations

import base64
import json
import json.encoder
import re
from collections.abc import Container
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple, TypeVar

from .errors import LocalProtocolError, RemoteProtocolError
from .kinds import by_kind
from .names import canonical_name, name_problem
from .reasons import Reason
from .wire import Bye, ChatRelay, Welcome, text_problem

SITE_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
"""A site's name: one token of a broker subject and of a key, so nothing that needs quoting."""

SUBJECT_PREFIX = "lanchat"
EVENTS_SUBJECT = SUBJECT_PREFIX + ".events.{site}"  # one subject per origin site: kept in order
EVENTS_STREAM = "LANCHAT_EVENTS"
HEARTBEAT_SUBJECT = SUBJECT_PREFIX + ".heartbeat.{site}"
# A live site answers a request here with its epoch: a second server started under its
# name asks first, and stays out of the federation when it is answered.
PROBE_SUBJECT = SUBJECT_PREFIX + ".probe.{site}"
NAMES_BUCKET = "lanchat_names"

_T = TypeVar("_T")

MAX_MESSAGE_BYTES = 512 * 1024  # one broker message: a batch of events (NATS allows 1 MB)
BATCH_EVENTS = 512  # events per broker message at most: one publish and one ack for them all
_json_string = json.encoder.encode_basestring  # a str as JSON, quotes included (C, non-ASCII kept)


def site_problem(site: str) -> str | None:
    """Why ``site`` cannot name a site, or None."""
    if SITE_NAME.fullmatch(site) is None:
        return "a site name is 1 to 32 letters, digits, '-' or '_'"
    return None


def name_key(user: str) -> str:
    """The key-value key of a user name: one per ``canonical_name``, in the key alphabet.

    Look-alike names map to one key, so the atomic create that decides a login
    also refuses ``ALICE`` at one site while ``alice`` is in the chat at another.
    """
    encoded = base64.urlsafe_b64encode(canonical_name(user).encode()).rstrip(b"=")
    return "n." + encoded.decode("ascii")


class EventKind(StrEnum):
    WELCOME = "welcome"
    MSG = "msg"
    BYE = "bye"
    ROSTER = "roster"  # every user of the site, after it (re)connects: the others reconcile


_KINDS = frozenset(kind.value for kind in EventKind)


class SiteEvent(NamedTuple):
    """One thing that happened at ``site``, as every other site receives it."""

    site: str
    epoch: int  # the origin server's start (ns); a larger one is a restarted site
    seq: int  # 1, 2, ... within an epoch
    kind: EventKind
    user: str = ""  # welcome, msg, bye
    text: str = ""  # msg
    users: tuple[str, ...] = ()  # roster

    def size_hint(self) -> int:
        """About the bytes this event takes encoded (for cutting batches)."""
        return 96 + 4 * (len(self.user) + len(self.text) + 34 * len(self.users))


class EventBatch(NamedTuple):
    """Consecutive events of one site, published as one broker message.

    Batching is what keeps federation off the relay's back: one JSON encoding,
    one publish and one acknowledgement for up to BATCH_EVENTS lines, instead
    of a broker round trip's worth of Python per line.  A batch is formed once
    and retried unchanged, so its ``dedup_id`` always names the same events.
    """

    subject: str
    dedup_id: str  # the broker drops a second publish with this id (a retry after a lost ack)
    data: bytes
    length: int  # events in it

    @classmethod
    def of(cls, events: list[SiteEvent]) -> EventBatch:
        first, last = events[0], events[-1]
        return cls(
            EVENTS_SUBJECT.format(site=first.site),
            f"{first.site}.{first.epoch}.{first.seq}-{last.seq}",
            encode_events(events),
            len(events),
        )


def encode_events(events: list[SiteEvent]) -> bytes:
    """A JSON array of event objects, readable by any tool that reads the stream.

    Written field by field rather than by ``json.dumps`` of a dict per event: this
    runs for every chat line a federated site relays, and the dicts cost 1.4 us a
    line against 0.5 (bench_protocol).  The bytes are exactly ``json.dumps``'s (a
    hypothesis test holds it to that), so every site's decoder reads them.
    """
    if not events:
        return b"[]"
    first = events[0]
    site, epoch, string = first.site, first.epoch, _json_string
    head = f'{{"site":{string(site)},"epoch":{epoch},"seq":'
    parts = []
    for event in events:
        if event.site != site or event.epoch != epoch or event.kind is EventKind.ROSTER:
            parts.append(_dumps(_event_fields(event)))
        elif event.kind is EventKind.MSG:
            parts.append(
                f'{head}{event.seq},"kind":"msg","user":{string(event.user)},'
                f'"text":{string(event.text)}}}'
            )
        else:
            parts.append(
                f'{head}{event.seq},"kind":"{event.kind.value}","user":{string(event.user)}}}'
            )
    return f"[{','.join(parts)}]".encode()


def _event_fields(event: SiteEvent) -> dict[str, object]:
    fields: dict[str, object] = {
        "site": event.site,
        "epoch": event.epoch,
        "seq": event.seq,
        "kind": event.kind.value,
    }
    if event.kind is EventKind.ROSTER:
        fields["users"] = list(event.users)
    else:
        fields["user"] = event.user
    if event.kind is EventKind.MSG:
        fields["text"] = event.text
    return fields


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def decode_events(data: bytes) -> tuple[list[SiteEvent], list[RemoteProtocolError]]:
    """A broker message's events, each checked as strictly as a datagram: they will be
    relayed to a LAN.  A malformed event is returned as its error and costs only itself.

    Raises RemoteProtocolError (reason ``federation-event``) when the message is
    not a JSON array, never another exception (a hypothesis test holds it to that).
    """
    items = _json(data, "message")
    if not isinstance(items, list):
        raise _bad("message not a JSON array")
    events, errors = [], []
    for item in items:
        try:
            if not isinstance(item, dict):
                raise _bad("event not a JSON object")
            events.append(_event_from(item))
        except RemoteProtocolError as exc:
            errors.append(exc)
    return events, errors


def _event_from(fields: dict[str, object]) -> SiteEvent:
    site = _field(fields, "site", str)
    if site_problem(site):
        raise _bad(f"site {site!r}")
    epoch, seq = _field(fields, "epoch", int), _field(fields, "seq", int)
    if epoch < 0 or seq < 1:
        raise _bad(f"epoch {epoch}, seq {seq}")
    name = _field(fields, "kind", str)
    if name not in _KINDS:
        raise _bad(f"kind {name!r}")
    kind = EventKind(name)
    return _decoded_body(fields, site, epoch, seq, kind)


def _decoded_body(
    fields: dict[str, object], site: str, epoch: int, seq: int, kind: EventKind
) -> SiteEvent:
    if kind is EventKind.ROSTER:
        users = fields.get("users")
        if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
            raise _bad("roster without a list of names")
        for user in users:
            _check_name(user)
        return SiteEvent(site, epoch, seq, kind, users=tuple(users))
    user = _check_name(_field(fields, "user", str))
    if kind is not EventKind.MSG:
        return SiteEvent(site, epoch, seq, kind, user)
    text = _field(fields, "text", str)
    problem = text_problem(text)
    if problem is not None:
        raise _bad(f"text: {problem}")
    try:
        ChatRelay.attributed(user, text).encode()  # what this site will send must fit
    except LocalProtocolError as exc:
        raise _bad(f"text: {exc.reason}") from None
    return SiteEvent(site, epoch, seq, kind, user, text)


def _json(data: bytes, what: str) -> object:
    """``data`` parsed, or our error (never json's, nor a RecursionError)."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise _bad(f"{what} of {len(data)} bytes")
    try:
        return json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _bad(f"{what} not JSON: {exc}") from None


def _bad(detail: str) -> RemoteProtocolError:
    return RemoteProtocolError(Reason.FEDERATION_EVENT, detail)


def _field(fields: dict[str, object], name: str, kind: type[_T]) -> _T:
    value = fields.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _bad(f"{name!r} missing or not {kind.__name__}")
    return value


def _check_name(user: str) -> str:
    problem = name_problem(user)
    if problem is not None:
        raise _bad(f"user {user!r}: {problem}")
    return user


class NameClaim(NamedTuple):
    """Who holds a name: the value stored under ``name_key(user)``."""

    user: str
    site: str
    epoch: int

    def encode(self) -> bytes:
        return json.dumps(
            {"user": self.user, "site": self.site, "epoch": self.epoch}, ensure_ascii=False
        ).encode()

    @classmethod
    def decode(cls, data: bytes) -> NameClaim:
        fields = _json(data, "claim")
        if not isinstance(fields, dict):
            raise _bad("claim not a JSON object")
        return cls(
            _field(fields, "user", str), _field(fields, "site", str), _field(fields, "epoch", int)
        )


DEFAULT_SITE_TIMEOUT = 15.0  # seconds without a heartbeat before a site's users leave


@dataclass(frozen=True, slots=True)
class FederationConfig:
    """This site's place in the federation."""

    site: str
    epoch: int  # this process's start, in ns: larger than any earlier run's
    site_timeout: float = DEFAULT_SITE_TIMEOUT

    @property
    def heartbeat_interval(self) -> float:
        """Five heartbeats per timeout: one lost heartbeat never looks like a dead site."""
        return self.site_timeout / 5

    def __post_init__(self) -> None:
        problem = site_problem(self.site)
        if problem:
            raise ValueError(f"site {self.site!r}: {problem}")


# --- inputs from the broker's side ---------------------------------------------


class ClaimOutcome(StrEnum):
    GRANTED = "granted"  # the key was created (or already held by this site)
    HELD = "held"  # another site holds the name
    UNAVAILABLE = "unavailable"  # the broker could not be asked: this site decides alone


@by_kind
class ClaimAnswered(NamedTuple):
    """The answer to a ``ClaimName``."""

    user: str
    addr: tuple[str, int]
    outcome: ClaimOutcome
    holder: NameClaim | None = None  # for HELD
    reassert: bool = False


@by_kind
class RemoteEvent(NamedTuple):
    event: SiteEvent


@by_kind
class SiteHeard(NamedTuple):
    """A heartbeat: ``site`` (process ``epoch``) is alive."""

    site: str
    epoch: int


@by_kind
class LinkChanged(NamedTuple):
    """The broker became reachable (with the names it holds) or unreachable."""

    up: bool
    claims: tuple[NameClaim, ...] = ()  # every name held, read when the link came up


FederationInput = ClaimAnswered | RemoteEvent | SiteHeard | LinkChanged


# --- actions for the broker's side ---------------------------------------------


@by_kind
class ClaimName(NamedTuple):
    """Create ``key`` = ``claim`` atomically; answer with ClaimAnswered.

    ``reassert``: the site already welcomed the user (it was cut off, or came
    back after the others gave it up): an entry already holding this site's
    claim counts as granted.
    """

    user: str
    addr: tuple[str, int]
    key: str
    claim: NameClaim
    reassert: bool = False
    # Holders given up for lost (site, epoch) whose release may not have reached
    # the broker yet: their entry is deleted (revision-checked) and the create retried.
    stale: frozenset[tuple[str, int]] = frozenset()


@by_kind
class ReleaseNames(NamedTuple):
    """Delete the entries held by ``site`` in process ``epoch``: ``keys``, or all of them.

    An entry is deleted only if it still holds that very claim (the delete is
    conditional on its revision), so a late release never removes the claim
    of a user who took the name since.
    """

    site: str
    epoch: int
    keys: tuple[str, ...] | None = None


@by_kind
class Publish(NamedTuple):
    event: SiteEvent


@by_kind
class FederationNotice(NamedTuple):
    """Something the operator should read in the log."""

    text: str


# --- remote users ----------------------------------------------------------------


@dataclass(slots=True)
class _Site:
    name: str
    epoch: int
    last_heard: float
    users: dict[str, str] = field(default_factory=dict)  # canonical -> name as typed
    lost: bool = False  # given up: its names released, its users gone
    seen: int = 0  # highest seq applied in ``epoch``: below or equal is a duplicate
    early: set[int] = field(default_factory=set)  # seqs above ``seen`` applied out of order


class RemoteSites:
    """The users of the other sites, as this site shows them; decides their welcome and bye.

    Returns group datagrams to send; ``ServerCore`` owns the local sessions and
    asks ``holder`` before it lets a local login take a name.  This site's own
    events and heartbeats never reach a site record: ``apply`` and ``heard``
    drop them, and ``reconcile_claims`` skips this site's claims.
    """

    def __init__(self, config: FederationConfig) -> None:
        self.config = config
        self._sites: dict[str, _Site] = {}
        self._owner: dict[str, str] = {}  # canonical name -> site, for every remote user
        self._notes: list[str] = []  # for the site's log: who came and went where, clashes

    def take_notes(self) -> list[str]:
        """Lines for the log since the last call."""
        notes, self._notes = self._notes, []
        return notes

    # --- queries ---

    def users(self) -> list[str]:
        return [name for site in self._sites.values() for name in site.users.values()]

    def holder(self, canonical: str) -> str | None:
        """The site where a remote user holds this name, if any."""
        return self._owner.get(canonical)

    def lost(self) -> frozenset[tuple[str, int]]:
        """(site, epoch) of the sites given up: names they hold are stale."""
        return frozenset((name, s.epoch) for name, s in self._sites.items() if s.lost)

    def sites(self) -> dict[str, int]:
        """Live remote sites and their users' count (for logs and tests)."""
        return {name: len(s.users) for name, s in self._sites.items() if not s.lost}

    # --- inputs ---

    def heard(self, site: str, epoch: int, now: float, out: list[bytes]) -> None:
        if site == self.config.site:
            return
        record = self._site(site, epoch, now, out)
        record.last_heard = now
        record.lost = False

    def apply(
        self,
        event: SiteEvent,
        is_local: Container[str],
        now: float,
        out: list[bytes],
    ) -> bool:
        """Show ``event``; False when it is stale or a duplicate (nothing was sent)."""
        if event.site == self.config.site:
            return False  # our own, replayed to us: never shown twice, never republished
        record = self._site(event.site, event.epoch, now, out)
        if event.epoch < record.epoch:
            # From a former run of the site: its line was typed, so it is shown; its
            # joins and leaves are over.
            if event.kind is EventKind.MSG:
                out.append(ChatRelay.attributed(event.user, event.text).encode())
                return True
            return False
        if not self._first_time(record, event.seq):
            return False
        if event.kind is EventKind.MSG:
            out.append(ChatRelay.attributed(event.user, event.text).encode())
        elif event.kind is EventKind.WELCOME:
            if not record.lost:
                self._join(record, event.user, is_local, out)
        elif event.kind is EventKind.BYE:
            self._leave(record, event.user, out)
        else:
            record.lost = False  # a roster is the site's own word that it is back
            record.last_heard = now
            self._reconcile(record, event.users, is_local, out)
        return True

    def reconcile_claims(
        self,
        claims: tuple[NameClaim, ...],
        is_local: Container[str],
        now: float,
        out: list[bytes],
    ) -> None:
        """The names the broker holds, read at (re)connection: the roster of every site.

        Users who left while this site was cut off get their ``bye``; sites that
        hold names but send no heartbeat are given ``site_timeout`` to show
        they are alive, then released.
        """
        by_site: dict[str, list[NameClaim]] = {}
        for claim in claims:
            if claim.site != self.config.site:
                by_site.setdefault(claim.site, []).append(claim)
        for name, site in list(self._sites.items()):
            if name not in by_site and not site.lost:
                self._reconcile(site, (), is_local, out)
        for name, site_claims in by_site.items():
            epoch = max(c.epoch for c in site_claims)
            record = self._site(name, epoch, now, out)
            record.last_heard = max(record.last_heard, now)
            current = tuple(c.user for c in site_claims if c.epoch == record.epoch)
            self._reconcile(record, current, is_local, out)

    def expire(
        self, now: float, since_link_up: float, out: list[bytes]
    ) -> list[tuple[str, int, int]]:
        """Give up sites silent for ``site_timeout``; their (site, epoch, users who left).

        Only while this site has been connected for a whole timeout itself: a
        site that was cut off heard nobody, and that says nothing about them.
        """
        timeout = self.config.site_timeout
        if now - since_link_up < timeout:
            return []
        lost = []
        for name, site in self._sites.items():
            if not site.lost and now - site.last_heard >= timeout:
                site.lost = True
                users = list(site.users.values())
                for user in users:
                    self._leave(site, user, out)
                lost.append((name, site.epoch, len(users)))
        return lost

    def next_expiry(self) -> float | None:
        live = [s.last_heard for s in self._sites.values() if not s.lost]
        return min(live) + self.config.site_timeout if live else None

    # --- helpers ---

    def _site(self, name: str, epoch: int, now: float, out: list[bytes]) -> _Site:
        """The record of another site (made when first heard of), at ``epoch`` or later."""
        record = self._sites.get(name)
        if record is None:
            record = self._sites[name] = _Site(name, epoch, now)
        elif epoch > record.epoch:  # the site restarted: the users of its former run are gone
            for user in list(record.users.values()):
                self._leave(record, user, out)
            record.epoch, record.seen, record.early = epoch, 0, set()
            record.last_heard, record.lost = now, False
        return record

    @staticmethod
    def _first_time(record: _Site, seq: int) -> bool:
        """Whether ``seq`` is new in the site's current epoch; keeps out-of-order arrivals exact."""
        if seq <= record.seen or seq in record.early:
            return False
        record.early.add(seq)
        while record.seen + 1 in record.early:
            record.seen += 1
            record.early.discard(record.seen)
        if len(record.early) > 10_000:  # a gap that will never fill (events dropped at origin)
            record.seen = max(record.early)
            record.early.clear()
        return True

    def _join(
        self,
        record: _Site,
        user: str,
        is_local: Container[str],
        out: list[bytes],
    ) -> None:
        canonical = canonical_name(user)
        if canonical in record.users:
            return
        owner = self._owner.get(canonical)
        if canonical in is_local or owner is not None:
            where = "here" if canonical in is_local else f"at site {owner}"
            note = f"{user!r} of site {record.name} not shown: the name is in use {where}"
            self._notes.append(note)
            return
        record.users[canonical] = user
        self._owner[canonical] = record.name
        out.append(Welcome(user).encode())
        self._notes.append(f"{user!r} joined at site {record.name}")

    def _leave(self, record: _Site, user: str, out: list[bytes]) -> None:
        canonical = canonical_name(user)
        if record.users.pop(canonical, None) is None:
            return  # never shown (a clash), or already gone: a bye would be a second one
        del self._owner[canonical]
        out.append(Bye(user).encode())
        self._notes.append(f"{user!r} left at site {record.name}")

    def _reconcile(
        self,
        record: _Site,
        users: tuple[str, ...],
        is_local: Container[str],
        out: list[bytes],
    ) -> None:
        keep = {canonical_name(u) for u in users}
        for canonical, user in list(record.users.items()):
            if canonical not in keep:
                self._leave(record, user, out)
        for user in users:
            self._join(record, user, is_local, out)
