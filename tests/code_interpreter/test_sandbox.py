"""The interface module (sandbox.py): choosing the sandbox and its limits from settings."""

from __future__ import annotations

import pytest

from tools.code_interpreter import configured as sandbox_module
from tools.code_interpreter import sandbox_from_settings
from tools.code_interpreter.aca import AcaSandbox
from tools.code_interpreter.local import LocalSandbox


@pytest.fixture()
def fresh_shared(monkeypatch):
    monkeypatch.setattr(sandbox_module, "_shared", {})
    yield
    for made in sandbox_module._shared.values():
        made.close()


def test_sandbox_from_settings_is_one_local_sandbox_by_default(monkeypatch, fresh_shared):
    monkeypatch.delenv("CODE_INTERPRETER_SANDBOX", raising=False)
    monkeypatch.setenv("CODE_INTERPRETER_TIMEOUT_SECONDS", "7")
    monkeypatch.setenv("CODE_INTERPRETER_MEMORY_MB", "512")
    monkeypatch.setenv("CODE_INTERPRETER_MAX_PROCESSES", "32")
    first = sandbox_from_settings()
    assert isinstance(first, LocalSandbox) and sandbox_from_settings() is first
    assert (first.timeout_seconds, first.memory_mb, first.idle_seconds) == (7.0, 512, 3600.0)
    assert (first.limits.cpu_seconds, first.limits.max_processes, first.limits.disk_mb) == (900, 32, 2048)


@pytest.mark.parametrize("allowed, expected", [(None, "refused"), ("false", "refused"), ("true", "none")])
def test_unisolated_execution_needs_the_operators_explicit_yes(monkeypatch, fresh_shared, tmp_path, allowed,
                                                                expected):
    fake = tmp_path / "bwrap"  # where user namespaces are off
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    monkeypatch.delenv("CODE_INTERPRETER_SANDBOX", raising=False)
    if allowed is None:
        monkeypatch.delenv("CODE_INTERPRETER_ALLOW_UNISOLATED", raising=False)
    else:
        monkeypatch.setenv("CODE_INTERPRETER_ALLOW_UNISOLATED", allowed)
    assert sandbox_from_settings().isolation.mode == expected


def test_sandbox_from_settings_aca_needs_an_endpoint(monkeypatch, fresh_shared):
    monkeypatch.setenv("CODE_INTERPRETER_SANDBOX", "aca")
    monkeypatch.delenv("ACA_SESSION_POOL_ENDPOINT", raising=False)
    with pytest.raises(ValueError, match="ACA_SESSION_POOL_ENDPOINT"):
        sandbox_from_settings()
    monkeypatch.setenv("ACA_SESSION_POOL_ENDPOINT", "https://pool.example/")
    made = sandbox_from_settings()
    assert isinstance(made, AcaSandbox) and made.endpoint == "https://pool.example"


def test_an_unknown_sandbox_kind_is_refused(monkeypatch, fresh_shared):
    monkeypatch.setenv("CODE_INTERPRETER_SANDBOX", "docker")
    with pytest.raises(ValueError, match="'local' or 'aca'"):
        sandbox_from_settings()
