"""The README's run command, stopped the way a user stops it: Ctrl+C in its terminal.

A terminal's Ctrl+C (and ``timeout -s INT``) signals the whole foreground process
group at once, not just run-chat.  The client's ``exit,`` must still reach the server
before the server stops, so the server's log says that alice left.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.helpers_net import ROOT, GroupListener, free_udp_port, unique_group

STOP_WAIT = 30.0  # seconds: the client's window and the server's farewell, on a busy machine


def test_ctrl_c_in_the_terminal_lets_the_client_say_exit_before_the_server_stops():
    port, group, group_port = free_udp_port(), unique_group(), free_udp_port()
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        LANCHAT_PORT=str(port),
        LANCHAT_GROUP=group,
        LANCHAT_GROUP_PORT=str(group_port),
    )
    listener = GroupListener(group, group_port)
    log = Path(os.environ["XDG_DATA_HOME"]) / "lanchat" / f"server-{port}.log"
    # its own session and process group, as a shell gives a foreground job
    chat = subprocess.Popen(
        [str(ROOT / "scripts" / "run-chat"), "--user", "alice"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        listener.expect(b"welcome,alice", timeout=STOP_WAIT)
        os.killpg(chat.pid, signal.SIGINT)  # Ctrl+C: the whole group
        assert chat.wait(timeout=STOP_WAIT) == 0, chat.stderr.read() if chat.stderr else ""
        after = listener.drain()
    finally:
        if chat.poll() is None:
            os.killpg(chat.pid, signal.SIGKILL)
            chat.wait()
        listener.close()
        text = log.read_text(encoding="utf-8") if log.exists() else ""
        log.unlink(missing_ok=True)
    assert "exit request has arrived from user: alice@" in text, text
    assert "stopping: bye sent" not in text, text  # alice was gone before the server stopped
    assert after.count(b"bye,alice") == 1, after
    windows = Path(os.environ["XDG_RUNTIME_DIR"]) / "lanchat" / f"windows-{port}"
    assert not windows.exists()  # nothing left behind
