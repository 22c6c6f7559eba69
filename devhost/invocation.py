"""Calling user functions as the worker does, and the one-line log per invocation."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

logger = logging.getLogger("devhost")


@dataclass
class InvocationContext:
    """The `context` parameter a function may declare (azure.functions.Context's surface)."""

    function_name: str
    invocation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_directory: str = ""
    thread_local_storage: threading.local = field(default_factory=threading.local)
    trace_context: object = None
    retry_context: object = None


def make_context(function_name: str) -> InvocationContext:
    return InvocationContext(function_name=function_name)


def log_invocation(function_name: str, invocation_id: str, started: float, outcome: str) -> None:
    """Like `func start`: Executed 'Functions.name' (Succeeded, Id=..., Duration=12ms)."""
    duration_ms = (time.perf_counter() - started) * 1000
    logger.info("Executed 'Functions.%s' (%s, Id=%s, Duration=%dms)",
                function_name, outcome, invocation_id, duration_ms)
