"""Start the chat on this machine: a local server on loopback (unless one is there) and a
window, in Python, so it runs where bash does not (Windows) as well as where it does.

``scripts/run-chat`` is this launcher behind the Debian set-up.  What it does:

- A server is "there" when the port cannot be bound on 127.0.0.1.  Otherwise one is
  started (``python -m server_app``), in a process group of its own, so that Ctrl+C in
  the terminal reaches the window first, and the window's ``exit,`` reaches the server
  before the launcher stops it (the window quits on Ctrl+C; then the server is stopped).
- Every window a launcher opens registers in ``places.runtime_dir()/windows-PORT`` by
  holding a lock on a file named for its process (the lock goes with the process, even
  a killed one).  The launcher that started the server stops it when its own window
  has closed and no registered window is left; the last one removes the directory.
  While its server runs it also holds ``server.held`` there: a window opened for a
  server that is ours is told that it names senders (``--relay attributed``), so it
  credits them from the first line; a server that was already there, someone else's
  perhaps, is left to show its style.
- Multicast stays on the loopback interface, except on Windows, which cannot send
  multicast through 127.0.0.1 (WinError 10051): there the group uses the default
  network card, with TTL 1 (this network only), so its default group is a private one
  (``WINDOWS_LOCAL_GROUP``), not the spec's 224.1.1.1 that classmates' clients join.

The server runs with ``--stop-with-stdin`` and a pipe for its standard input: closing it
stops the server (it says ``bye`` for anyone still in the chat), on every OS, and so does
the OS when the launcher dies, even killed: no server is left behind.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from protocol_lib import DEFAULT_GROUP, DEFAULT_GROUP_PORT, DEFAULT_SERVER_PORT
from protocol_lib.io.net import local_addresses
from protocol_lib.io.waker import stop_signals

LOOPBACK = "127.0.0.1"
READY_WAIT = 10.0  # seconds for a new server to say it is ready
STOP_WAIT = 10.0  # seconds for a server to say its byes and end before it is killed
POLL = 0.5  # seconds between looks at the other windows while the server waits for them
SERVER_FILE = "server.held"  # locked while a launcher's own server runs on the port


WINDOWS_LOCAL_GROUP = "239.255.76.67"
"""The Windows launcher's default group: its datagrams go out of the network card, and on
the spec's group every other client of the room would show this machine's local chat."""


def default_group(platform: str = sys.platform) -> str:
    """The group a launcher uses unless told otherwise (--group, $LANCHAT_GROUP)."""
    return WINDOWS_LOCAL_GROUP if platform == "win32" else DEFAULT_GROUP


def multicast_interface(platform: str = sys.platform) -> str:
    """Where the group's datagrams go: loopback, or the OS's choice on Windows."""
    return "0.0.0.0" if platform == "win32" else LOOPBACK


def server_is_listening(port: int, platform: str = sys.platform) -> bool:
    """Something holds ``127.0.0.1:port`` (UDP): a server is there.  On Windows also
    ``0.0.0.0:port``: a server bound there (lanchat-server's default) does not keep the
    same user from binding 127.0.0.1 (elsewhere that bind fails: EADDRINUSE)."""
    hosts = (LOOPBACK, "0.0.0.0") if platform == "win32" else (LOOPBACK,)
    for host in hosts:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                return True
    return False


def no_display_reason(platform: str = sys.platform, env: dict[str, str] | None = None) -> str:
    """Why no window can open here ("" when one can): Linux needs a display server."""
    env = dict(os.environ) if env is None else env
    if not platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return ""
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return ""
    command = env.get("LANCHAT_COMMAND") or "lanchat"  # what the user typed (run-chat says)
    return (
        "no display found (DISPLAY and WAYLAND_DISPLAY are unset). On a desktop, run it "
        f"there. To try it on a headless machine: apt-get install xvfb, then: xvfb-run -a "
        f"{command} (the window is invisible there; a headless host serves others with "
        "lanchat-server)"
    )


class Windows:
    """The windows launchers opened for one port: a directory of held lock files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._mine: int | None = None  # the descriptor of this process's held file
        self._server: int | None = None  # held while this launcher's own server runs

    def register(self) -> None:
        """Hold this process's file (where the OS cannot lock, others never see it, and
        the server stops with the window that started it)."""
        from qml_client.name_hold import lock_file

        self._mine = lock_file(self.directory / f"{os.getpid()}.lock")

    def unregister(self) -> None:
        if self._mine is not None:
            from qml_client.name_hold import let_go

            let_go(self._mine)
            self._mine = None
            with contextlib.suppress(OSError):
                (self.directory / f"{os.getpid()}.lock").unlink()

    def hold_server(self) -> None:
        """This launcher's server runs on the port: later launchers can tell that it is
        ours (it names senders: their windows credit them from the first line)."""
        from qml_client.name_hold import lock_file

        self._server = lock_file(self.directory / SERVER_FILE)

    def let_server_go(self) -> None:
        if self._server is not None:
            from qml_client.name_hold import let_go

            let_go(self._server)
            self._server = None

    def server_is_ours(self) -> bool:
        """Whether another launcher's own server holds the port (not someone else's)."""
        from qml_client.name_hold import locked_elsewhere

        return self._server is not None or locked_elsewhere(self.directory / SERVER_FILE)

    def others(self) -> int:
        """Windows still open (files still locked); stale files are removed."""
        from qml_client.name_hold import locked_elsewhere

        count = 0
        for path in self.directory.glob("*.lock"):
            if path.name == f"{os.getpid()}.lock" and self._mine is not None:
                continue
            if locked_elsewhere(path):
                count += 1
            else:
                with contextlib.suppress(OSError):
                    path.unlink()
        return count

    def remove_if_empty(self) -> None:
        with contextlib.suppress(OSError):
            if not any(self.directory.glob("*.lock")):
                (self.directory / SERVER_FILE).unlink(missing_ok=True)
            self.directory.rmdir()


class LocalServer:
    """A server this launcher started: its log goes to the launcher's terminal as it comes
    (a user sees logins and errors where they typed the command) and, by the server itself,
    to ``log`` (appended: the last run's log is still there; and if this launcher dies,
    the server goes on writing it until it has stopped)."""

    def __init__(self, port: int, group: str, group_port: int, log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "server_app", "--host", LOOPBACK, "--port", str(port),
            "--group", group, "--group-port", str(group_port),
            "--interface", multicast_interface(), "--ttl", "1", "--stop-with-stdin",
            "--log-file", str(log),
        ]  # fmt: skip
        own_group: dict[str, object] = (
            {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
            if sys.platform == "win32"
            else {"start_new_session": True}
        )
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            **own_group,  # type: ignore[call-overload]
        )  # fmt: skip
        self.output: list[str] = []  # what it printed (says why, if it could not start)
        self.ready = threading.Event()
        self._echo = threading.Thread(target=self._show_output, daemon=True)
        self._echo.start()

    def _show_output(self) -> None:
        """Each line the server prints, to this terminal (where there is one)."""
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            self.output.append(text)
            with contextlib.suppress(AttributeError, OSError, ValueError):  # pythonw: None
                sys.stdout.write(text + "\n")  # one write: lines of two threads never mix
                sys.stdout.flush()
            if "is ready on" in text:  # after it is shown: the launcher's line comes next
                self.ready.set()

    def wait_ready(self) -> str | None:
        """None once the server says it is ready; else why it is not (what it said)."""
        deadline = time.monotonic() + READY_WAIT
        while not self.ready.wait(0.05):
            if self.process.poll() is not None:
                self._echo.join(2.0)  # the last of what it said
                said = "\n".join(self.output).strip()
                return said or f"the server exited with status {self.process.returncode}"
            if time.monotonic() > deadline:
                return f"the server did not say it was ready within {READY_WAIT:g} s"
        return None

    def stop(self) -> None:
        """Close its standard input: it says bye for anyone left and ends (as it does when
        this launcher dies, killed or not: the OS closes the pipe then); make sure it has."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _options(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="lanchat",
        description="Start the chat on this machine: a local server on 127.0.0.1 (unless one "
        "is there) and a chat window. Run it again for another window. Other options go to "
        "the window (see lanchat-client --help), e.g.: lanchat --user alice",
    )
    add = parser.add_argument
    add("--port", type=int, default=int(env.get("LANCHAT_PORT", DEFAULT_SERVER_PORT)),
        help="the server's UDP port (default: $LANCHAT_PORT, else 4321)")  # fmt: skip
    add("--group", default=env.get("LANCHAT_GROUP", default_group()),
        help=f"the multicast group (default: $LANCHAT_GROUP, else {default_group()})")  # fmt: skip
    add("--group-port", type=int,
        default=int(env.get("LANCHAT_GROUP_PORT", DEFAULT_GROUP_PORT)),
        help="the group's port (default: $LANCHAT_GROUP_PORT, else 2241)")  # fmt: skip
    add("--host", nargs="?", const="", default=None, metavar="TITLE", dest="host_chat",
        help="host a chat for the network instead: the window runs our server on this "
        "machine's network address, announced (as TITLE), and others find it")  # fmt: skip
    add("--local", action="store_true",
        help="start the chat on this computer even when the window was last in a chat "
        "on the network (which it otherwise opens again)")  # fmt: skip
    add("--server-log-dir", type=Path, default=None,
        help="a server started here logs to server-PORT.log in this folder (default: "
        "the data folder)")  # fmt: skip
    return parser.parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    args, client_args = _options(argv)
    reason = no_display_reason()
    if reason:
        print(f"lanchat: {reason}", file=sys.stderr)
        return 1
    from qml_client.cli import parse_options
    from qml_client.places import data_dir, runtime_dir

    parse_options(_window_args(args, client_args))  # a bad option: said (exit 2), no server
    if args.host_chat is not None:  # the window hosts (its own server, on the LAN)
        from qml_client.__main__ import main as client_main

        return client_main(["--host-chat", args.host_chat, *client_args])

    elsewhere = None if args.local or _chose_local(args) else last_chat_elsewhere(client_args)
    if elsewhere is not None:
        from qml_client.__main__ import main as client_main

        command = os.environ.get("LANCHAT_COMMAND") or "lanchat"  # what the user typed
        print(f"lanchat: opening your last chat again, {elsewhere} ({command} --local starts "
              "a chat on this computer instead).", flush=True)  # fmt: skip
        return client_main(client_args)

    port = args.port
    windows = Windows(runtime_dir() / f"windows-{port}")
    server: LocalServer | None = None
    try:
        if server_is_listening(port):
            print(f"lanchat: a server is already listening on {LOOPBACK}:{port}; "
                  "opening a window only.")  # fmt: skip
        else:
            log = (args.server_log_dir or data_dir()) / f"server-{port}.log"
            server = LocalServer(port, args.group, args.group_port, log)
            problem = server.wait_ready()
            if problem is not None:
                print(f"lanchat: the server did not start:\n{problem}", file=sys.stderr)
                return 1
            windows.hold_server()
            print(f"lanchat: server on {LOOPBACK}:{port}, its log below and in {log}; it runs "
                  "while any window lanchat opened for it is open.", flush=True)  # fmt: skip
        windows.register()
        code = _window(args, client_args, ours=windows.server_is_ours())
        windows.unregister()
        if server is not None:
            _wait_for_others(windows, port)
        return code
    finally:
        windows.unregister()
        if server is not None:
            server.stop()
            windows.let_server_go()
        windows.remove_if_empty()


def _chose_local(args: argparse.Namespace) -> bool:
    """The command line or the environment names this launcher's own server or group
    (parsed: an abbreviation such as --po counts too)."""
    if any(f"LANCHAT_{v}" in os.environ for v in ("PORT", "GROUP", "GROUP_PORT")):
        return True
    return (args.port, args.group, args.group_port) != (
        DEFAULT_SERVER_PORT,
        default_group(),
        DEFAULT_GROUP_PORT,
    )


def last_chat_elsewhere(client_args: list[str]) -> str | None:
    """The chat the window was last in, in words, when it is on another computer and the
    command line names no chat: run-chat started again opens it again, as the window
    does (a trial: it put a student back in a chat of one on his own computer, and
    remembered that instead of the class's chat).  None for a chat on this computer (a
    loopback one, or one this computer hosted: that chat ended with its window)."""
    import ipaddress

    from qml_client.cli import given_options, parse_options
    from qml_client.settings import SettingsStore

    given = given_options(client_args)
    if given & {"server", "port", "group", "group_port", "interface"}:
        return None
    remembered, _ = SettingsStore.default().load()
    server = remembered.server
    if not server or server in local_addresses():
        return None
    with contextlib.suppress(ValueError):  # a name, not an address: not this computer's
        if ipaddress.ip_address(server).is_loopback:
            return None
    options = remembered.under(parse_options(client_args), given)
    where = f"{options.server}:{options.port}"
    return f"{options.title} at {where}" if options.title else where


def _window(args: argparse.Namespace, client_args: list[str], ours: bool) -> int:
    """The chat window, in this process, until it is closed."""
    from qml_client.__main__ import main as client_main

    return client_main(_window_args(args, client_args, ours))


def _window_args(args: argparse.Namespace, client_args: list[str], ours: bool = False) -> list[str]:
    """The window's command line: this launcher's server and group, then the user's; for
    a server of ours, that it names senders (the user's own --relay still wins)."""
    told = ["--relay", "attributed"] if ours else []
    return [
        LOOPBACK, "--port", str(args.port), "--group", args.group,
        "--group-port", str(args.group_port), "--interface", multicast_interface(),
        *told, *client_args,
    ]  # fmt: skip


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _wait_for_others(windows: Windows, port: int) -> None:
    """Keep the server while other windows opened for it are open (a stop signal: not
    longer; the window's handlers are gone with its event loop)."""
    others = windows.others()
    if not others:
        return
    print(f"lanchat: the server keeps running for the {others} other window(s) on "
          f"port {port}; Ctrl+C stops it.")  # fmt: skip
    for sig in stop_signals():
        signal.signal(sig, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        while windows.others():
            time.sleep(POLL)
        print("lanchat: the last window closed; stopping the server.")
