"""The broker's side of federation: a NATS client in its own thread, beside the socket loop.

nats-py is asyncio only, and the relay loop is a blocking ``recvfrom`` loop
(several times faster than asyncio for datagrams), so the two live in two
threads and hand work over in batches:

- the loop ``submit``s the core's federation actions (publish an event, claim
  or release a name): an append to a deque; a chat line wakes the asyncio
  thread only if its publisher waits for one (a busy publisher takes the lines
  itself), a claim or release at most once per KICK_INTERVAL;
- this thread puts what the broker says (other sites' events, heartbeats,
  claim answers, the link going up or down) in ``inputs`` and wakes the loop
  with an empty datagram from its own socket, again once per batch.

Every decision stays in ``protocol_lib.federation``; this module only talks
to NATS: a JetStream stream for events (the publish carries a ``Nats-Msg-Id``,
so a retry after a lost ack is stored once), one durable pull consumer per site over
every site's subject, whatever the number of sites (a broker restart loses nothing: the
site goes on from its last ack; its own batches come back and are skipped unread; a batch
that never arrived is read from the stream by its sequence), a
key-value bucket for names (an atomic create decides a login), and heartbeats
on plain subjects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from protocol_lib.errors import RemoteProtocolError
from protocol_lib.federation import (
    BATCH_EVENTS,
    DEFAULT_SITE_TIMEOUT,
    EVENTS_STREAM,
    EVENTS_SUBJECT,
    HEARTBEAT_SUBJECT,
    MAX_MESSAGE_BYTES,
    NAMES_BUCKET,
    PROBE_SUBJECT,
    SUBJECT_PREFIX,
    ClaimAnswered,
    ClaimName,
    ClaimOutcome,
    EventBatch,
    FederationConfig,
    FederationInput,
    LinkChanged,
    NameClaim,
    Publish,
    ReleaseNames,
    RemoteEvent,
    SiteEvent,
    SiteHeard,
    decode_events,
    site_problem,
)
from protocol_lib.reasons import Reason

PULL_BATCH = 256  # broker messages (batches of events) one pull request asks for
PULL_EXPIRES = 5.0  # seconds a pull request waits at the broker; then the next (at rest: 0.2/s)
PULL_REQUEST = json.dumps({"batch": PULL_BATCH, "expires": int(PULL_EXPIRES * 1e9)}).encode()
EVENTS_FILTER = EVENTS_SUBJECT.format(site="*")  # every site's events: what a site reads
REQUEST_TIMEOUT = 2.0  # seconds for one broker request (a claim, a publish's ack)
RETRY_PAUSE = 0.5  # seconds between tries while the broker is away
STOP_TIMEOUT = 3.0  # seconds a stopping server waits for its last events and releases
BUSY_BATCH = 32  # events: a batch this full means a flood, where larger batches pay off
LINGER = 0.01  # seconds a flood's next batch waits to fill (idle chat is sent at once)
# A batch costs the broker's thread about as much as 150 of its lines (a publish, its ack,
# its own copy read back): under a flood, fuller batches cost the relay less for a few ms
# more across sites (the figures per LINGER: benchmarks/README.md, "Figures moved out of
# the code").  A chat's pace (batches under BUSY_BATCH) never waits.
KICK_INTERVAL = 0.001  # seconds: how often claims and releases are taken, at most
INBOX_HIGH_WATER = 10_000  # inputs the loop has not taken yet: the consumer waits

_Item = TypeVar("_Item")

INSTALL_HINT = "federation needs the NATS client: pip install 'lanchat[federation]' (or nats-py)"


@dataclass(frozen=True, slots=True)
class FederationOptions:
    """Where the broker is and how to log in to it (passed through to nats-py)."""

    servers: tuple[str, ...]
    site: str
    site_timeout: float = DEFAULT_SITE_TIMEOUT
    replicas: int = 1  # of the stream and the bucket: 3 on a 3-node cluster
    user: str | None = None
    password: str | None = None
    token: str | None = None
    creds: str | None = None  # a .creds file (JWT + nkey)
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None

    def connect_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        for key in ("user", "password", "token"):
            if getattr(self, key):
                options[key] = getattr(self, key)
        # Replies (JetStream's, a probe's answer) come to this site's own inboxes: a broker
        # can then let each site read only its own (docs/nats-sites.conf).
        options["inbox_prefix"] = f"_INBOX_{self.site}"
        if self.creds:
            options["user_credentials"] = self.creds
        if self.tls_ca or self.tls_cert:
            context = ssl.create_default_context(cafile=self.tls_ca)
            if self.tls_cert:
                context.load_cert_chain(self.tls_cert, self.tls_key)
            options["tls"] = context
        return options


def broker_away(exc: BaseException) -> bool:
    """A failure that means the broker is away, slow or has closed the link: nats-py's own
    errors, a socket's, a time-out.  Expected in a federation's life, and said by the link's
    own lines (cut off, reconnected); anything else is a bug and gets a line of its own."""
    import nats.errors

    return isinstance(exc, (nats.errors.Error, OSError, asyncio.TimeoutError))


async def _unsubscribe(subscription: Any, unexpected: Callable[[str, Exception], None]) -> None:
    """Give a request's inbox up (a request still waiting at the broker finds nobody)."""
    if subscription is not None:
        try:
            await subscription.unsubscribe()
        except Exception as exc:  # the link is gone: so is the interest
            unexpected("giving a pull request up", exc)


