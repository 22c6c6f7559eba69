"""Start a private Azurite for a test session, on ports the OS picks.

Each test session gets its own in-memory Azurite, so suites never collide with
each other or with a `make run` that is already listening on 10000-10002.
"""

from __future__ import annotations

import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from core.storage_connection import azurite_connection_string

ROOT = Path(__file__).resolve().parents[2]
AZURITE = ROOT / "node_modules" / ".bin" / "azurite"
_LISTENING = re.compile(r"Azurite (Blob|Queue|Table) service is successfully listening at http://127\.0\.0\.1:(\d+)")


@dataclass
class Azurite:
    process: subprocess.Popen
    ports: dict[str, int]

    @property
    def connection_string(self) -> str:
        return azurite_connection_string(self.ports["Blob"], self.ports["Queue"], self.ports["Table"])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_azurite(timeout: float = 60.0) -> Azurite:
    if not AZURITE.exists():
        raise RuntimeError("Azurite is not installed: run `make install` (npm install)")
    process = subprocess.Popen(
        [str(AZURITE), "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck",
         "--disableProductStyleUrl", "--loose",
         "--blobPort", "0", "--queuePort", "0", "--tablePort", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    ports: dict[str, int] = {}
    ready = threading.Event()

    def read_output() -> None:
        for line in process.stdout:  # keeps draining so Azurite never blocks on a full pipe
            match = _LISTENING.search(line)
            if match:
                ports[match.group(1)] = int(match.group(2))
                if len(ports) == 3:
                    ready.set()
        ready.set()

    threading.Thread(target=read_output, daemon=True).start()
    if not ready.wait(timeout) or len(ports) != 3:
        process.kill()
        raise RuntimeError(f"Azurite did not start (ports seen: {ports})")
    return Azurite(process, ports)
