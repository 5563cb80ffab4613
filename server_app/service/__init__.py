"""Running the server as a system service: the systemd unit, filled in for this install."""

from __future__ import annotations

import shlex
import sys
from importlib import resources
from pathlib import Path

UNIT_NAME = "lanchat-server.service"


def exec_start(argv0: str | None = None) -> str:
    """The command that starts this lanchat-server: the console script itself where it is
    one (an absolute path, as systemd wants), else this Python with ``-m server_app``."""
    script = Path(argv0 if argv0 is not None else sys.argv[0])
    if script.name == "lanchat-server" and script.exists():
        return shlex.quote(str(script.absolute()))
    # Not resolved: a virtual environment's python is a link, and only the link sees its packages.
    return f"{shlex.quote(str(Path(sys.executable).absolute()))} -m server_app"


def systemd_unit(argv0: str | None = None) -> str:
    """The unit file, with ExecStart for this install."""
    text = resources.files(__package__).joinpath(UNIT_NAME).read_text(encoding="utf-8")
    return text.replace("@EXEC@", exec_start(argv0))