def _taken(queue: deque[_Item]) -> list[_Item]:
    """Everything in ``queue``, in order, taken out of it (the other thread may append
    meanwhile: popleft until empty, never a copy and a clear)."""
    items = []
    while queue:
        items.append(queue.popleft())
    return items


class FederationLink:
    """Runs the NATS client in a thread; see the module's docstring for the hand-over."""

    def __init__(
        self,
        options: FederationOptions,
        config: FederationConfig,
        wake_target: tuple[str, int],
    ) -> None:
        try:
            import nats  # noqa: F401  (only a federated server imports the client)
        except ImportError as exc:
            raise SystemExit(f"lanchat-server: {INSTALL_HINT}") from exc
        self.options = options
        self.config = config
        self._inputs: deque[FederationInput] = deque()
        self._notes: deque[str] = deque()  # log lines from this thread, logged by the loop
        # This site's events, and the releases of its own names in their place among
        # them (a user's name is free at the broker before their bye is published):
        # the publisher takes them from here itself.
        self.outgoing: deque[Publish | ReleaseNames] = deque()
        self.publisher_busy = True  # False: it waits for ``outgoing``, a submit wakes it
        self._requests: deque[ClaimName | ReleaseNames] = deque()  # each a task of its own
        self._kick_pending = False
        self._wake_pending = False
        self._wake_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._wake_sock.bind(("127.0.0.1", 0))
        host = wake_target[0]
        self._wake_target = ("127.0.0.1" if host in ("0.0.0.0", "") else host, wake_target[1])
        self.wake_addr: tuple[str, int] = self._wake_sock.getsockname()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="federation", daemon=True)
        self._session: _BrokerSession | None = None

    # --- the socket loop's side ------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def submit(self, action: Publish | ClaimName | ReleaseNames) -> None:
        """Hand an action to the broker's thread (cheap: the relay calls it per chat line).

        A chat line is appended to ``outgoing`` and wakes the broker's thread only
        if the publisher waits for one: under a stream of lines it is busy
        publishing the last batch and takes them when it is done (a wake-up per
        line cost the relay more than the publishing itself, and one every
        millisecond still 2 us a line at 20,000 lines/s).
        """
        if isinstance(action, Publish) or (
            isinstance(action, ReleaseNames) and action.site == self.config.site
        ):
            self.outgoing.append(action)
            if not self.publisher_busy:
                self.publisher_busy = True
                with contextlib.suppress(RuntimeError):  # the thread has ended: stopped
                    self._loop.call_soon_threadsafe(self._wake_publisher)
            return
        self._requests.append(action)
        if not self._kick_pending:
            self._kick_pending = True
            with contextlib.suppress(RuntimeError):  # the thread has ended: stopped
                self._loop.call_soon_threadsafe(self._kick)

    def notes(self) -> list[str]:
        """Lines for the log since the last call (the log is the loop's, not this thread's)."""
        return _taken(self._notes)

    def inputs(self) -> list[FederationInput]:
        """What the broker said since the last call, in order."""
        self._wake_pending = False
        return _taken(self._inputs)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Send what is queued (the farewells, the releases) for up to ``timeout``, then close."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._begin_stop, time.monotonic() + timeout)
            self._thread.join(timeout + 2.0)
        self._wake_sock.close()

    # --- the broker's thread -----------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        session = self._session = _BrokerSession(self)
        try:
            self._loop.run_until_complete(session.run())
        finally:
            self._loop.close()

    def _wake_publisher(self) -> None:
        if self._session is not None:
            self._session.outgoing_ready.set()

    def publisher_idle(self) -> bool:
        """The publisher found ``outgoing`` empty: the next ``submit`` wakes it.  False if
        a line came meanwhile (the relay saw the publisher busy: it goes on)."""
        self.publisher_busy = False
        if not self.outgoing:  # read after the flag went down: a later submit wakes it
            return True
        self.publisher_busy = True
        return False

    def _kick(self) -> None:
        """Start a task for each claim and release submitted; stay "kicked" for
        KICK_INTERVAL (a host logging in names by the thousand wakes this thread at
        most once per KICK_INTERVAL)."""
        session = self._session
        popleft = self._requests.popleft
        while self._requests and session is not None:
            session.take(popleft())
        self._loop.call_later(KICK_INTERVAL, self._rearm)

    def _rearm(self) -> None:
        self._kick_pending = False
        if self._requests:  # appended after the last look, while the flag was up
            self._kick_pending = True
            self._kick()

    def _begin_stop(self, deadline: float) -> None:
        self._kick()
        if self._session is not None:
            self._session.stop(deadline)

    def note(self, text: str) -> None:
        self._notes.append(text)
        self._wake()

    def report(self, item: FederationInput) -> None:
        """From the broker's thread: queue an input and wake the loop once per batch."""
        self._inputs.append(item)
        self._wake()

    def _wake(self) -> None:
        if not self._wake_pending:
            self._wake_pending = True
            with contextlib.suppress(OSError):
                self._wake_sock.sendto(b"", self._wake_target)

    def backlog(self) -> int:
        return len(self._inputs)


