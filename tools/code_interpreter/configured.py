"""The process-wide sandbox the settings name: the one place that chooses an implementation (so the
contract in sandbox.py and the implementations that follow it import each other in one direction)."""

from __future__ import annotations

import atexit
import threading

from core import settings
from tools.code_interpreter.sandbox import Sandbox

_shared: dict[str, Sandbox] = {}
_shared_lock = threading.Lock()


def sandbox_from_settings() -> Sandbox:
    """The process-wide sandbox that CODE_INTERPRETER_SANDBOX names ("local" | "aca").

    Created on first use and kept: a session's kernel and files live in it between tool calls.
    Limits come from the CODE_INTERPRETER_* settings (`Limits.from_settings`); the local
    sandbox runs unisolated only if CODE_INTERPRETER_ALLOW_UNISOLATED says so.
    """
    kind = (settings.get("CODE_INTERPRETER_SANDBOX") or "local").strip().lower()
    with _shared_lock:
        sandbox = _shared.get(kind)
        if sandbox is None:
            if kind == "local":
                from tools.code_interpreter.local import LocalSandbox

                sandbox = LocalSandbox(allow_unisolated=settings.get_bool("CODE_INTERPRETER_ALLOW_UNISOLATED"))
            elif kind == "aca":
                from tools.code_interpreter.aca import AcaSandbox

                endpoint = settings.get("ACA_SESSION_POOL_ENDPOINT")
                if not endpoint:
                    raise ValueError("CODE_INTERPRETER_SANDBOX is 'aca' but ACA_SESSION_POOL_ENDPOINT is not set")
                sandbox = AcaSandbox(endpoint)
            else:
                raise ValueError(f"CODE_INTERPRETER_SANDBOX must be 'local' or 'aca', not {kind!r}")
            _shared[kind] = sandbox
            atexit.register(sandbox.close)
        return sandbox
