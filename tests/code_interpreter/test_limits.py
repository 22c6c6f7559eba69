"""Limits (local.py, kernel.py): time, memory, CPU, processes and disk. A session over one is stopped and
restarted with its files; the service and other sessions keep working."""

from __future__ import annotations

import time

import pytest

from tests.code_interpreter.conftest import ISOLATIONS, new_session

FORK_BOMB = (
    "import os\n"
    "while True:\n"
    "    try:\n"
    "        os.fork()\n"
    "    except OSError:\n"
    "        pass\n"
)


def _each_isolation(make_sandbox, **limits):
    """A sandbox per isolation that can run here, with these limits."""
    for isolation in ISOLATIONS:
        try:
            yield isolation, make_sandbox(isolation, **limits)
        except pytest.skip.Exception:
            continue


def test_a_runaway_call_is_stopped_and_the_next_call_works(make_sandbox, request):
    for isolation in ISOLATIONS:
        try:
            sandbox = make_sandbox(isolation, timeout_seconds=1.5)
        except pytest.skip.Exception:
            continue
        session = new_session()
        sandbox.execute(session, "open('/mnt/data/kept.txt', 'w').write('kept')\nlost = 1", [])
        started = time.monotonic()
        result = sandbox.execute(session, "while True: pass", [])
        elapsed = time.monotonic() - started
        assert 1.4 < elapsed < 5, elapsed
        assert result.error.startswith("timed out after 1.5 s") and "variables" in result.error
        after = sandbox.execute(session, "print(open('/mnt/data/kept.txt').read(), 'lost' in globals())", [])
        assert after.error is None and after.logs == "kept False\n"


def test_the_memory_limit_holds_and_the_session_survives(make_sandbox):
    for isolation in ISOLATIONS:
        try:
            sandbox = make_sandbox(isolation, memory_mb=300)
        except pytest.skip.Exception:
            continue
        session = new_session()
        result = sandbox.execute(session, "kept = 7\nblock = bytearray(600 * 1024 * 1024)", [])
        assert result.error is not None and "MemoryError" in result.error and "300 MB" in result.error
        assert sandbox.execute(session, "kept", []).logs == "7\n"


def test_a_dying_kernel_is_reported_and_restarted(sandbox):
    session = new_session()
    result = sandbox.execute(session, "import os\nos._exit(3)", [])
    assert result.error.startswith("killed:") and "exit code 3" in result.error
    assert sandbox.execute(session, "print('back')", []).logs == "back\n"


def test_a_fork_bomb_is_stopped_and_other_sessions_and_the_service_keep_working(make_sandbox):
    for isolation, sandbox in _each_isolation(make_sandbox, max_processes=24, timeout_seconds=10):
        bomber, bystander = new_session(), new_session()
        sandbox.execute(bystander, "before = 1", [])
        sandbox.execute(bomber, "open('/mnt/data/kept.txt', 'w').write('kept')", [])
        started = time.monotonic()
        result = sandbox.execute(bomber, FORK_BOMB, [])
        assert time.monotonic() - started < 5, isolation  # stopped by the process limit, not the timeout
        assert result.error.startswith("stopped: the code ran more than 24 processes and threads"), result.error
        assert sandbox.execute(bystander, "print(before + 1)", []).logs == "2\n"  # a running session
        assert sandbox.execute(new_session(), "print('new')", []).logs == "new\n"  # the service starts new ones
        assert sandbox.execute(bomber, "print(open('/mnt/data/kept.txt').read())", []).logs == "kept\n"


def test_processes_within_the_limit_run_and_end_with_the_call_under_bubblewrap(make_sandbox):
    sandbox = make_sandbox("bwrap", max_processes=24)
    session = new_session()
    started = sandbox.execute(session, (
        "import subprocess\n"
        "workers = [subprocess.Popen(['sleep', '60']) for _ in range(5)]\n"
        "print(len(workers))\n"
    ), [])
    assert started.error is None and started.logs == "5\n"
    listing = sandbox.execute(session, "import os\nprint(sorted(p for p in os.listdir('/proc') if p.isdigit()))", [])
    assert listing.logs == "['1', '2']\n"  # bwrap's init and the kernel: the sleepers ended with their call