class _BrokerSession:
    """Everything that runs in the broker's thread (one asyncio loop)."""

    def __init__(self, link: FederationLink) -> None:
        self.link = link
        self.options = link.options
        self.config = link.config
        self.nc: Any = None
        self.connecting: asyncio.Future[Any] | None = None
        self.js: Any = None
        self.kv: Any = None
        self.connected = asyncio.Event()
        self.stop_requested = asyncio.Event()
        self.stopping = False
        self.stop_deadline = 0.0
        self.outgoing = link.outgoing  # this site's events (the loop appends, we take)
        self.formed: EventBatch | None = None  # the batch being published (kept until acked)
        self.published = 0
        self.releasing = 0  # releases under way: a stopping server waits for them
        self.batches = 0
        self.outgoing_ready = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        self.join_seq: int | None = None  # the stream's end when this run joined
        self.stream_resets = 0  # times the broker was found to have lost the stream
        self.stream_created: Any = None  # when the stream this run reads was made
        self.reading = False  # the one reader of this run has started
        self.read_seq = 0  # the last stream seq read (redeliveries at or below it are skipped)
        self.pull_ended = asyncio.Event()  # the reader's pull request is over: ask again
        self.pull_left = 0  # messages still to come under the request
        self.pull_status: str | None = None  # how the request ended (408: it expired)
        self.pull_inbox = ""  # where the current request's messages and statuses come
        self.unacked: Any = None  # the last message read and not yet acknowledged
        self.own_subject = EVENTS_SUBJECT.format(site=self.config.site)
        self.cut_off_logged = False
        self.namesake_said = False  # a heartbeat under this site's name from elsewhere
        self.out = False  # kept out of the federation: a live site has this name

    # --- from the loop ---

    def take(self, action: ClaimName | ReleaseNames) -> None:
        if isinstance(action, ClaimName):
            self._spawn(self._claim(action))
        else:
            self._spawn(self._release(action))

    def stop(self, deadline: float) -> None:
        self.stopping = True
        self.stop_deadline = deadline
        self.stop_requested.set()
        if self.nc is None and self.connecting is not None:
            self.connecting.cancel()  # nats-py retries a first connection forever

    # --- the session ---

    async def run(self) -> None:
        import nats

        servers = list(self.options.servers)
        while not self.stopping:
            try:
                self.connecting = asyncio.ensure_future(
                    nats.connect(
                        servers=servers,
                        name=f"lanchat-{self.config.site}",
                        no_echo=True,
                        connect_timeout=2,
                        reconnect_time_wait=RETRY_PAUSE,
                        max_reconnect_attempts=-1,
                        disconnected_cb=self._disconnected,
                        reconnected_cb=self._reconnected,
                        error_cb=self._error,
                        **self.options.connect_options(),
                    )
                )
                self.nc = await self.connecting
                break
            except asyncio.CancelledError:
                return  # stopped while the broker was away
            except Exception as exc:
                self._cut_off(exc)
                await self._pause()
        if self.nc is None:
            return
        self.js = self.nc.jetstream(timeout=REQUEST_TIMEOUT)
        if await self._name_is_live():
            await self._stay_out()
            return
        await self.nc.subscribe(PROBE_SUBJECT.format(site=self.config.site), cb=self._probed)
        await self.nc.subscribe(HEARTBEAT_SUBJECT.format(site="*"), cb=self._heartbeat_heard)
        await self._link_up(first=True)
        workers = [self._publisher(), self._heartbeats()]
        for worker in workers:
            self._spawn(worker)
        await self._stopped()

    async def _name_is_live(self) -> bool:
        """Whether another server is live at the broker under this site's name (it answers
        the probe): two servers of one name would each make the others drop the other's
        people, as a restarted site's do.  No answer (nobody there, or a server that does
        not answer probes) lets this one in."""
        from nats.errors import NoRespondersError
        from nats.errors import TimeoutError as NatsTimeout

        site = self.config.site
        try:
            answer = await self.nc.request(PROBE_SUBJECT.format(site=site), b"", timeout=1.0)
        except (NoRespondersError, NatsTimeout):
            return False
        except Exception as exc:
            self._unexpected("asking whether the site's name is free", exc)
            return False
        self.link.note(
            f"federation: a site named {site} is live at the broker (its server answered, "
            f"started {answer.data.decode(errors='replace')[:40]}): this server stays out of "
            "the federation and serves its own LAN alone; give it a --site of its own"
        )
        return True

    async def _stay_out(self) -> None:
        """Refused by a live namesake: the connection closes at once (left open, a
        reconnect after a broker restart would link up unasked and release the live
        site's names as stale), and nothing more until the server stops."""
        self.out = True
        try:
            await asyncio.wait_for(self.nc.close(), 1.0)
        except Exception as exc:
            self._unexpected("closing the link", exc)
        await self.stop_requested.wait()

    async def _probed(self, message: Any) -> None:
        """Another server asks whether this site's name is live: it is (its epoch)."""
        if message.reply:
            try:
                await self.nc.publish(message.reply, str(self.config.epoch).encode())
            except Exception as exc:
                self._unexpected("answering a probe of the site's name", exc)

    async def _stopped(self) -> None:
        await self.stop_requested.wait()
        # Farewells and releases get until the deadline, then the connection closes.
        while (
            (self.outgoing or self.formed is not None or self.releasing)
            and self.connected.is_set()
            and time.monotonic() < self.stop_deadline
        ):
            await asyncio.sleep(0.02)
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        unsent = sum(isinstance(a, Publish) for a in self.outgoing)
        unsent += self.formed.length if self.formed else 0
        self.link.note(
            f"federation: {self.published} event(s) published in {self.batches} message(s)"
            + (f"; {unsent} not sent (the broker was away)" if unsent else "")
        )
        try:
            await asyncio.wait_for(self.nc.close(), 1.0)
        except Exception as exc:
            self._unexpected("closing the link", exc)

    def _unexpected(self, doing: str, exc: Exception) -> None:
        """A line for a failure that is not the broker being away (that one the link's own
        lines say): a bug must be seen, not answered as "unavailable" in silence."""
        if not broker_away(exc):
            self.link.note(f"federation: {doing} failed: {exc!r}")

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.link.note(f"federation: internal error: {task.exception()!r}")

    async def _pause(self) -> None:
        await asyncio.sleep(RETRY_PAUSE)

    # --- the link ---

    async def _setup(self) -> None:
        """The stream and the bucket, created if missing (every site may be the first)."""
        from nats.js.api import StreamConfig
        from nats.js.errors import BadRequestError, BucketNotFoundError

        replicas = self.options.replicas
        config = StreamConfig(
            name=EVENTS_STREAM,
            subjects=[EVENTS_FILTER],
            duplicate_window=120.0,
            max_age=24 * 3600.0,
            num_replicas=replicas,
        )
        try:
            await self.js.add_stream(config)
        except BadRequestError:
            await self.js.stream_info(EVENTS_STREAM)  # exists with other settings: use it
        try:
            self.kv = await self.js.key_value(NAMES_BUCKET)
        except BucketNotFoundError:
            self.kv = await self.js.create_key_value(
                bucket=NAMES_BUCKET, history=1, replicas=replicas
            )

    async def _link_up(self, first: bool = False) -> None:
        """(Re)connected: make sure of the stream and bucket, read the names, tell the core."""
        while not self.stopping:
            try:
                await self._setup()
                if first:
                    await self._join_stream()
                else:
                    await self._check_stream()
                claims = await self._claims()
                if any(claim.site != self.config.site for claim in claims):
                    self._start_reading()
                break
            except Exception as exc:
                self.link.note(f"federation: setting up at the broker failed: {exc!r}; retrying")
                await self._pause()
        else:
            return
        self.cut_off_logged = False
        self.connected.set()
        self.link.report(LinkChanged(True, claims))

    async def _check_stream(self) -> None:
        """After an outage: a broker that lost its store has a new stream (made anew).

        Then everything in it came after the loss, so every reader starts over
        from its beginning (its consumer is gone too, and the sequence numbers
        it saw belong to the old stream).
        """
        info = await self.js.stream_info(EVENTS_STREAM)
        if self.join_seq is not None and info.created != self.stream_created:
            self.link.note("federation: the broker lost its stream; reading the new one")
            self.join_seq, self.stream_created = 0, info.created
            self.stream_resets += 1

    async def _join_stream(self) -> None:
        """Where this run starts reading: after the stream's present end (a former run's
        backlog is not replayed to a LAN whose users were not there).  A former run's
        consumers are removed (one per other site, before session 11); reading starts
        if another site has published."""
        info = await self.js.stream_info(EVENTS_STREAM, subjects_filter=">")
        self.join_seq, self.stream_created = info.state.last_seq, info.created
        prefix = self._durable_prefix()
        for consumer in await self.js.consumers_info(EVENTS_STREAM):
            if consumer.name.startswith(prefix):
                await self.js.delete_consumer(EVENTS_STREAM, consumer.name)
        if set(info.state.subjects or {}) - {self.own_subject}:
            self._start_reading()

    def _start_reading(self) -> None:
        """Start this run's one reader, once, when another site is known (its events in
        the stream, its names, its heartbeat): a site alone would only fetch its own
        batches back.  The consumer starts at the join point whenever it is made, so
        nothing another site published before is missed."""
        if not self.reading and self.join_seq is not None:
            self.reading = True
            self._spawn(self._reader())

    def _durable_prefix(self) -> str:
        site = self.config.site
        return f"{len(site)}_{site}_"  # the length makes (reader, origin) names unambiguous

    async def _reader_consumer(self) -> str:
        """This site's durable consumer (made if missing): every site's events, its own
        included; the subject its pull requests go to.

        One consumer per site, however many sites there are (one per other site
        made N x (N-1)). A site's own batches come back too: each is skipped by its
        subject before it is decoded, one message per batch of up to BATCH_EVENTS
        lines. nats-server 2.9 (Debian's) filters a consumer on one subject only;
        this needs nothing newer."""
        from nats.js.api import DEFAULT_PREFIX, AckPolicy, ConsumerConfig, DeliverPolicy
        from nats.js.errors import NotFoundError

        durable = self._durable_prefix() + "sites"
        try:
            await self.js.consumer_info(EVENTS_STREAM, durable)
        except NotFoundError:
            assert self.join_seq is not None
            await self.js.add_consumer(
                EVENTS_STREAM,
                ConsumerConfig(
                    durable_name=durable,
                    filter_subject=EVENTS_FILTER,
                    deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                    opt_start_seq=max(self.join_seq, self.read_seq) + 1,
                    ack_policy=AckPolicy.ALL,
                    ack_wait=30.0,
                    max_ack_pending=20_000,
                ),
            )
        return f"{DEFAULT_PREFIX}.CONSUMER.MSG.NEXT.{EVENTS_STREAM}.{durable}"

    async def _claims(self) -> tuple[NameClaim, ...]:
        from nats.js.errors import NoKeysError

        try:
            keys = await self.kv.keys()
        except NoKeysError:
            return ()
        claims = []
        for key in keys:
            held = await self._held(key)
            if held is not None:
                claims.append(held[1])
        return tuple(claims)

    async def _held(self, key: str) -> tuple[int, NameClaim] | None:
        """The revision and claim under ``key``; None if deleted meanwhile or unreadable."""
        from nats.js.errors import KeyNotFoundError

        try:
            entry = await self.kv.get(key)
            return entry.revision, NameClaim.decode(entry.value or b"")
        except (KeyNotFoundError, RemoteProtocolError):  # KeyDeletedError is a subclass
            return None

    async def _disconnected(self) -> None:
        self.pull_ended.set()  # the request is likely lost with the connection: a new one
        if self.connected.is_set():
            self.connected.clear()
            self.link.report(LinkChanged(False))

    async def _reconnected(self) -> None:
        if not self.out:  # a server kept out by a live namesake never links up
            self._spawn(self._link_up())

    async def _error(self, exc: Exception) -> None:
        if self.connected.is_set():
            self.link.note(f"federation: {exc!r}")
        else:  # the client tries again by itself, forever: say so once per outage
            self._cut_off(exc)

    def _cut_off(self, exc: Exception) -> None:
        if not self.cut_off_logged:
            self.cut_off_logged = True
            self.link.note(
                f"federation: cannot reach {', '.join(self.options.servers)} ({exc!r}); "
                "serving this LAN alone and trying again"
            )

    # --- workers ---

    async def _publisher(self) -> None:
        """Publish this site's events in order, in batches; keep each until the broker acks.

        One batch is in flight at a time (the order of a site's events is the
        order of its batches); while it is, new events gather for the next one.
        A batch that fails (the broker went away) is sent again, unchanged, once
        the link is back: its message id makes the stream store it once.
        """
        from nats.errors import MaxPayloadError

        while True:
            if self.formed is None and not self.outgoing:
                if self.link.publisher_idle():
                    self.outgoing_ready.clear()
                    await self.outgoing_ready.wait()
                continue
            await self.connected.wait()
            head = self.outgoing[0] if self.formed is None else None
            if isinstance(head, ReleaseNames):
                await self._release(head)  # a cut-off link's failure: link-up reconciles
                self.outgoing.popleft()
                continue
            if self.formed is None:
                self.formed = self._next_batch()
            batch = self.formed
            try:
                await self.js.publish(
                    batch.subject,
                    batch.data,
                    timeout=REQUEST_TIMEOUT,
                    headers={"Nats-Msg-Id": batch.dedup_id},
                )
            except MaxPayloadError:  # can never go (a roster of >10,000 names): say so, drop it
                self.link.note(f"federation: {batch.length} event(s) too large to publish")
            except Exception as exc:
                self._unexpected("publishing a batch", exc)
                await self._pause()  # the broker is away or slow: the same batch again
                continue
            else:
                self.published += batch.length
                self.batches += 1
            self.formed = None
            if batch.length >= BUSY_BATCH:  # lines are pouring in: let the next batch fill
                await asyncio.sleep(LINGER)

    def _next_batch(self) -> EventBatch:
        """This site's next events, up to BATCH_EVENTS and half a broker message; a
        batch never jumps a release (runs for every line: names bound once)."""
        events: list[SiteEvent] = []
        outgoing, append, popleft = self.outgoing, events.append, self.outgoing.popleft
        budget = MAX_MESSAGE_BYTES // 2
        while outgoing and len(events) < BATCH_EVENTS:
            head = outgoing[0]
            if isinstance(head, ReleaseNames):
                break
            event = head.event
            budget -= event.size_hint()
            if budget < 0 and events:
                break
            append(event)
            popleft()
        return EventBatch.of(events)

    async def _reader(self) -> None:
        """Other sites' events from this site's durable consumer, pushed by the broker
        under one pull request at a time, acknowledged after hand-over.

        A request asks for PULL_BATCH messages and waits at the broker up to
        PULL_EXPIRES; the broker sends each message as it is stored, and a status
        when the request ends (408 when it expired).  Then the next request, on an
        inbox of its own: the last one's inbox is given up, so a request that
        outlived its wait (an outage) finds nobody and is dropped, and never ends
        another's.  Not ``fetch``: it asks twice and waits on a timer for every
        batch it returns, and with this site's own batches coming back that cost
        the relay about 1.7 us a line at 20,000 lines/s; at rest it asked every
        second.  The consumer lives in the broker: after an outage (or a broker
        restart with its store) reading goes on after the last acknowledged message.
        """
        subject: str | None = None
        resets = self.stream_resets
        self.read_seq = self.join_seq or 0
        while True:
            await self.connected.wait()
            if resets != self.stream_resets:  # a new stream: its sequence starts again
                subject, resets = None, self.stream_resets
                self.read_seq = self.join_seq or 0
            if self.link.backlog() > INBOX_HIGH_WATER:
                await asyncio.sleep(0.01)
                continue
            request = None
            try:
                if subject is None:
                    subject = await self._reader_consumer()
                inbox = self.nc.new_inbox()
                request = await self.nc.subscribe(inbox, cb=self._delivered)
                self.pull_inbox, self.pull_left, self.pull_status = inbox, PULL_BATCH, None
                self.pull_ended.clear()
                await self.nc.publish(subject, PULL_REQUEST, reply=inbox)
            except Exception as exc:  # the broker went away (its own lines say so), or
                if self.connected.is_set() and not self.stopping:  # the consumer was lost
                    self.link.note(f"federation: reading the other sites failed: {exc!r}")
                subject = None
                await _unsubscribe(request, self._unexpected)
                await self._pause()
                continue
            try:  # a request the broker lost says nothing: ask again after its time
                await asyncio.wait_for(self.pull_ended.wait(), PULL_EXPIRES + REQUEST_TIMEOUT)
            except TimeoutError:
                subject = None  # and look at the consumer first: it may be gone
            await _unsubscribe(request, self._unexpected)
            await self._acknowledge()
            if self.pull_status not in (None, "408"):  # e.g. 409: the consumer was deleted
                subject = None

    async def _delivered(self, message: Any) -> None:
        """A message under one of this site's pull requests: an event batch, or a status
        (the current request's ends it)."""
        headers = message.headers
        status = headers.get("Status") if headers else None
        if status is not None:
            if message.subject == self.pull_inbox and status != "100":  # 100: a heartbeat
                self.pull_status = status
                self.pull_ended.set()
            return
        self.pull_left -= 1
        if self.pull_left <= 0:
            self.pull_status = None
            self.pull_ended.set()
        try:
            await self._read(message)
        except Exception as exc:  # a bug must cost one batch, never the reader
            self.link.note(f"federation: internal error reading {message.subject!r}: {exc!r}")

    async def _read(self, message: Any) -> None:
        """Hand one delivered batch over, after any that should have come before it."""
        # Acknowledged when the request ends; a repeat too, or the broker would send it
        # again every ack_wait.
        self.unacked = message
        seq = message.metadata.sequence.stream
        if seq <= self.read_seq:  # delivered again (an ack lost): handed over already
            return
        if seq > self.read_seq + 1:
            await self._read_missed(seq)
        self._accept(seq, message.subject, message.data)

    async def _read_missed(self, seq: int) -> None:
        """Batches between the last one read and ``seq`` that never arrived: in flight
        when the connection broke, or dropped with a request given up.  The next
        delivered batch's acknowledgement would cover them (AckPolicy.ALL), and the core
        takes a site's events only in order, so they are read from the stream by
        sequence (a missing or expired one is stepped over), before ``seq``."""
        from nats.js.errors import NotFoundError

        found = 0
        while self.read_seq + 1 < seq:
            try:
                stored = await self.js.get_msg(
                    EVENTS_STREAM, self.read_seq + 1, subject=EVENTS_FILTER, next=True
                )
            except NotFoundError:
                break
            except Exception as exc:
                self.link.note(f"federation: batches before #{seq} could not be read: {exc!r}")
                return
            if stored.seq >= seq:
                break
            self._accept(stored.seq, stored.subject, stored.data or b"")
            found += 1
        if found:
            self.link.note(f"federation: {found} batch(es) that never arrived read from the stream")

    async def _acknowledge(self) -> None:
        """Acknowledge what was handed over, once per request: AckPolicy.ALL makes the last
        message's ack cover all before it (an ack per message cost a receiving site 1.5x
        as much per remote line at 2,000 lines/s).  A request ends within PULL_EXPIRES,
        well inside the consumer's ack_wait, so nothing is sent again meanwhile."""
        message, self.unacked = self.unacked, None
        if message is not None:
            try:
                await message.ack()
            except Exception as exc:  # lost with the link: sent again, skipped
                self._unexpected("acknowledging a batch", exc)

    def _accept(self, seq: int, subject: str, data: bytes) -> None:
        """Batch ``seq`` is read: handed over, unless it is this site's own."""
        self.read_seq = seq
        if subject != self.own_subject:
            self._hand_over(subject, data)

    def _hand_over(self, subject: str, data: bytes) -> None:
        """Decode and report one other site's batch: only events of the site whose subject
        it came on (the broker's permissions let a site publish on its own subject only,
        so a site cannot speak as another through what it puts inside)."""
        try:
            events, errors = decode_events(data)
        except RemoteProtocolError as exc:
            events, errors = [], [exc]
        origin = subject.rsplit(".", 1)[-1]
        if any(event.site != origin for event in events):
            wrong = f"events of another site than {origin}"
            errors.append(RemoteProtocolError(Reason.FEDERATION_EVENT, wrong))
            events = [event for event in events if event.site == origin]
        for error in errors[:3]:  # a broken peer must not flood the log
            self.link.note(f"federation: an event on {subject} ignored: {error}")
        for event in events:
            self.link.report(RemoteEvent(event))

    async def _heartbeats(self) -> None:
        subject = HEARTBEAT_SUBJECT.format(site=self.config.site)
        beat = str(self.config.epoch).encode()
        while True:
            if self.connected.is_set():
                try:
                    await self.nc.publish(subject, beat)
                except Exception as exc:
                    self._unexpected("sending a heartbeat", exc)
            await asyncio.sleep(self.config.heartbeat_interval)

    async def _heartbeat_heard(self, message: Any) -> None:
        site = message.subject.rsplit(".", 1)[-1]
        if (
            not message.subject.startswith(SUBJECT_PREFIX + ".heartbeat.")
            or site_problem(site) is not None  # not a site of ours: nothing to track
        ):
            return
        try:
            epoch = int(message.data)
        except ValueError:
            return
        if site == self.config.site:  # never our own (no echo): a namesake, said once
            if epoch != self.config.epoch and not self.namesake_said:
                self.namesake_said = True
                self.link.note(
                    f"federation: another server beats as site {site} (started {epoch}): "
                    "the other sites take it for this one restarted; give it a --site of "
                    "its own (or broker credentials per site)"
                )
            return
        self._start_reading()
        self.link.report(SiteHeard(site, epoch))

    # --- names ---

    async def _claim(self, action: ClaimName) -> None:
        answer = await self._claim_answer(action)
        self.link.report(answer)

    async def _claim_answer(self, action: ClaimName) -> ClaimAnswered:
        from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

        def answer(outcome: ClaimOutcome, holder: NameClaim | None = None) -> ClaimAnswered:
            return ClaimAnswered(action.user, action.addr, outcome, holder, action.reassert)

        if not self.connected.is_set() or self.kv is None:
            return answer(ClaimOutcome.UNAVAILABLE)
        value = action.claim.encode()
        try:
            await self.kv.create(action.key, value)
            return answer(ClaimOutcome.GRANTED)
        except KeyWrongLastSequenceError:
            pass
        except Exception as exc:
            self._unexpected("claiming a name", exc)
            return answer(ClaimOutcome.UNAVAILABLE)
        try:
            entry = await self.kv.get(action.key)
            holder = NameClaim.decode(entry.value or b"")
            if action.reassert and holder.site == self.config.site:
                if holder != action.claim:
                    await self.kv.update(action.key, value, last=entry.revision)
                return answer(ClaimOutcome.GRANTED)
            if (holder.site, holder.epoch) in action.stale:  # its site was given up
                await self.kv.delete(action.key, last=entry.revision)
                return await self._claim_answer(action._replace(stale=frozenset()))
            return answer(ClaimOutcome.HELD, holder)
        except KeyNotFoundError:  # released between our create and our get: ask again
            return await self._claim_answer(action)
        except Exception as exc:
            self._unexpected("reading a name's claim", exc)
            return answer(ClaimOutcome.UNAVAILABLE)

    async def _release(self, action: ReleaseNames) -> None:
        """Delete the entries that still hold ``action``'s claim (revision-checked)."""
        self.releasing += 1
        try:
            await self._release_entries(action)
        finally:
            self.releasing -= 1

    async def _release_entries(self, action: ReleaseNames) -> None:
        from nats.js.errors import NoKeysError

        if self.kv is None:
            return
        try:
            keys = action.keys if action.keys is not None else tuple(await self.kv.keys())
        except NoKeysError:
            return
        except Exception as exc:
            self._unexpected("listing the names", exc)
            return
        for key in keys:
            try:
                held = await self._held(key)
                if held is None:
                    continue
                revision, claim = held
                if claim.site == action.site and claim.epoch == action.epoch:
                    await self.kv.delete(key, last=revision)
            except Exception as exc:  # a newer claim, or the broker went away
                self._unexpected("releasing a name", exc)
                continue
