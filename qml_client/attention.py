"""What asks for the user's attention while the window is in the background: the one
"unread" line above the first line that arrives (one in the whole view: it moves, as
Element's and Slack's do), and a notification for a line that names the user.  No Qt
here."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from .notify import Notifier
from .presenter import ChatLine, Presenter, ViewUpdate

UNREAD = "\u2500\u2500 unread \u2500\u2500"


class Attention:
    """Whether the window has the focus, and what that changes."""

    def __init__(
        self,
        presenter: Presenter,
        notifier: Notifier | None,
        unread_line: bool,
        retire: Callable[[ChatLine], object] = lambda line: None,
    ) -> None:
        self.presenter = presenter
        self.notifier = notifier  # None: --no-notify
        self.unread_line = unread_line  # False: --no-unread-line
        self.retire = retire  # takes the previous marker out of the view
        self.window_active = True
        self._marked = False  # the "unread" line is in the view for this absence
        self._line: ChatLine | None = None  # the marker in the view

    def set_active(self, active: bool) -> None:
        if active != self.window_active:
            self.window_active = active
            if not active:
                self._marked = False

    def marker(self, update: ViewUpdate) -> list[ChatLine]:
        """The line above the first line someone says while the user is away (once; a join
        or a note of the window's is nothing to read), without a time of its own."""
        away = not self.window_active and self.unread_line
        if not away or self._marked or not update.incoming:
            return []
        self._marked = True
        if self._line is not None:
            self.retire(self._line)  # the marker moves: one in the view
        self._line = dataclasses.replace(self.presenter.system(UNREAD), timestamp="")
        return [self._line]

    def notify(self, update: ViewUpdate) -> None:
        """Lines that name the user, while away: one notification for the batch."""
        if not update.mentions or self.window_active or self.notifier is None:
            return
        line = update.mentions[-1]
        more = f" (and {len(update.mentions) - 1} more)" if len(update.mentions) > 1 else ""
        who = line.sender or "someone"
        self.notifier.notify(f"{who} mentioned you{more}", line.line_text)
