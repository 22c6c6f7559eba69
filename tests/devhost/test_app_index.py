"""devhost indexes apps as the Python worker does, and refuses what the worker refuses."""

import json
import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from core.settings import load_local_file
from devhost.app_index import AppIndexError, HostConfig, load_function_app
from tests.support.devhost_proc import ROOT


def write_app(tmp_path, body: str) -> str:
    module = f"app_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(body))
    return module


INDEX_PRODUCT_APP = """
import json
from devhost.app_index import HostConfig, load_function_app
from tests.support.devhost_proc import ROOT
config = HostConfig.load(ROOT)
index = load_function_app(ROOT)
print(json.dumps({
    "prefix": config.route_prefix, "hub": config.hub_name,
    "orchestrator": index.orchestrator("run_orchestrator") is not None,
    "runs_route": index.match_http("POST", "v1/threads/thread_x/runs")[0].name,
    "azure_runs_route": index.match_http("POST", "openai/threads/thread_x/runs")[0].name,
    "unknown_route": index.match_http("POST", "v1/threads/thread_x/nothing")[0].name,
    "functions": [{"name": f.name, "trigger": f.trigger_type, "bindings": f.bindings, "is_async": f.is_async,
                   "methods": sorted(f.methods or []), "client": f.durable_client_param}
                  for f in index.functions.values()]}))
"""


def test_product_app_indexes_with_the_bindings_the_host_expects():
    # A fresh interpreter, as the worker has: an app's get_functions() may be called once per process.
    completed = subprocess.run([sys.executable, "-c", INDEX_PRODUCT_APP], cwd=ROOT, capture_output=True, text=True,
                               env={**os.environ, "DURABLE_TASK_HUB": "indexcheck", "PYTHONPATH": str(ROOT)},
                               timeout=60)
    assert completed.returncode == 0, completed.stderr
    index = json.loads(completed.stdout.strip().splitlines()[-1])
    assert index["prefix"] == "" and index["hub"] == "indexcheck"
    assert index["orchestrator"] and index["runs_route"] == "runs_create"
    assert index["azure_runs_route"] == "runs_create_azure" and index["unknown_route"] == "unknown_route"
    for function in index["functions"]:
        directions = {b["type"]: b["direction"] for b in function["bindings"]}
        assert directions[function["trigger"]] == "IN"
        if function["trigger"] == "httpTrigger":
            assert directions.get("http") == "OUT", function["name"]
            assert all(b.get("authLevel", "anonymous") == "anonymous"
                       for b in function["bindings"] if b["type"] == "httpTrigger")
            assert function["methods"], f"{function['name']} should name its methods"
        if function["client"]:
            assert function["is_async"], f"{function['name']} uses the async durable client"


def test_app_with_two_function_apps_is_refused(tmp_path):
    module = write_app(tmp_path, """
        import azure.functions as func
        first = func.FunctionApp()
        second = func.FunctionApp()
    """)
    with pytest.raises(AppIndexError, match="exactly one"):
        load_function_app(tmp_path, module)


def test_duplicate_routes_are_refused(tmp_path):
    module = write_app(tmp_path, """
        import azure.functions as func
        app = func.FunctionApp()

        @app.route(route="same", methods=["GET"])
        def one(req): return "1"

        @app.route(route="same", methods=["GET"])
        def two(req): return "2"
    """)
    with pytest.raises(AppIndexError, match="both serve GET same"):
        load_function_app(tmp_path, module)


def test_unsupported_trigger_is_refused_rather_than_ignored(tmp_path):
    module = write_app(tmp_path, """
        import azure.functions as func
        app = func.FunctionApp()

        @app.queue_trigger(arg_name="msg", queue_name="work", connection="AzureWebJobsStorage")
        def work(msg): pass
    """)
    with pytest.raises(AppIndexError, match="queueTrigger"):
        load_function_app(tmp_path, module)


def test_import_error_is_an_indexing_error(tmp_path):
    module = write_app(tmp_path, "import module_that_does_not_exist\n")
    with pytest.raises(AppIndexError, match="module_that_does_not_exist"):
        load_function_app(tmp_path, module)


def test_host_json_setting_reference_must_resolve(tmp_path, monkeypatch):
    monkeypatch.delenv("MISSING_HUB_SETTING", raising=False)
    (tmp_path / "host.json").write_text(json.dumps(
        {"version": "2.0", "extensions": {"durableTask": {"hubName": "%MISSING_HUB_SETTING%"}}}))
    with pytest.raises(AppIndexError, match="MISSING_HUB_SETTING"):
        HostConfig.load(tmp_path)


OVERRIDE = "AzureFunctionsJobHost__extensions__durableTask__maxConcurrentActivityFunctions"


@pytest.mark.parametrize("in_host_json, in_environment, expected", [
    (None, None, 64), (4, None, 4), (4, "2", 2), (None, "1", 1), ("7", None, 7),
    (0, None, "0"), (None, "-3", "-3"), (None, "many", "many"), (2.5, None, "2.5")])
def test_max_concurrent_activities_from_host_json_or_its_app_setting_override(
        tmp_path, monkeypatch, in_host_json, in_environment, expected):
    durable = {} if in_host_json is None else {"maxConcurrentActivityFunctions": in_host_json}
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"durableTask": durable}}))
    if in_environment is None:
        monkeypatch.delenv(OVERRIDE, raising=False)
    else:
        monkeypatch.setenv(OVERRIDE, in_environment)
    if isinstance(expected, int):
        assert HostConfig.load(tmp_path).max_concurrent_activities == expected
    else:
        with pytest.raises(AppIndexError, match=f"positive whole number, not '?{expected}"):
            HostConfig.load(tmp_path)


def test_local_settings_fill_the_environment_but_the_process_environment_wins(tmp_path):
    (tmp_path / "local.settings.sample.json").write_text(json.dumps(
        {"IsEncrypted": False, "Values": {"FROM_FILE": "file", "BOTH": "file"}}))
    environ = {"BOTH": "process"}
    applied = load_local_file(tmp_path, environ)
    assert (tmp_path / "local.settings.json").exists()  # created from the sample
    assert environ == {"FROM_FILE": "file", "BOTH": "process"}
    assert applied == {"FROM_FILE": "file"}


def test_http_streams_must_cover_every_http_function(tmp_path):
    module = write_app(tmp_path, """
        import azure.functions as func
        from azurefunctions.extensions.http.fastapi import Request, Response
        app = func.FunctionApp()

        @app.route(route="streamed", methods=["POST"])
        async def streamed(req: Request) -> Response:
            return Response(b"")

        @app.route(route="classic", methods=["GET"])
        def classic(req: func.HttpRequest) -> func.HttpResponse:
            return func.HttpResponse("")
    """)
    with pytest.raises(AppIndexError, match="HTTP streams"):
        load_function_app(tmp_path, module)
