"""Clear errors and going on: wrong key, unreachable endpoint, throttling, a file the source will not serve."""

from __future__ import annotations

import re

import pytest

from tests.migrate.test_copy import copy_args, run
from tests.support.devhost_proc import free_port
from tests.support.fault_proxy import FaultProxy, error_body

pytestmark = pytest.mark.usefixtures("keys")


@pytest.fixture
def proxy(source):
    instance = FaultProxy(source.host.root_url)
    instance.base_url = f"{instance.root_url}/v1"
    yield instance
    instance.stop()


def test_wrong_key_and_unreachable_endpoint_stop_with_a_clear_error(source, target, thread_file, tmp_path, capsys,
                                                                    monkeypatch):
    monkeypatch.setenv("MIGRATE_SOURCE_KEY", "sk-wrong-secret-value")  # the source's own key check refuses it
    code, _ = run(tmp_path, *copy_args(source, target, thread_file, tmp_path))
    err = capsys.readouterr().err
    assert code == 2 and "rejected the key (401)" in err and "source" in err
    assert "sk-wrong-secret-value" not in err
    monkeypatch.setenv("MIGRATE_SOURCE_KEY", source.key)
    closed = f"http://127.0.0.1:{free_port()}/v1"
    code, _ = run(tmp_path, "copy", "--source-base-url", source.base_url, "--target-base-url", closed,
                  "--threads", str(thread_file), "--mapping", str(tmp_path / "m.jsonl"))
    assert code == 2 and f"cannot reach the target at {closed}" in capsys.readouterr().err
    monkeypatch.delenv("MIGRATE_TARGET_KEY")
    assert run(tmp_path, *copy_args(source, target, thread_file, tmp_path))[0] == 2
    assert "MIGRATE_TARGET_KEY" in capsys.readouterr().err


def test_throttled_source_is_waited_for_and_the_copy_completes(source, target, thread_file, tmp_path, proxy):
    seen = {"n": 0}

    def every_third(method, path):
        seen["n"] += 1
        return (429, {"Retry-After": "0.2"}, error_body(429, "Rate limit reached.")) if seen["n"] % 3 == 0 else None

    proxy.fault = every_third
    code, report = run(tmp_path, *copy_args(proxy, target, thread_file, tmp_path, "--no-verify"))
    assert code == 0, report
    assert report["throttled_responses"] > 0
    assert report["counts"]["message"]["copied"] == source.data.messages
    assert any(status == 429 for _, _, status in proxy.requests)


def test_a_file_the_source_will_not_serve_is_reported_and_the_rest_goes_on(source, target, thread_file, tmp_path,
                                                                           proxy):
    image = source.data.file_ids[0]
    proxy.fault = lambda method, path: (
        (403, {}, error_body(403, "Not allowed to download files of purpose: vision."))
        if re.search(rf"/files/{image}/content", path) else None)
    code, report = run(tmp_path, *copy_args(proxy, target, thread_file, tmp_path, "--no-verify"))
    assert code == 1
    assert [(f["kind"], f["id"]) for f in report["failures"]] == [("file", image)]
    assert "will not serve" in report["failures"][0]["reason"]
    assert report["counts"]["file"]["copied"] == 2
    assert report["counts"]["message"]["copied"] == source.data.messages  # the image part dropped, with a warning
    assert any(image in w["warning"] for w in report["warnings"])


def test_a_mapping_file_from_another_migration_is_refused(source, target, thread_file, tmp_path, proxy, capsys):
    assert run(tmp_path, *copy_args(source, target, thread_file, tmp_path, "--dry-run"))[0] == 0
    assert run(tmp_path, *copy_args(source, target, thread_file, tmp_path))[0] == 0
    code, _ = run(tmp_path, *copy_args(proxy, target, thread_file, tmp_path))
    assert code == 2 and "records a migration" in capsys.readouterr().err
