"""Our own client core on real sockets, typed into by a test as a person would: the
desktop protocol client without its window (lanchat-check's person, the web gateway's
desktop peer)."""

from __future__ import annotations

from protocol_lib import IncomingMessage

LOOPBACK = "127.0.0.1"


class Typist:
    """Our own client core on real sockets, typed into by the test as a person would."""

    def __init__(self, port: int, group: str, group_port: int, leave: str = "exit,") -> None:
        import socket
        import threading

        from protocol_lib import ClientConfig, ClientCore
        from protocol_lib.io.net import group_receiver

        # As the window does: only the server's address changes its state.
        self.core = ClientCore(ClientConfig(server_sources=frozenset({LOOPBACK})))
        self.leave = leave  # what it says on leaving: the spec's "exit,", or a fake's
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.server = (LOOPBACK, port)
        self.group_sock = group_receiver(group, group_port, LOOPBACK)
        self.group_sock.settimeout(0.05)
        self.shown: list[str] = []
        self.incoming: list[IncomingMessage] = []  # with the sender, where it is known
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _act(self, events) -> None:  # type: ignore[no-untyped-def]
        from protocol_lib import IncomingMessage, SendDatagram

        for event in events:
            if isinstance(event, SendDatagram):
                self.sock.sendto(event.data, self.server)
            elif isinstance(event, IncomingMessage):
                self.shown.append(event.text)
                self.incoming.append(event)

    def type(self, line: str) -> None:
        import time

        from qml_client.commands import typed_line

        with self.lock:
            self._act(typed_line(self.core, line, time.monotonic()))

    def _pump(self) -> None:
        import time

        while not self.done.is_set():
            try:
                data, source = self.group_sock.recvfrom(65536)
            except OSError:
                data = None
            with self.lock:
                now = time.monotonic()
                if data is not None:
                    self._act(self.core.receive(data, source, now))
                self._act(self.core.handle_timer(now))

    def sees(self, found, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
        """What a person does before answering: look at the window until it shows it."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if found():
                    return True
            self.done.wait(0.02)  # the pump thread shows what comes; bounded by ``timeout``
        return False

    def in_chat(self) -> bool:
        from protocol_lib import ClientState

        return self.sees(lambda: self.core.state is ClientState.IN_CHAT)

    def quit(self) -> None:
        if self.leave:
            self.sock.sendto(self.leave.encode(), self.server)

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.sock.close()
        self.group_sock.close()
