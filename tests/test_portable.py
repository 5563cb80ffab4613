"""Windows and macOS, checked on Linux: each seam's other branch, and the whole chat in an
interpreter without Linux's extras (tests/no_linux_extras: no fcntl, no MSG_DONTWAIT, no
SO_REUSEPORT), the way Windows' Python looks to our code.

What cannot run here (a Windows socket's WSAECONNRESET, Windows' DWORD SO_RCVTIMEO, the
tray on macOS) is simulated at the seam: the receive raises what Windows raises, the
option is packed as the platform's kernel reads it.
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from protocol_lib.io import net
from protocol_lib.io.net import NOWAIT_FLAG, receive_timeout_option
from qml_client import name_hold
from qml_client.receiver import Receiver
from server_app.cli import parse_options
from server_app.logfmt import LogSink
from server_app.server import ChatServer
from tests.helpers_net import (
    LOOPBACK,
    ROOT,
    GroupListener,
    UdpClient,
    free_udp_port,
    fresh_python,
    unique_group,
    without_linux_extras,
)


@pytest.mark.portable
def test_so_rcvtimeo_is_packed_as_each_kernel_reads_it():
    assert receive_timeout_option(0.1, "win32") == struct.pack("<I", 100)  # DWORD of ms
    assert receive_timeout_option(2.5, "win32") == struct.pack("<I", 2500)
    assert receive_timeout_option(0.0001, "win32") == struct.pack("<I", 1)  # 0 = forever there
    mac = receive_timeout_option(1.25, "darwin")  # long tv_sec, int tv_usec, padded
    assert len(mac) == 16 and struct.unpack("=qi4x", mac) == (1, 250000)
    assert struct.unpack("@ll", receive_timeout_option(0.1, "linux")) == (0, 100000)
    assert struct.unpack("@ll", receive_timeout_option(0.9999996, "linux")) == (1, 0)


@pytest.mark.portable
def test_the_kernel_holds_the_timeout_that_was_asked_for():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        net.block_with_kernel_timeout(sock, 0.25)
        if sys.platform == "win32":
            got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 4)
            assert struct.unpack("<I", got) == (250,)
            return
        got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16)
        layout = "=qi4x" if sys.platform == "darwin" else "@ll"
        seconds, micro = struct.unpack(layout, got)
        assert seconds == 0 and 250000 <= micro < 260000  # the kernel rounds up to its tick


@pytest.mark.portable
def test_without_msg_dontwait_the_socket_itself_switches_between_waiting_and_not():
    """Windows' branch of receive_from, on a real socket: a call with NOWAIT_FLAG never
    waits, one without waits for the kernel timeout, and data is read either way."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        net.block_with_kernel_timeout(sock, 5.0)
        recvfrom = net._SwitchingReceive(sock)
        started = time.monotonic()
        with pytest.raises(BlockingIOError):
            recvfrom(2048, NOWAIT_FLAG)
        assert time.monotonic() - started < 2.5  # not the 5 s a waiting receive takes
        assert not sock.getblocking()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.sendto(b"login,ada", sock.getsockname())
            assert recvfrom(2048, 0)[0] == b"login,ada"  # waits (it may still be on its way)
            assert sock.getblocking()
            peer.sendto(b"list,", sock.getsockname())
            deadline = time.monotonic() + 5
            while True:  # not waiting: poll until the kernel has it
                try:
                    assert recvfrom(2048, NOWAIT_FLAG)[0] == b"list,"
                    break
                except BlockingIOError:
                    assert time.monotonic() < deadline
                    time.sleep(0.01)
        net.block_with_kernel_timeout(sock, 0.2)
        started = time.monotonic()
        with pytest.raises((BlockingIOError, TimeoutError)):  # Windows: TimeoutError
            recvfrom(2048, 0)
        assert time.monotonic() - started >= 0.15  # waited for the kernel's timeout


class _ResettingSocket:
    """A socket whose receive reports a reset first, as Windows does after a send to a
    closed port; then the real datagrams."""

    def __init__(self, sock: socket.socket, resets: int) -> None:
        self._sock, self.resets = sock, resets

    def recvfrom(self, size: int, flags: int = 0):
        if self.resets:
            self.resets -= 1
            raise ConnectionResetError(10054, "An existing connection was forcibly closed")
        return self._sock.recvfrom(size, flags)


class _TimeExceeded(OSError):
    winerror = 10052  # WSAENETRESET, as Windows reports an ICMP "time exceeded"


@pytest.mark.portable
def test_reports_of_earlier_sends_are_told_apart_from_real_receive_errors():
    assert net.reports_an_earlier_send(ConnectionResetError(10054, "reset"))
    assert net.reports_an_earlier_send(_TimeExceeded(10052, "network dropped connection"))
    assert not net.reports_an_earlier_send(OSError(12, "Cannot allocate memory"))


