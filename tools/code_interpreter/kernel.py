"""The Python kernel that runs inside the sandbox: one process per session, cells in, results out.

Run as a script by `local.py` (never imported by the app): it must stand alone, using only the
standard library and IPython (requirements-sandbox.txt), which runs the cells as the Jupyter kernel
of Azure's sessions pool does. It speaks length-prefixed JSON on the stdin/stdout it was started with — a 4-byte big-endian length, then that many bytes of UTF-8
JSON — and moves the user's stdin, stdout and stderr elsewhere first, so nothing the code prints
(from Python or from C) can corrupt the protocol.

    host → kernel   {"code": "..."}
    kernel → host   {"ready": true}                                    once, at start-up
                    {"logs": str, "error": str | null, "images": [base64 PNG, ...]}   per cell

A cell runs as a notebook cell does, in IPython: one persistent namespace, the value of a final
expression shown (unless the cell ends in `;`), `display()`, `!` shell lines and magics. Text
output goes to the logs and PNG output (`display(Image(...))`) to the images. stdout and stderr
share one pipe, so they interleave as produced; a drain thread keeps the head and the tail of it,
so an endless print loop costs bounded memory. matplotlib figures are rendered to PNG at
`plt.show()` and at the end of the cell. Errors are shown as Python shows them, with the cell's
own lines (`File "<cell 3>"`), never IPython's or this kernel's frames.
"""

from __future__ import annotations

import argparse
import base64
import errno
import io
import json
import os
import struct
import sys
import threading
import traceback
from collections import deque

from kernel_display import MAX_IMAGES, Figures, cell_shell  # beside this file: sys.path[0] until main()

KERNEL_FILE = os.path.abspath(__file__)
_SENTINEL = b"\x00\x1e__cell_output_end__\x1e\x00"


