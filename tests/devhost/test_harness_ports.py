"""The test harness's devhost (tests/support/devhost_proc.py) survives losing its free port to another
process before it binds (parallel workers choose ports at once), and keeps its port across restarts."""

from __future__ import annotations

import socket
import urllib.request

from tests.conftest import devhost_env
from tests.support.devhost_proc import ROOT, DevhostProcess


def test_a_port_taken_before_the_first_start_is_replaced_and_kept_across_a_restart(azurite, scripted, tmp_path):
    host = DevhostProcess(ROOT, devhost_env(azurite, scripted), tmp_path / "devhost.log")
    with socket.socket() as taker:
        taker.bind(("127.0.0.1", 0))
        taker.listen()
        taken = taker.getsockname()[1]
        host._use_port(taken)
        host.start()
        try:
            assert host.port != taken and host.base_url == f"http://127.0.0.1:{host.port}/v1"
            assert urllib.request.urlopen(host.durable_api("instances/"), timeout=10).status == 200
            served_on = host.port
            host.stop()
            host.start()
            assert host.port == served_on
        finally:
            host.stop()