@pytest.mark.portable
def test_a_reset_on_the_clients_receive_is_no_error_line():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.setblocking(False)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.sendto(b"msg,still here", sock.getsockname())
            time.sleep(0)  # loopback delivers at once; the drain below reads what is there
            datagrams: list[tuple[bytes, tuple[str, int]]] = []
            errors: list[str] = []
            deadline = time.monotonic() + 5
            fake = _ResettingSocket(sock, resets=2)
            while not datagrams and time.monotonic() < deadline:
                Receiver._drain(fake, datagrams, errors)  # type: ignore[arg-type]
            assert datagrams == [(b"msg,still here", (LOOPBACK, peer.getsockname()[1]))]
        assert errors == [] and fake.resets == 0


def test_a_reset_on_the_servers_receive_is_skipped_quietly(tmp_path):
    """The real server loop, its listening socket reporting resets (Windows, after a
    reply to a client that has gone): the next login is welcomed, nothing is logged."""
    port, group, group_port = free_udp_port(), unique_group(), free_udp_port()
    options = parse_options([
        "--host", LOOPBACK, "--port", str(port), "--group", group,
        "--group-port", str(group_port), "--interface", LOOPBACK,
    ])  # fmt: skip
    out = (tmp_path / "server.log").open("wb")
    log = LogSink(out)
    server = ChatServer(options, log)

    class Resetting(socket.socket):
        resets = 3

        def recvfrom(self, size, flags=0):  # type: ignore[override]
            if self.resets:
                self.resets -= 1
                raise ConnectionResetError(10054, "forcibly closed")
            return super().recvfrom(size, flags)

    server.sock = Resetting(socket.AF_INET, socket.SOCK_DGRAM, fileno=server.sock.detach())
    listener = GroupListener(group, group_port)
    ada = UdpClient(server.address)
    loop = threading.Thread(target=server.serve_forever)
    loop.start()
    try:
        ada.send(b"login,ada")
        listener.expect(b"welcome,ada")
    finally:
        server.stop()
        loop.join(10)
        listener.close()
        ada.close()
        server.close()
        log.close()
    assert not loop.is_alive()
    assert server.sock.resets == 0  # type: ignore[attr-defined]  # every reset was read
    text = (tmp_path / "server.log").read_text()
    assert "login request has arrived from ada@" in text and "error" not in text, text


@pytest.mark.portable
def test_without_any_os_lock_a_name_never_stops_a_login(tmp_path, monkeypatch):
    monkeypatch.setattr(name_hold, "try_lock", None)
    chat = ("127.0.0.1", 4321, "224.1.1.1", 2241)
    mine, theirs = name_hold.NameHold(tmp_path), name_hold.NameHold(tmp_path)
    assert mine.hold(chat, "ada") and not mine.holding  # nothing held, nothing retried
    assert not theirs.held_elsewhere(chat, "ada") and theirs.hold(chat, "ada")


MSVCRT_LIKE = """
import fcntl as real, os, sys, types
import qml_client.cli  # before msvcrt exists: subprocess takes its presence for Windows
sys.modules["fcntl"] = None
unlocked = []
def locking(fd, mode, nbytes):  # Windows' msvcrt.locking as seen from Python: EACCES if held
    assert nbytes == 1 and os.lseek(fd, 0, os.SEEK_CUR) == 0
    if mode == 0:  # LK_UNLCK
        unlocked.append(fd)
        return real.flock(fd, real.LOCK_UN)
    assert mode == 2  # LK_NBLCK
    try:
        real.flock(fd, real.LOCK_EX | real.LOCK_NB)
    except BlockingIOError:
        raise PermissionError(13, "Permission denied") from None
sys.modules["msvcrt"] = types.SimpleNamespace(LK_UNLCK=0, LK_NBLCK=2, locking=locking)
from qml_client import name_hold
assert name_hold.try_lock.__name__ == "locking"
chat = ("127.0.0.1", 4321, "224.1.1.1", 2241)
from pathlib import Path
here = Path(sys.argv[1])
mine, theirs = name_hold.NameHold(here), name_hold.NameHold(here)
assert mine.hold(chat, "ada") and mine.holding
assert theirs.held_elsewhere(chat, "ADA") and not theirs.hold(chat, "ada")
mine.release()
assert unlocked  # unlocked before closed, as Windows asks
assert not theirs.held_elsewhere(chat, "ada") and theirs.hold(chat, "ada")
print("ok")
"""


def test_windows_locks_hold_names_as_flock_does(tmp_path):
    """The msvcrt branch, wired to an msvcrt whose ``locking`` answers as Windows does."""
    result = fresh_python(MSVCRT_LIKE, str(tmp_path))
    assert result.stdout.strip() == "ok", result.stderr


