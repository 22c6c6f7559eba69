"""The interface module: name sanitising and choosing the sandbox from settings."""

from __future__ import annotations

import pytest

from tools.code_interpreter import sandbox as sandbox_module
from tools.code_interpreter import safe_name, sandbox_from_settings
from tools.code_interpreter.aca import AcaSandbox
from tools.code_interpreter.local import LocalSandbox


@pytest.mark.parametrize("name, expected", [
    ("report.csv", "report.csv"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\data.xlsx", "data.xlsx"),
    ("dir/", "file"),
    ("...", "file"),
    (".hidden", ".hidden"),
    ("a:b*c?.txt", "a_b_c_.txt"),
    ("tab\there.txt", "tabhere.txt"),
    ("données é.csv", "données é.csv"),
])
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def test_safe_name_keeps_long_names_within_255_bytes_and_their_extension():
    name = safe_name("é" * 300 + ".csv")
    assert len(name.encode()) <= 255 and name.endswith(".csv")


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
    first = sandbox_from_settings()
    assert isinstance(first, LocalSandbox) and sandbox_from_settings() is first
    assert (first.timeout_seconds, first.memory_mb, first.idle_seconds) == (7.0, 512, 3600.0)


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


def test_bwrap_that_cannot_create_namespaces_means_no_isolation(tmp_path, monkeypatch):
    from tools.code_interpreter.local import bwrap_mode

    fake = tmp_path / "bwrap"  # what bwrap says where user namespaces are off
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert bwrap_mode.__wrapped__() is None
    monkeypatch.setenv("PATH", "/nonexistent")
    assert bwrap_mode.__wrapped__() is None
