"""What the HTTP handlers share: the process-wide repositories (core.repositories.shared), the clock,
and checks on referenced files."""

from __future__ import annotations

import time

from core.references import require_files
from core.repositories.shared import assistants, files, messages, run_requests, runs, threads

__all__ = ["assistants", "files", "messages", "run_requests", "runs", "threads", "now", "require_files"]


def now() -> int:
    return int(time.time())