def test_a_file_over_the_size_limit_fails_to_write_with_a_clear_error(make_sandbox):
    for isolation, sandbox in _each_isolation(make_sandbox, disk_mb=16):
        session = new_session()
        result = sandbox.execute(session, (
            "with open('/mnt/data/big.bin', 'wb') as out:\n"
            "    out.write(b'x' * (16 * 1024 * 1024))\n"
        ), [])
        assert "OSError: [Errno 27] File too large" in result.error, isolation
        assert "limit is 8 MB per file" in result.error
        assert sandbox.execute(session, "print('still here')", []).logs == "still here\n"


def test_filling_the_disk_with_many_files_unisolated_is_stopped_and_files_stay_readable(make_sandbox):
    """Without bubblewrap there is no quota: the watch over the session's disk stops the code."""
    sandbox = make_sandbox("none", disk_mb=8, timeout_seconds=20)
    session = new_session()
    result = sandbox.execute(session, (
        "import time\n"
        "for i in range(1000):\n"
        "    open(f'/mnt/data/part{i}.bin', 'wb').write(b'x' * (1024 * 1024))\n"
        "    time.sleep(0.01)\n"
    ), [])
    assert result.error.startswith("stopped: the session's files (/mnt/data and /tmp) went over the disk "
                                   "limit of 8 MB")
    assert len(result.files) < 16  # bounded: stopped within a few writes of the limit
    cleaned = sandbox.execute(session, (
        "import glob, os\n"
        "for path in glob.glob('/mnt/data/part*.bin'):\n"
        "    os.remove(path)\n"
        "print('room again')\n"
    ), [])
    assert cleaned.logs == "room again\n"


def test_under_bubblewrap_the_disk_limit_is_a_hard_quota_shared_by_every_writable_folder(make_sandbox):
    """A write past the quota fails at once, wherever it lands (/mnt/data, /tmp, /dev/shm share it),
    the code goes on, and nothing it wrote is lost or kept anywhere else."""
    sandbox = make_sandbox("bwrap", disk_mb=16, timeout_seconds=20)
    session = new_session()
    probe = (
        "import errno\n"
        "def write(path, mb):\n"
        "    try:\n"
        "        with open(path, 'wb') as f:\n"
        "            for _ in range(mb):\n"
        "                f.write(b'x' * (1 << 20))\n"
        "        return 'ok'\n"
        "    except OSError as e:\n"
        "        return errno.errorcode[e.errno]\n"
        "print(write('/mnt/data/a.bin', 5), write('/tmp/b.bin', 5), write('/mnt/data/c.bin', 5))\n"
    )
    result = sandbox.execute(session, probe, [])
    assert result.error is None, result.error
    assert result.logs == "ok ok ENOSPC\n"  # 5 + 5 MB fit in 16 MB less /dev/shm's 4 MB; 5 more do not
    shm = sandbox.execute(session, "open('/dev/shm/s', 'wb').write(b'y' * (8 << 20))", [])
    assert "No space left on device" in shm.error and "may take 16 MB" in shm.error
    many = sandbox.execute(session, (
        "import os\n"
        "os.remove('/mnt/data/a.bin'); os.remove('/tmp/b.bin')\n"
        "written = 0\n"
        "try:\n"
        "    for i in range(100):\n"
        "        open(f'/mnt/data/part{i}.bin', 'wb').write(b'z' * (1 << 20))\n"
        "        written += 1\n"
        "except OSError as e:\n"
        "    print(written, e.strerror)\n"
    ), [])
    written, reason = many.logs.split(" ", 1)
    assert 8 <= int(written) <= 12 and reason == "No space left on device\n", many.logs
    assert len(many.files) == int(written) + 1  # every whole file returned, the partial one too
    # a timeout restarts the kernel inside the same sandbox: the files survive it
    assert sandbox.execute(session, "import time\ntime.sleep(60)", []).error.startswith("timed out")
    kept = sandbox.execute(session, "import os; print(len(os.listdir('/mnt/data')))", [])
    assert kept.logs == f"{int(written) + 2}\n"  # the parts, c.bin's partial write, the partial part


def test_the_cpu_time_limit_stops_a_process_that_used_it_up(make_sandbox):
    for isolation, sandbox in _each_isolation(make_sandbox, cpu_seconds=1, timeout_seconds=20):
        session = new_session()
        result = sandbox.execute(session, "while True:\n    pass", [])
        assert result.error.startswith("killed: the Python process used up its CPU-time limit of 1 s"), (isolation, result.error)
        assert sandbox.execute(session, "print('back')", []).logs == "back\n"