def _read_exact(fd: int, count: int) -> bytes | None:
    chunks = []
    while count:
        chunk = os.read(fd, count)
        if not chunk:
            return None
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def _send(fd: int, message: dict) -> None:
    data = json.dumps(message).encode("utf-8")
    payload = struct.pack(">I", len(data)) + data
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class OutputCapture:
    """Everything written to fds 1 and 2, in order, bounded: the first `head` and last `tail` chars."""

    def __init__(self, max_chars: int):
        self.max_chars = max_chars
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._read_fd = read_fd
        self._lock = threading.Lock()
        self._cell_done = threading.Event()
        self._reset()
        threading.Thread(target=self._drain, name="output-drain", daemon=True).start()
        for fd, name in ((1, "stdout"), (2, "stderr")):
            setattr(sys, name, io.TextIOWrapper(io.BufferedWriter(io.FileIO(fd, "w", closefd=False)), encoding="utf-8",
                                                errors="backslashreplace", line_buffering=True))

    def _reset(self) -> None:
        self._head = bytearray()
        self._tail: deque[bytes] = deque()
        self._tail_len = 0
        self._total = 0

    def _drain(self) -> None:
        pending = b""
        while True:
            chunk = os.read(self._read_fd, 65536)
            if not chunk:
                return
            pending += chunk
            while True:
                at = pending.find(_SENTINEL)
                if at < 0:
                    break
                self._keep(pending[:at])
                pending = pending[at + len(_SENTINEL):]
                self._cell_done.set()
            # keep a sentinel-sized suffix back in case the marker is split across reads
            if len(pending) > len(_SENTINEL):
                self._keep(pending[: -len(_SENTINEL)])
                pending = pending[-len(_SENTINEL):]

    def _keep(self, data: bytes) -> None:
        if not data:
            return
        # Budget in bytes, 4 per char at worst; the text is cut to max_chars when collected.
        budget = self.max_chars * 4
        with self._lock:
            self._total += len(data)
            room = budget // 2 - len(self._head)
            if room > 0:
                self._head += data[:room]
                data = data[room:]
            if data:
                self._tail.append(data)
                self._tail_len += len(data)
                while self._tail and self._tail_len - len(self._tail[0]) >= budget // 2:
                    self._tail_len -= len(self._tail.popleft())

    def collect(self) -> str:
        """The cell's output so far (waits until everything written before this call is drained)."""
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            if stream is None:
                continue
            try:
                stream.flush()
            except Exception:
                pass
        self._cell_done.clear()
        os.write(1, _SENTINEL)
        self._cell_done.wait()
        with self._lock:
            head = bytes(self._head)
            tail = b"".join(self._tail)
            total = self._total
            self._reset()
        kept = len(head) + len(tail)
        text = (head + tail).decode("utf-8", "replace") if kept == total else None
        if text is not None and len(text) <= self.max_chars:
            return text
        head_text = head.decode("utf-8", "replace")[: self.max_chars * 3 // 4]
        tail_text = tail.decode("utf-8", "replace")[-(self.max_chars - len(head_text)):]
        if text is not None:  # everything was kept but it is too long as text
            tail_text = text[-(self.max_chars - len(head_text)):]
        return (
            f"{head_text}\n[... output truncated: {total:,} bytes in all; showing the first "
            f"{len(head_text):,} and last {len(tail_text):,} characters ...]\n{tail_text}"
        )


class Kernel:
    def __init__(self, data_dir: str, max_log_chars: int, memory_mb: int, max_file_mb: int, disk_mb: int,
                 end_children: bool):
        self.data_dir = data_dir
        self.disk_mb = disk_mb
        self.end_children = end_children
        self.memory_mb = memory_mb
        self.max_file_mb = max_file_mb
        self.output = OutputCapture(max_log_chars)
        self.figures = Figures()
        self.shell = cell_shell(self.figures)

    def _code_for(self, code: str) -> str:
        # Outside bubblewrap there is no /mnt/data: the session's directory stands in for it.
        if self.data_dir != "/mnt/data":
            code = code.replace("/mnt/data", self.data_dir)
        return code

    def _unmap(self, text: str) -> str:
        return text.replace(self.data_dir, "/mnt/data") if self.data_dir != "/mnt/data" else text

    def run_cell(self, code: str) -> dict:
        error = None
        try:
            result = self.shell.run_cell(self._code_for(code), store_history=True)
            failure = result.error_before_exec or result.error_in_exec
            if failure is not None:
                error = self._format(failure)
        except BaseException as exc:  # raised past IPython itself (it catches the user's exceptions)
            error = self._format(exc)
        try:
            self.figures.capture()
        except Exception as exc:
            error = (error + "\n" if error else "") + "rendering figures failed: " + self._format(exc)
        if self.end_children:
            _end_other_processes()
        logs = self.output.collect()
        if self.figures.dropped:
            logs += f"\n[{self.figures.dropped} more figure(s) not returned: at most {MAX_IMAGES} per call]"
            self.figures.dropped = 0
        return {
            "logs": self._unmap(logs),
            "error": self._unmap(error) if error else None,
            "images": [base64.b64encode(png).decode("ascii") for png in self.figures.take()],
        }

    def _format(self, exc: BaseException) -> str:
        tb = exc.__traceback__
        # from the cell's first frame on: IPython's and this kernel's frames are nobody's business
        frame = tb
        while frame is not None and not frame.tb_frame.f_code.co_filename.startswith("<cell "):
            frame = frame.tb_next
        text = "".join(traceback.format_exception(type(exc), exc, frame)).rstrip()
        if isinstance(exc, MemoryError):
            text += f"\n(the sandbox's memory limit is {self.memory_mb} MB)"
        elif isinstance(exc, OSError) and exc.errno == errno.EFBIG:
            text += f"\n(the sandbox's limit is {self.max_file_mb} MB per file)"
        elif isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            text += (f"\n(the session's files — /mnt/data, /tmp and /dev/shm together — may take {self.disk_mb} MB; "
                     "delete files to make room)")
        return text


def _end_other_processes() -> None:
    """No process the cell started outlives it. Only in a pid namespace of the session's own
    (bubblewrap), where kill(-1) reaches exactly the session's processes but its init and us."""
    import signal

    for _ in range(3):  # again, for a child forked while the first signal went out
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:  # no other process
            return
        try:
            while True:
                os.waitpid(-1, 0)  # reap our own children; orphans are init's
        except ChildProcessError:
            pass


def _set_limits(memory_mb: int, cpu_seconds: int, max_file_mb: int, max_processes: int) -> None:
    """Limits on this process and all it starts, before any user code (which cannot raise them).

    RLIMIT_NPROC counts the user's processes and threads; only where the session has a user
    namespace of its own (bubblewrap) is that count the session's, so the host passes 0 otherwise.
    """
    import resource

    limits = [(resource.RLIMIT_AS, memory_mb * 1024 * 1024, 0), (resource.RLIMIT_FSIZE, max_file_mb * 1024 * 1024, 0),
              # SIGXCPU at the soft limit says why; SIGKILL at the hard one, should the code ignore it
              (resource.RLIMIT_CPU, cpu_seconds, 5)]
    if max_processes > 0:
        limits.append((resource.RLIMIT_NPROC, max_processes, 0))
    for which, value, grace in limits:
        resource.setrlimit(which, (value, value + grace))
    # The lowest CPU priority, for the kernel and all it starts: under contention the service (and
    # its watch over this session's limits) runs first, and a fork bomb cannot starve it.
    os.nice(19)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--max-log-chars", type=int, default=20_000)
    parser.add_argument("--memory-mb", type=int, default=1024)
    parser.add_argument("--cpu-seconds", type=int, default=900)
    parser.add_argument("--max-file-mb", type=int, default=2048)
    parser.add_argument("--disk-mb", type=int, default=2048)
    parser.add_argument("--max-processes", type=int, default=0)
    parser.add_argument("--end-children", action="store_true",
                        help="kill every other process in the (namespaced) session after each cell")
    args = parser.parse_args()

    # Keep private copies of the protocol pipes, then give the user's code /dev/null for stdin.
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    for fd in (proto_in, proto_out):
        os.set_inheritable(fd, False)
    sys.stdin = open(0, closefd=False)
    sys.argv = [""]
    if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(KERNEL_FILE):
        sys.path.pop(0)  # the kernel's own directory is not the user's business
    sys.path.insert(0, args.data_dir)  # as `python` in that directory would: import a module saved there
    os.chdir(args.data_dir)
    _set_limits(args.memory_mb, args.cpu_seconds, args.max_file_mb, args.max_processes)
    kernel = Kernel(args.data_dir, args.max_log_chars, args.memory_mb, args.max_file_mb, args.disk_mb,
                    args.end_children)
    _send(proto_out, {"ready": True, "python": sys.version.split()[0], "pid": os.getpid()})
    while True:
        header = _read_exact(proto_in, 4)
        if header is None:
            return
        body = _read_exact(proto_in, struct.unpack(">I", header)[0])
        if body is None:
            return
        request = json.loads(body)
        _send(proto_out, kernel.run_cell(request.get("code", "")))


if __name__ == "__main__":
    main()
