"""Sessions (sessions.py): one per thread, calls on one in turn and on different ones at once, idle ones expire."""

from __future__ import annotations

import threading
import time

from tests.code_interpreter.conftest import new_session
from tools.code_interpreter.sessions import disk_usage


def test_different_sessions_run_concurrently_and_one_session_in_turn(sandbox):
    one, two = new_session(), new_session()
    for session in (one, two):
        sandbox.execute(session, "import time", [])

    def run_both(first, second):
        threads = [threading.Thread(target=sandbox.execute, args=(s, "time.sleep(0.6)", [])) for s in (first, second)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - started

    assert run_both(one, two) < 1.1
    assert run_both(one, one) >= 1.2


def test_idle_sessions_expire(make_sandbox):
    sandbox = make_sandbox("none", idle_seconds=0.2)
    session = new_session()
    sandbox.execute(session, "remembered = 1\nopen('/mnt/data/f.txt', 'w').write('x')", [])
    time.sleep(0.5)
    sandbox.reap_idle()
    result = sandbox.execute(session, "import os\nprint(os.path.exists('/mnt/data/f.txt'))\nremembered", [])
    assert result.logs == "False\n" and "NameError" in result.error


def test_ending_a_session_removes_its_files_and_kernel(make_sandbox):
    sandbox = make_sandbox("none")
    session = new_session()
    sandbox.execute(session, "open('/mnt/data/f.txt', 'w').write('x')", [])
    assert sandbox.session_rss_bytes(session) > 0 and any(sandbox.root.iterdir())
    sandbox.end_session(session)
    assert sandbox.session_rss_bytes(session) == 0 and not any(sandbox.root.iterdir())


def test_disk_usage_counts_allocated_blocks_in_the_whole_tree(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.bin").write_bytes(b"x" * 100_000)
    with open(tmp_path / "sparse.bin", "wb") as sparse:
        sparse.truncate(1 << 30)  # 1 GiB long, nothing written: takes no disk
    used = disk_usage(tmp_path)
    assert 100_000 <= used < 200_000
