"""``python -m qml_client`` / ``lanchat-client``: open a chat window.

Options are parsed before Qt is imported, so ``--help`` and ``--version`` work,
and bad options are reported, where the ``gui`` extra (PySide6) is not installed.
"""

from __future__ import annotations

import sys

from .cli import given_options, parse_options

INSTALL_HINT = (
    "lanchat-client: the chat window needs PySide6, which is not installed here; "
    "install it with: pip install 'lanchat[gui]'"
)


def main(argv: list[str] | None = None) -> int:
    if "--install-desktop-entry" in (sys.argv[1:] if argv is None else argv):
        from .desktop import install_desktop_entry

        for path in install_desktop_entry():
            print(f"lanchat-client: installed {path}")
        return 0
    options = parse_options(argv)
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
