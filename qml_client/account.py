"""What a welcome and a farewell change outside the window: the login remembered for the
next start (settings.py), and the name held so that another window of this account does
not log in as it (name_hold.py)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Slot

from protocol_lib.client_events import RelayStyle
from protocol_lib.display import shown_name

from .cli import ClientOptions
from .name_hold import NameHold
from .settings import Remembered, SettingsStore

NAME_HOLD_RETRY_MS = 1000  # how soon a name another window still holds is tried again


class Account(QObject):
    """``in_chat_as``: the name this window is in the chat as now (None: not in it)."""

    def __init__(
        self,
        options: ClientOptions,
        settings: SettingsStore | None,
        names: NameHold | None,
        in_chat_as: Callable[[], str | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.options = options
        self.settings = settings  # where a welcomed login is remembered (None: nowhere)
        self.names = names  # where this window holds its name (None: nowhere)
        self.in_chat_as = in_chat_as
        # The remembered name another window of this account is in the chat as (open_window
        # did not log in as it): said after the welcome line.
        self.elsewhere: str | None = None

    def remember_login(self) -> str | None:
        """A welcomed login: remember the name and where the chat is; a problem, if any."""
        if self.settings is None:
            return None
        values = Remembered.of_login(self.options, self.in_chat_as())
        if self.options.title:  # a chat joined from its record: its name, for next time
            remembered, _ = self.settings.load()
            values["titles"] = remembered.with_title(self.options.conversation, self.options.title)
        return self.settings.update(**values)

    def name_question(self, name: str, me: str | None, roster: list[str]) -> str | None:
        """What to ask before logging in as ``name`` when someone holds it (None: nobody
        does, or this window itself, which the core answers): another window of this
        account, or someone else in the chat."""
        if name == me:
            return None
        shown = shown_name(name)
        if self.names is not None and self.names.held_elsewhere(self.options.conversation, name):
            return (
                f"Another window of yours is in the chat as {shown}. Take the name? That "
                "window will be told and leave the chat."
            )
        if name in roster:
            return (
                f"{shown} is in the chat already, and not in a window of yours. Ask for the "
                "name anyway? A server refuses a name in use, or (ours, from this same "
                "computer) hands it over and puts the other one out."
            )
        return None

    def remember_relay(self, style: RelayStyle) -> str | None:
        """The server's relay style, seen: the next visit names senders from the first line."""
        if self.settings is None:
            return None
        remembered, _ = self.settings.load()
        return self.settings.update(
            relay_styles=remembered.with_relay(self.options.conversation, style)
        )

    @Slot()
    def hold_name(self) -> None:
        """In the chat: hold the name; out of it, let go.  A name that another window still
        holds (the one this took it over from, before it has seen the takeover) is tried
        again every NAME_HOLD_RETRY_MS while this window is in the chat as it."""
        if self.names is None:
            return
        user = self.in_chat_as()
        if not user:
            self.names.release()
        elif not self.names.hold(self.options.conversation, user):
            QTimer.singleShot(NAME_HOLD_RETRY_MS, self, self.hold_name)
