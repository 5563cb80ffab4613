"""The shared command-line options: one-line errors, host names resolved once."""

from __future__ import annotations

import argparse

import pytest

from lanchat.options import host_address, multicast_group
from qml_client.cli import parse_options
from server_app.cli import parse_options as parse_server_options


def test_addresses_and_localhost_need_no_lookup():
    assert host_address("10.0.0.7") == "10.0.0.7"
    assert host_address("localhost") == "127.0.0.1"
    assert parse_options(["localhost"]).server == "127.0.0.1"
    assert parse_server_options(["--host", "localhost"]).host == "127.0.0.1"


def test_a_name_that_cannot_resolve_is_one_clear_line(capsys):
    bad = "x" * 70 + ".lan"  # refused before any lookup: nothing leaves this machine
    with pytest.raises(argparse.ArgumentTypeError, match="cannot resolve"):
        host_address(bad)
    with pytest.raises(SystemExit) as exit_:
        parse_options([bad])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lanchat-client: error: argument server: cannot")


def test_both_programs_share_the_network_options():
    client, server = parse_options(["--group", "239.1.2.3"]), parse_server_options([])
    assert client.group == "239.1.2.3" and server.group == "224.1.1.1"
    with pytest.raises(argparse.ArgumentTypeError):
        multicast_group("10.0.0.1")
