"""scripts/setup beside another package manager (issue 36, point 8): it stopped with apt's
raw "Could not get lock" while an update ran.  A stand-in apt-get on PATH plays the busy
one; everything else is the real script (its venv step finds .venv already made)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers_net import ROOT

LOCKED = "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt)"


def _setup(
    tmp_path: Path, busy_calls: int, wait: str, failure: str = ""
) -> tuple[int, str, list[str]]:
    """Run scripts/setup with an apt-get that is locked for its first ``busy_calls`` calls
    (or fails with ``failure``); its return code, its error output, apt-get's calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    (bin_dir / "apt-get").write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {calls}\n'
        f"n=$(wc -l < {calls})\n"
        f'if [ -n "{failure}" ]; then echo "{failure}" >&2; exit 100; fi\n'
        f'if [ "$n" -le {busy_calls} ]; then echo "{LOCKED}" >&2; exit 100; fi\n'
        "exit 0\n"
    )
    (bin_dir / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")  # every package missing
    (bin_dir / "id").write_text("#!/bin/sh\necho 0\n")  # as root, where apt is used
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}",
               LANCHAT_APT_POLL="0.05", LANCHAT_APT_WAIT=wait)  # fmt: skip
    done = subprocess.run(["bash", "scripts/setup"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    lines = calls.read_text().splitlines() if calls.exists() else []
    return done.returncode, done.stderr, lines


pytestmark = pytest.mark.skipif(
    not (ROOT / ".venv" / "bin" / "python").exists(), reason="needs the set-up's .venv"
)


def test_setup_waits_for_another_package_manager_and_says_so_once(tmp_path):
    code, err, calls = _setup(tmp_path, busy_calls=3, wait="30")
    assert code == 0, err
    assert err.count("another package manager is busy") == 1
    assert "waiting for it to finish (at most 30 s)" in err
    assert "Could not get lock" not in err  # apt's raw words only when it gives up
    assert [c.split()[0] for c in calls] == ["update"] * 4 + ["install"]


def test_setup_gives_up_after_its_wait_in_plain_words(tmp_path):
    code, err, calls = _setup(tmp_path, busy_calls=10_000, wait="0.3")
    assert code != 0
    assert "stayed busy for 0.3 s; run scripts/setup again when it is done" in err
    assert LOCKED in err and 2 <= len(calls) < 100


def test_setup_does_not_wait_on_other_apt_failures(tmp_path):
    code, err, calls = _setup(tmp_path, busy_calls=0, wait="30",
                              failure="E: Unable to locate package nats-server")  # fmt: skip
    assert code != 0 and len(calls) == 1
    assert "Unable to locate package nats-server" in err and "busy" not in err
