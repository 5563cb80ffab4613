"""What a user installs: the wheel and the sdist carry the licence, and the sdist no tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.helpers_net import ROOT

BUILD = (
    "import sys; from setuptools import build_meta as b; "
    "print(getattr(b, sys.argv[1])(sys.argv[2]))"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The sdist and the wheel, built offline from a copy of the checkout."""
    tmp = tmp_path_factory.mktemp("build")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "*.egg-info", "__pycache__", ".hypothesis", "artifacts", "build", "dist",
    ))  # fmt: skip
    out = {}
    for hook in ("build_sdist", "build_wheel"):
        result = subprocess.run(
            [sys.executable, "-c", BUILD, hook, str(tmp / "dist")],
            cwd=src, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        out[hook] = tmp / "dist" / result.stdout.strip().splitlines()[-1]
    return out


def test_the_wheel_carries_the_licence_the_qml_and_the_type_marker(built):
    names = zipfile.ZipFile(built["build_wheel"]).namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "qml_client/LanChat/Main.qml" in names and "qml_client/LanChat/qmldir" in names
    assert (
        "qml_client/desktop/lanchat.desktop" in names and "qml_client/desktop/lanchat.svg" in names
    )
    assert "protocol_lib/py.typed" in names and "protocol_lib/io/net.py" in names
    assert not any(n.startswith("tests/") for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(built["build_wheel"]).read(metadata).decode()
    assert (
        "License-Expression: MIT" in text and "Classifier: Topic :: Communications :: Chat" in text
    )
    assert "Provides-Extra: gui" in text


def test_the_sdist_carries_the_licence_and_no_tests_it_could_not_run(built):
    with tarfile.open(built["build_sdist"]) as sdist:
        names = [n.split("/", 1)[1] for n in sdist.getnames() if "/" in n]
    assert "LICENSE" in names and "README.md" in names and "examples/bot.py" in names
    assert "qml_client/LanChat/Main.qml" in names
    assert not any(n.startswith(("tests/", "benchmarks/", "scripts/")) for n in names)
