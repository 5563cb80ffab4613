"""``python -m qml_client`` / ``lanchat-client``: open a chat window.

Options are parsed before Qt is imported, so ``--help`` and ``--version`` work,
and bad options are reported, where the ``gui`` extra (PySide6) is not installed.

Started without a console (``lanchat-client`` is a GUI script: on Windows it runs
under pythonw, whose ``sys.stderr`` is None), whatever would have gone to the
terminal (help, a bad option, the install hint, a window that failed to load) is
shown in a message box instead: before, such a start did nothing, visibly.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable

from .cli import given_options, parse_options

INSTALL_HINT = (
    "lanchat-client: the chat window needs PySide6, which is not installed here; "
    "install it with: pip install 'lanchat[gui]'"
)


def has_console() -> bool:
    """Whether what we print reaches somebody (pythonw has no stdout or stderr)."""
    return sys.stderr is not None and sys.stdout is not None


def show_message(text: str, error: bool = True) -> None:
    """Tell a user without a console: a Qt message box where PySide6 is installed (and no
    QGuiApplication already runs, which has no widgets), else ``_without_widgets``."""
    try:
        from PySide6.QtWidgets import QApplication, QMessageBox
    except ImportError:
        _without_widgets(text, error)
        return
    app = QApplication.instance() or QApplication(["lanchat"])
    if not isinstance(app, QApplication):
        _without_widgets(text, error)
        return
    box = QMessageBox(QMessageBox.Icon.Critical if error else QMessageBox.Icon.Information,
                      "lanchat", text)  # fmt: skip
    box.setObjectName("lanchat-message")
    box.exec()


def _without_widgets(text: str, error: bool) -> None:
    """Windows' own message box, else (nothing else can show it) the standard error."""
    if sys.platform == "win32":
        import ctypes

        flags = 0x10 if error else 0x40  # MB_ICONERROR / MB_ICONINFORMATION
        ctypes.windll.user32.MessageBoxW(None, text, "lanchat", flags)  # type: ignore[attr-defined]
    elif sys.stderr is not None:
        print(text, file=sys.stderr)


def _visible(step: Callable[[], int]) -> int:
    """Run ``step``; without a console, what it prints (and a crash) is shown in a box."""
    if has_console():
        return step()
    out = io.StringIO()
    asked = False  # --help or --version: the printout is the answer
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = step()
    except SystemExit as exc:  # argparse: --help, --version, a bad option
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
        asked = code == 0
    except Exception as exc:  # a crash at start: say it rather than vanish
        out.write(f"lanchat-client: {exc!r}")
        code = 1
    if out.getvalue().strip() and (code != 0 or asked):
        show_message(out.getvalue().strip(), error=code != 0)
    return code


def main(argv: list[str] | None = None) -> int:
    return _visible(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    if "--install-desktop-entry" in (sys.argv[1:] if argv is None else argv):
        from .desktop import install_desktop_entry

        return install_desktop_entry()
    options = parse_options(argv)
    if options.find is not None:
        from .terminal import find

        return find(options.find)
    if options.doctor:
        from .terminal import doctor

        return doctor(options)
    try:
        from .app import run
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("PySide6", "shiboken6"):
            raise
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    return run(options, given_options(argv))


if __name__ == "__main__":
    sys.exit(main())