def test_the_interface_addresses_come_from_the_os_on_every_os():
    """Every IPv4 address of every interface (the Linux ioctl found none on macOS)."""
    fcntl = pytest.importorskip("fcntl")
    addresses = net.local_addresses()
    assert "127.0.0.1" in addresses
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            try:  # what the old Linux-only ioctl saw, for each interface that has an address
                packed = struct.pack("256s", name.encode()[:15])
                reply = fcntl.ioctl(probe.fileno(), 0x8915, packed)
            except OSError:
                continue
            assert socket.inet_ntoa(reply[20:24]) in addresses


@pytest.mark.portable
def test_the_pyside6_pin_gives_each_platform_a_wheel_it_has():
    """6.11.3 everywhere it has wheels; on macOS 12 (no 6.11.3 wheel) the newest that has
    one, 6.9.3 (checked with pip download --platform macosx_12_0_x86_64). No marker reads
    platform_release: older pips raise on Linux kernel names in a version comparison."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    gui = [Requirement(r) for r in project["project"]["optional-dependencies"]["gui"]]
    pyside = [r for r in gui if r.name == "PySide6-Essentials"]
    assert all("platform_release" not in str(r.marker) for r in pyside)

    def chosen(platform: str, wheels: list[str]) -> str:
        """What pip installs on ``platform`` where these versions have wheels: the newest."""
        (wanted,) = [r for r in pyside if r.marker is None or r.marker.evaluate(
            {"sys_platform": platform})]  # fmt: skip
        return str(max(wanted.specifier.filter(wheels), key=Version))

    everything = ["6.8.3", "6.9.3", "6.10.3", "6.11.3", "6.12.0"]
    assert chosen("linux", everything) == chosen("win32", everything) == "6.11.3"
    assert chosen("darwin", everything) == "6.11.3"  # macOS 13 and later
    assert chosen("darwin", ["6.8.3", "6.9.0", "6.9.3"]) == "6.9.3"  # what macOS 12 has


def test_the_simulated_interpreter_lacks_what_windows_lacks():
    code = (
        "import socket, sys\n"
        "names = ('MSG_DONTWAIT', 'SO_REUSEPORT', 'IP_RECVTTL')\n"
        "missing = [n for n in names if hasattr(socket, n)]\n"
        "try:\n    import fcntl\nexcept ImportError:\n    pass\n"
        "else:\n    missing.append('fcntl')\n"
        "sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "missing += [n for n in ('recvmsg', 'sendmsg') if hasattr(sock, n)]\n"
        "missing += [n for n in ('recvmsg', 'sendmsg') if hasattr(socket.socket, n)]\n"
        "sock.connect(('127.0.0.1', 9))\n"  # the discard port: nothing listens on loopback
        "sock.send(b'x')\n"
        "try:\n    sock.recv(16)\nexcept OSError as exc:\n    print(exc.errno)\n"
        "from protocol_lib.io import net\n"
        "print(missing, net.NOWAIT_FLAG == 0x40000000)"
    )
    result = fresh_python(code, env=without_linux_extras())
    assert result.stdout.split() == ["10054", "[]", "True"], result.stderr  # WSAECONNRESET


@pytest.mark.slow
def test_server_and_real_windows_chatwithout_linux_extras():
    """The end-to-end tests (a real server, real client windows offscreen: two users log
    in, chat, list, leave), the server's own tests (a burst that makes its loop switch
    to not waiting and back) and the launcher's, all in interpreters without fcntl,
    MSG_DONTWAIT and SO_REUSEPORT: servers and clients they start are such ones too."""
    files = ["tests/test_e2e.py", "tests/test_server_app.py", "tests/test_run_chat.py"]
    result = __import__("subprocess").run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
         *files],
        cwd=ROOT, env=without_linux_extras(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    tail = (result.stdout + result.stderr)[-3000:]
    assert result.returncode == 0, tail
    assert " passed" in tail and "failed" not in tail and "error" not in tail.lower(), tail


@pytest.mark.portable
def test_windows_socket_error_numbers_get_the_same_explanations(monkeypatch):
    """Windows' sockets say WSAEADDRINUSE (10048), not EADDRINUSE: same sentence."""
    import errno

    monkeypatch.setattr(errno, "WSAEADDRINUSE", 10048, raising=False)
    monkeypatch.setattr(errno, "WSAEADDRNOTAVAIL", 10049, raising=False)
    assert net.why(OSError(10048, "Only one usage of each socket address")).startswith(
        "the port is already in use"
    )
    assert net.why(OSError(10049, "The requested address is not valid")).startswith(
        "that address is not one of this machine's"
    )
