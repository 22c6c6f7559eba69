"""The first process of a session's sandbox: it holds the sandbox (and with it the session's disk)
while kernels come and go.

Run as a script under bubblewrap as the sandbox's pid 1 (never imported by the app; standard
library only). The session's files live in a size-limited tmpfs of the sandbox's own, which exists
as long as this process does, so a kernel killed for a timeout or a crash is replaced without losing
/mnt/data. As pid 1 it is also the one process the code cannot signal, and the one a kernel's
`kill(-1)` spares.

It speaks one JSON message per datagram on the SEQPACKET socket whose descriptor is its argument:

    host → launcher   {"start": argv, "env": {...}}  + 3 descriptors (the kernel's stdin, stdout, stderr)
                      {"stop": true}                 every process but this one is killed
                      {"status": pid}                has that kernel ended?
    launcher → host   {"ready": true}                once, when the sandbox is in place
                      {"pid": n} | {"stopped": true} | {"exit": exit code, negative for a signal, or null}

The socket closing (the host gone or done with the session) ends it, and the sandbox with it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys

REAP_SECONDS = 0.2
MAX_MESSAGE_BYTES = 1 << 20
KEPT_STATUSES = 64  # exit codes remembered for `status`, newest first


def _reap(statuses: dict[int, int]) -> None:
    """Collect every ended child (orphans of the code's processes become ours, as pid 1's)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        statuses[pid] = os.waitstatus_to_exitcode(status)
        while len(statuses) > KEPT_STATUSES:
            del statuses[next(iter(statuses))]


def _stop_everything(statuses: dict[int, int]) -> None:
    """SIGKILL every other process of the sandbox (from pid 1, kill(-1) reaches them all), then reap."""
    for _ in range(3):  # again, for a process forked while the signal went out
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            break
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            statuses[pid] = os.waitstatus_to_exitcode(status)


def _start(request: dict, fds: list[int]) -> int:
    argv, env = request["start"], request["env"]
    actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds[:3])]
    try:
        return os.posix_spawn(argv[0], argv, env, file_actions=actions)
    finally:
        for fd in fds:
            os.close(fd)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    control.set_inheritable(False)
    statuses: dict[int, int] = {}
    control.send(b'{"ready": true}')
    while True:
        readable, _, _ = select.select([control], [], [], REAP_SECONDS)
        _reap(statuses)
        if not readable:
            continue
        try:
            message, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE_BYTES, 3)
        except OSError:
            return
        if not message:
            return  # the host is done with this session
        for fd in fds:
            os.set_inheritable(fd, False)
        request = json.loads(message)
        if "start" in request:
            reply: dict = {"pid": _start(request, fds)}
        elif "stop" in request:
            _stop_everything(statuses)
            reply = {"stopped": True}
        else:
            _reap(statuses)
            reply = {"exit": statuses.get(request.get("status"))}
        control.send(json.dumps(reply).encode("utf-8"))


if __name__ == "__main__":
    main()
