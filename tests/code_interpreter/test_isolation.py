"""Isolation (isolation.py): bubblewrap contains the code; without it code_interpreter refuses unless allowed."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from tests.code_interpreter.conftest import new_session
from tools.code_interpreter.isolation import Isolation, bwrap_mode, choose
from tools.code_interpreter.local import LocalSandbox, SandboxUnavailable
from tools.code_interpreter.sandbox import InputFile

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("requested, probed, allowed, expected", [
    ("auto", "user", False, "bwrap-user"),
    ("auto", "plain", False, "bwrap"),
    ("auto", "user", True, "bwrap-user"),  # allowing unisolated never means choosing it
    ("auto", None, False, "refused"),
    ("auto", None, True, "none"),
    ("bwrap", None, True, "refused"),
    ("none", None, False, "none"),
    ("none", "user", False, "none"),
])
def test_choose(requested, probed, allowed, expected):
    assert choose(requested, probed, allowed).mode == expected


def test_choose_refuses_unknown_modes():
    with pytest.raises(ValueError):
        choose("docker", "user", False)


@pytest.fixture()
def no_namespaces(tmp_path, monkeypatch):
    """A bwrap on PATH that fails as it does where user namespaces are off."""
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")


def test_bwrap_that_cannot_create_namespaces_means_no_isolation(no_namespaces, monkeypatch):
    assert bwrap_mode() is None
    monkeypatch.setenv("PATH", "/nonexistent")
    assert bwrap_mode() is None


def test_without_isolation_code_is_refused_with_a_clear_error(no_namespaces):
    sandbox = LocalSandbox()
    try:
        assert sandbox.isolation == Isolation("refused", sandbox.isolation.reason) and not sandbox.isolated
        result = sandbox.execute(new_session(), "open('/mnt/data/ran.txt', 'w').write('ran')", [])
        assert result.logs == "" and result.files == []
        assert result.error.startswith("code_interpreter is unavailable on this server")
        assert "The code was not run" in result.error and "CODE_INTERPRETER_ALLOW_UNISOLATED" in result.error
        assert not any(sandbox.root.iterdir())  # no session was even created
        with pytest.raises(SandboxUnavailable):
            LocalSandbox(isolation="bwrap")
    finally:
        sandbox.close()


def test_without_isolation_the_operator_may_allow_unisolated_code(no_namespaces, caplog):
    sandbox = LocalSandbox(allow_unisolated=True)
    try:
        assert sandbox.isolation.mode == "none"
        assert "no file system or network isolation" in caplog.text
        assert sandbox.execute(new_session(), "print('ran')", []).logs == "ran\n"
    finally:
        sandbox.close()


@pytest.fixture(scope="module")
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepting = threading.Thread(target=lambda: [server.accept() for _ in range(8)], daemon=True)
    accepting.start()
    yield server.getsockname()[1]
    server.close()


def _connects(sandbox, port: int) -> str:
    return sandbox.execute(new_session(), (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).close(); print('connected')\n"
        "except OSError as e:\n"
        "    print('refused', type(e).__name__)\n"
    ), []).logs


def test_network_is_cut_off_under_bubblewrap(make_sandbox, listener):
    # Without bwrap the same code reaches the host's listener: the check below can fail.
    assert _connects(make_sandbox("none"), listener) == "connected\n"
    assert _connects(make_sandbox("bwrap"), listener).startswith("refused")


def test_bubblewrap_hides_the_host_and_keeps_the_system_read_only(make_sandbox):
    probe = (
        "import os\n"
        f"print(os.path.exists({str(REPO / 'core' / 'settings.py')!r}), os.path.exists('/proc/{os.getpid()}/environ'))\n"
        "try:\n"
        "    open('/usr/lib/escape.txt', 'w')\n"
        "except OSError as e:\n"
        "    print('read-only', type(e).__name__)\n"
    )
    unisolated = make_sandbox("none").execute(new_session(), probe, []).logs
    assert unisolated.startswith("True True")  # the control: without bwrap the host is right there
    isolated = make_sandbox("bwrap").execute(new_session(), probe, []).logs
    assert isolated.splitlines() == ["False False", "read-only OSError"]


def test_nothing_the_code_writes_lands_in_ram_outside_the_sessions_disk(make_sandbox):
    """bubblewrap's root and /dev are tmpfs in the host's RAM, outside the quota: they are read-only.
    /tmp is a folder of /mnt, and /dev/shm a tmpfs of its own inside the same quota."""
    probe = (
        "import os\n"
        "for path in ('/etc/planted', '/planted', '/dev/planted', '/run/planted', '/var/planted'):\n"
        "    try:\n"
        "        open(path, 'w').write('x' * 1024)\n"
        "        print('wrote', path)\n"
        "    except OSError as e:\n"
        "        print('refused', path)\n"
        "open('/dev/shm/segment', 'wb').write(b'y' * 4096)\n"
        "print('shm in quota', os.statvfs('/dev/shm').f_blocks * os.statvfs('/dev/shm').f_frsize)\n"
        "open('/tmp/t', 'w').write('t')\n"
        "print('tmp in quota', os.path.realpath('/tmp/t'))\n"
        "open('/dev/null', 'w').write('still a sink')\n"
        "print('null ok')\n"
    )
    lines = make_sandbox("bwrap").execute(new_session(), probe, []).logs.splitlines()
    assert lines == ["refused /etc/planted", "refused /planted", "refused /dev/planted", "refused /run/planted",
                     "refused /var/planted", f"shm in quota {64 << 20}", "tmp in quota /mnt/.tmp/t",
                     "null ok"], lines


def test_a_data_folder_the_code_swapped_for_a_symlink_is_never_followed_by_the_host(make_sandbox, tmp_path):
    """The host reaches the session's files through its sandbox's root: an absolute symlink the code
    puts in place of /mnt/data would point into the host's own tree there, so it is never followed."""
    target = tmp_path / "host-folder"
    target.mkdir()
    sandbox = make_sandbox("bwrap")
    session = new_session()
    swapped = sandbox.execute(session, (
        "import os\n"
        f"os.rename('/mnt/data', '/mnt/old'); os.symlink({str(target)!r}, '/mnt/data')\n"
        "print('swapped')\n"
    ), [])
    assert swapped.logs == "swapped\n", swapped.error
    result = sandbox.execute(session, "print('next call')", [InputFile.of_bytes("planted.csv", b"a,b\n")])
    assert "[input 'planted.csv' not written" in result.logs
    assert list(target.iterdir()) == []
