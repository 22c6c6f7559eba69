"""Where one response's time goes: every storage request devhost makes while answering it, on one clock.

`python -m bench._storage_timeline [create|background|stream]` (not run by `make bench`: a diagnostic, not
a figure). devhost runs with a `sitecustomize` that times each request the storage SDKs send (blobs through
`requests`, tables through core.table_transport) and notes the project frame that made it; the scripted model, in this process, notes when the request came
and when each piece left. Printed: milliseconds since the call began, duration, thread, request, caller.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import scripted_model
from tests.conftest import devhost_env, sdk_client
from tests.support import keys
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import ROOT, DevhostProcess

SITECUSTOMIZE = '''
import os, threading, time, traceback
import requests
_log = open(os.environ["STORAGE_TIMELINE_LOG"], "a", buffering=1)
_root = os.environ["STORAGE_TIMELINE_ROOT"] + "/"

def _timed(send):
    def timed(self, request, **options):
        started = time.time()
        try:
            return send(self, request, **options)
        finally:
            _note(started, request)
    return timed

def _note(started, request):
    took = (time.time() - started) * 1000
    frames = [f"{frame.filename[len(_root):]}:{frame.lineno}:{frame.name}" for frame in traceback.extract_stack()
              if frame.filename.startswith(_root) and "/.venv/" not in frame.filename][-3:]
    path = request.url.split("?")[0].split("/", 3)[-1][:60]
    _log.write(f"{started:.4f} {took:6.1f}ms {threading.current_thread().name[:14]:14} {request.method:6} "
               f"{path} | {' < '.join(reversed(frames))}\\n")

requests.Session.send = _timed(requests.Session.send)
from core import table_transport
table_transport.TableTransport.send = _timed(table_transport.TableTransport.send)
'''
MODEL_LATENCY_MS = 500


def _note(log: Path, at: float, text: str) -> None:
    with log.open("a", encoding="utf-8") as stream:
        stream.write(f"{at:.4f}    ... {text}\n")


def _watch_model(scripted, log: Path) -> None:
    take, note_sent = scripted.script.take, scripted.script.note_sent

    def taken(body: dict) -> dict:
        _note(log, time.time(), "MODEL request arrives")
        return take(body)

    def sent(completion_id: str, piece: str, at: float) -> None:
        _note(log, at, f"MODEL sends {piece!r}")
        note_sent(completion_id, piece, at)

    scripted.script.take, scripted.script.note_sent = taken, sent


def _exercise(client, mode: str) -> None:
    if mode == "create":
        client.responses.create(model="scripted-model", input="measured")
    elif mode == "stream":
        for event in client.responses.create(model="scripted-model", input="measured", stream=True):
            if event.type == "response.output_text.delta":
                print(f"first delta after {(time.time() - START[0]) * 1000:.1f} ms")
    else:
        response = client.responses.create(model="scripted-model", input="measured", background=True)
        while response.status in ("queued", "in_progress"):
            time.sleep(0.25)
            response = client.responses.retrieve(response.id)


START = [0.0]


def main(mode: str = "create") -> None:
    workdir = Path(tempfile.mkdtemp(prefix="storage-timeline-"))
    (workdir / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = workdir / "storage.log"
    log.touch()
    azurite, scripted = start_azurite(), scripted_model.start_in_thread()
    host = DevhostProcess(ROOT, devhost_env(azurite, scripted, STORAGE_TIMELINE_LOG=str(log),
                                            STORAGE_TIMELINE_ROOT=str(ROOT)), workdir / "devhost.log")
    host.env["PYTHONPATH"] = f"{workdir}:{ROOT}"
    try:
        host.start()
        scripted.client.set_default(latency_ms=MODEL_LATENCY_MS)
        keys.bind(azurite.connection_string)
        client = sdk_client(host.base_url)
        for _ in range(3):  # warm up: connections, tables, imports
            client.responses.create(model="scripted-model", input="warm-up")
        _watch_model(scripted, log)
        START[0] = time.time()
        _note(log, START[0], f"===== {mode} begins")
        _exercise(client, mode)
        _note(log, time.time(), f"===== {mode} answered")
        time.sleep(0.3)  # the writes that follow the answer
    finally:
        host.stop()
        scripted.stop()
        azurite.stop()
    lines = log.read_text(encoding="utf-8").splitlines()
    begun = next(index for index, line in enumerate(lines) if "===== " in line)
    for line in sorted(lines[begun:], key=lambda line: float(line.split(" ", 1)[0])):
        at, rest = line.split(" ", 1)
        print(f"{(float(at) - START[0]) * 1000:7.1f} {rest}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
