"""The line feed: every line on its way into the view, kept in the history as it goes.

Under a flood the view takes new lines at most every SHOW_INTERVAL: each insert into
the model costs the view a layout of every line in sight and a frame, whatever the
batch holds (benchmarks/bench_view.py; figures in benchmarks/README, session 7).  A
line after a quiet spell goes in at once.  Also here: the conversation's earlier lines
at start, and a /search's listing, both read from the history.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Slot

from .history_store import HistoryStore
from .models import MessageModel
from .presenter import ChatLine, LineKind, Presenter, time_of_day

SHOW_INTERVAL = 0.033  # seconds: under a flood the view takes new lines ~30 times a second


class LineFeed(QObject):
    """Lines to the model (now, or within SHOW_INTERVAL), and the conversation's (``kept``)
    to the history."""

    def __init__(
        self,
        model: MessageModel,
        presenter: Presenter,
        history: HistoryStore | None,
        reader: Callable[[], str],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.presenter = presenter
        self.history = history  # every line shown is kept there (None: --no-history)
        self.reader = reader  # whose lines this window keeps and reads (history_store.py)
        self.unshown: list[ChatLine] = []  # read, not yet in the view
        self.shown_at = -SHOW_INTERVAL  # when the view last took lines
        self.shown_for: str | None = None  # whose earlier lines the view has shown
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.flush)

    def add(self, lines: list[ChatLine], paced: bool = False) -> None:
        """Keep the lines, and put them in the view now, or (``paced``: read from the
        network) within SHOW_INTERVAL of the last lines it took."""
        if not lines:
            return
        if self.history is not None:  # the conversation, not the window's own chatter
            kept = [(str(line.kind), line.sender, line.line_text) for line in lines if line.kept]
            if kept:
                self.history.record(kept, me=self.reader())
        self.unshown += lines
        wait = self.shown_at + SHOW_INTERVAL - time.monotonic() if paced else 0.0
        if wait <= 0:
            self.flush()
        elif not self._timer.isActive():
            self._timer.start(math.ceil(wait * 1000))

    @Slot()
    def flush(self) -> None:
        """Put the lines that wait into the view (before anything else reads or marks it)."""
        if not self.unshown:
            return
        self._timer.stop()
        lines, self.unshown = self.unshown, []
        self.model.append_lines(lines)
        self.shown_at = time.monotonic()

    def remove(self, line: ChatLine) -> None:
        """Take a line back (waiting, or in the view): the unread marker moves."""
        for at, waiting in enumerate(self.unshown):
            if waiting is line:
                del self.unshown[at]
                return
        self.model.remove_line(line)

    def show_earlier(self) -> None:
        """The conversation's last lines from the history, set apart from what follows;
        again after a login as another name than the one they were shown for (/login
        alice in a window that started without a name: alice's conversation)."""
        if self.history is None:
            return
        reader = self.reader()
        if reader == self.shown_for:
            return
        self.shown_for = reader
        earlier = self.history.recent(me=reader)
        if not earlier:
            return
        shown = [
            ChatLine(LineKind(line.kind), line.text, line.sender, time_of_day(line.at), at=line.at)
            for line in earlier
        ]
        shown.append(
            self.presenter.system(
                f"Earlier conversation above ({len(earlier)} "
                f"{'line' if len(earlier) == 1 else 'lines'} from the history; Ctrl+F "
                "finds words, in older lines too)"
            )
        )
        self.flush()
        self.model.append_lines(shown)  # shown, not recorded again

    def renamed(self, old: str, new: str) -> None:
        """The window is in the chat as ``new`` now (/nick): the lines kept as ``old`` are
        its conversation still, read under ``new`` from now on, and already in the view
        (show_earlier must not show them again, below the newer ones)."""
        if self.history is not None:  # after the lines recorded as old (record's order)
            self.history.rename(old, new)
        if self.shown_for == old:
            self.shown_for = new

    def search(self, words: str) -> list[ChatLine]:
        """The lines of the history with ``words``, newest first, as one listing."""
        if self.history is None:
            return [self.presenter.system("No history is kept (--no-history).", LineKind.ERROR)]
        hits = self.history.search(words, me=self.reader())
        if not hits:
            return [self.presenter.system(f"Nothing in the history matches: {words}")]
        listing = "\n".join(
            f"{hit.when()}  {hit.sender + ': ' if hit.sender else ''}{hit.text}" for hit in hits
        )
        found = f"{len(hits)} line(s) match {words!r}, newest first:"
        return [self.presenter.system(f"{found}\n{listing}")]

    def close(self) -> None:
        """Write what was recorded (the history's writer finishes first)."""
        if self.history is not None:
            self.history.close()
