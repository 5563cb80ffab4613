"""What the client remembers between runs: name, server, group, window geometry. No Qt here.

Kept in ``settings.json`` in the config directory (``places.config_dir``: on Linux
``$XDG_CONFIG_HOME/lanchat/``, ``~/.config/lanchat/`` when the variable is unset or not
absolute; ``%APPDATA%\\lanchat`` on Windows; ``~/Library/Application Support/lanchat`` on macOS).
Command-line options win over remembered values; a remembered name logs in at
start.  A missing file is a first run; a damaged one is reported in one line
and set aside, never a reason not to start.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from protocol_lib.client_events import RelayStyle

from .cli import ClientOptions, Conversation
from .places import config_dir

REMEMBERED_OPTIONS = ("server", "port", "group", "group_port", "interface", "user")
"""The options a run remembers (``user`` is the name that was welcomed last)."""


@dataclass(frozen=True, slots=True)
class Remembered:
    """The last run's choices; None where nothing is known."""

    server: str | None = None
    port: int | None = None
    group: str | None = None
    group_port: int | None = None
    interface: str | None = None
    user: str | None = None
    geometry: tuple[int, int, int, int] | None = None  # x, y, width, height
    # What each chat's server was seen to do with a line (conversation_key -> style):
    # the next visit names senders from the first line (ClientConfig.relay_style).
    relay_styles: dict[str, str] | None = None
    # The names chats announced (conversation_key -> title): the window's title next time.
    titles: dict[str, str] | None = None

    def under(self, options: ClientOptions, given: set[str]) -> ClientOptions:
        """``options`` with remembered values where the command line gave none."""
        changes = {
            name: value
            for name in REMEMBERED_OPTIONS
            if name not in given and (value := getattr(self, name)) is not None
        }
        options = replace(options, **changes)
        key = conversation_key(options.conversation)
        if "relay" not in given and self.relay_styles:
            known = self.relay_styles.get(key)
            if known is not None:
                options = replace(options, relay=RelayStyle(known))
        if "title" not in given and self.titles and key in self.titles:
            options = replace(options, title=self.titles[key])
        return options

    def with_title(self, conversation: Conversation, title: str) -> dict[str, str]:
        """``titles`` with ``title`` for ``conversation``."""
        return {**(self.titles or {}), conversation_key(conversation): title[:MAX_TITLE]}

    def with_relay(self, conversation: Conversation, style: RelayStyle) -> dict[str, str]:
        """``relay_styles`` with ``style`` learned for ``conversation``."""
        return {**(self.relay_styles or {}), conversation_key(conversation): style.value}

    @staticmethod
    def of_login(options: ClientOptions, user: str | None) -> dict[str, object]:
        """The values a welcomed login remembers: where the chat is, and the name."""
        values: dict[str, object] = {name: getattr(options, name) for name in REMEMBERED_OPTIONS}
        values["user"] = user
        return values


def conversation_key(conversation: Conversation) -> str:
    """A conversation as a settings key: ``server:port group:group_port``."""
    server, port, group, group_port = conversation
    return f"{server}:{port} {group}:{group_port}"


_KNOWN_STYLES = (RelayStyle.ATTRIBUTED.value, RelayStyle.PLAIN.value)


class SettingsStore:
    """One settings file: ``load`` and ``save`` never raise, they say what went wrong."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def default(cls) -> SettingsStore:
        return cls(config_dir() / "settings.json")

    def load(self) -> tuple[Remembered, str | None]:
        """What was remembered, and a sentence if the file could not be used."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Remembered(), None
        except (OSError, ValueError, RecursionError) as exc:  # nested 100,000 deep: too deep
            why = "nested too deep" if isinstance(exc, RecursionError) else str(exc)
            return Remembered(), f"settings in {self.path} could not be read ({why}); ignored"
        if not isinstance(raw, dict):
            return Remembered(), f"settings in {self.path} are not a JSON object; ignored"
        known = {f.name: raw[f.name] for f in fields(Remembered) if f.name in raw}
        try:
            remembered = Remembered(**known)
            return _checked(remembered), None
        except (TypeError, ValueError) as exc:
            return Remembered(), f"settings in {self.path} are damaged ({exc}); ignored"

    def update(self, **changes: object) -> str | None:
        """Change some remembered values, keep the others (a damaged file starts afresh)."""
        remembered, _ = self.load()
        return self.save(replace(remembered, **changes))  # type: ignore[arg-type]

    def save(self, remembered: Remembered) -> str | None:
        """Write atomically (a crash leaves the old file or the new); a sentence on failure.

        The temporary file is this write's own: two windows closing at once (two
        run-chat clients) once wrote one shared ``settings.tmp`` over each other
        and left JSON that could not be read.  Now the last complete file wins.
        """
        data = {k: v for k, v in asdict(remembered).items() if v is not None}
        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".settings.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(json.dumps(data, indent=2) + "\n")
            os.replace(tmp, self.path)
        except OSError as exc:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            return f"settings could not be saved in {self.path}: {exc.strerror or exc}"
        return None


def _checked(remembered: Remembered) -> Remembered:
    """Values of the right kinds, as the command line would have checked them."""
    from lanchat.options import ipv4, multicast_group, user_name

    def number(value: object, low: int, high: int) -> int | None:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"not a port: {value!r}")
        return value

    def text(value: object, check) -> str | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError(f"not text: {value!r}")
        try:
            return str(check(value))
        except Exception as exc:  # argparse.ArgumentTypeError and friends
            raise ValueError(str(exc)) from None

    geometry = remembered.geometry
    if geometry is not None:
        if not (
            isinstance(geometry, list | tuple)
            and len(geometry) == 4
            and all(isinstance(v, int) and not isinstance(v, bool) for v in geometry)
        ):
            raise ValueError(f"not a geometry: {geometry!r}")
        geometry = (geometry[0], geometry[1], geometry[2], geometry[3])
    return Remembered(
        server=text(remembered.server, ipv4),
        port=number(remembered.port, 1, 65535),
        group=text(remembered.group, multicast_group),
        group_port=number(remembered.group_port, 1, 65535),
        interface=text(remembered.interface, ipv4),
        user=text(remembered.user, user_name),
        geometry=geometry,
        relay_styles=_styles(remembered.relay_styles),
        titles=_titles(remembered.titles),
    )


def _styles(styles: object) -> dict[str, str] | None:
    """Remembered relay styles: conversation keys to a style seen."""
    if styles is not None and not (
        isinstance(styles, dict)
        and all(isinstance(k, str) and v in _KNOWN_STYLES for k, v in styles.items())
    ):
        raise ValueError(f"not relay styles: {styles!r}")
    return styles


MAX_TITLE = 200  # characters of a remembered title (a record's is foreign text)


def _titles(titles: object) -> dict[str, str] | None:
    """Remembered titles: conversation keys to a chat's name."""
    if titles is not None and not (
        isinstance(titles, dict)
        and all(isinstance(k, str) and isinstance(v, str) and len(v) <= MAX_TITLE
                for k, v in titles.items())
    ):  # fmt: skip
        raise ValueError(f"not titles: {titles!r}")
    return titles
