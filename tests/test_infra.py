"""Offline checks of infra/ and azure.yaml, since the Bicep compiler cannot run here.

pycep (the Bicep parser checkov itself uses) stands in for `bicep build`: every file must
parse. On the parsed files we check what a compiler would not: that the Function App gets
every setting the code reads in Azure (core.settings, azure == "infra"), that secrets reach
the app only as Key Vault references and never leave a deployment as outputs, and that
checkov finds nothing but the checks skipped, with a reason, in the Bicep itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from pycep import BicepParser

from core.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
FUNCTION_APP = INFRA / "app" / "function.bicep"


@lru_cache(maxsize=None)
def parse(path: Path) -> dict:
    return BicepParser().parse(file_path=path)


def parse_text(text: str) -> dict:
    return BicepParser().parse(text=text)


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# --- structure ---------------------------------------------------------------------


def test_azd_finds_the_template():
    assert (INFRA / "main.bicep").is_file()
    assert (INFRA / "main.parameters.json").is_file()
    assert len(BICEP_FILES) > 1


@pytest.mark.parametrize("path", BICEP_FILES, ids=relative)
def test_bicep_file_parses(path):
    parsed = parse(path)
    assert parsed.get("resources") or parsed.get("modules"), "a Bicep file that declares nothing"


def test_main_is_subscription_scoped_and_creates_the_resource_group():
    main = parse(INFRA / "main.bicep")
    assert main["globals"]["scope"]["value"] == "subscription"
    assert any(r["type"] == "Microsoft.Resources/resourceGroups" for r in main["resources"].values())


def test_modules_exist():
    main = parse(INFRA / "main.bicep")
    for module in main["modules"].values():
        assert (INFRA / module["detail"]["path"]).is_file(), module["detail"]["path"]


def test_parameters_file_matches_main():
    declared = parse(INFRA / "main.bicep")["parameters"]
    supplied = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert set(supplied) <= set(declared), "main.parameters.json sets parameters main.bicep lacks"
    without_default = {name for name, p in declared.items() if p.get("default") is None}
    assert without_default <= set(supplied), "azd would prompt for these on every new environment"


def test_azure_yaml_deploys_the_function_app_and_declares_both_hooks():
    config = yaml.safe_load((ROOT / "azure.yaml").read_text())
    assert config["services"]["api"] == {"project": ".", "language": "python", "host": "function"}
    hook = config["hooks"]["postprovision"]
    for platform, shell in (("posix", "sh"), ("windows", "pwsh")):
        assert hook[platform]["shell"] == shell
        assert (ROOT / hook[platform]["run"]).is_file()



def test_azure_yaml_requires_a_minimum_azd_version():
    required = yaml.safe_load((ROOT / "azure.yaml").read_text())["requiredVersions"]["azd"]
    assert re.fullmatch(r">=\s*\d+\.\d+\.\d+", required), required

# --- settings ----------------------------------------------------------------------


def app_settings() -> dict:
    """The Function App's app settings: the `appSettings` map in function.bicep."""
    return parse(FUNCTION_APP)["variables"]["appSettings"]["value"]


INFRA_SETTINGS = {s.name: s for s in SETTINGS if s.azure == "infra"}


def test_infra_sets_every_setting_the_app_reads_in_azure():
    missing = set(INFRA_SETTINGS) - set(app_settings())
    assert not missing, f"declared azure='infra' in core/settings.py but not set by infra: {sorted(missing)}"


def test_infra_sets_only_settings_the_app_declares():
    undeclared = set(app_settings()) - set(INFRA_SETTINGS)
    assert not undeclared, f"set by infra but not declared azure='infra' in core/settings.py: {sorted(undeclared)}"


def test_secret_settings_are_key_vault_references():
    settings = app_settings()
    for name, setting in INFRA_SETTINGS.items():
        if setting.secret:
            assert str(settings[name]).startswith("@Microsoft.KeyVault("), name


# --- no secrets in outputs ---------------------------------------------------------

SECRET_WORDS = {"key", "keys", "secret", "secrets", "password", "pwd", "token", "sas", "sig", "callback", "credential", "credentials"}
SECRET_CALL = re.compile(r"\blist[A-Z]\w*|\bgetSecret\b")


def name_words(name: str) -> list[str]:
    """camelCase, PascalCase and UPPER_SNAKE names as lower-case words."""
    return [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)]


def secret_outputs(parsed: dict) -> list[str]:
    found = []
    for name, output in parsed.get("outputs", {}).items():
        words = name_words(name)
        pairs = set(zip(words, words[1:]))
        if SECRET_WORDS & set(words) or ("connection", "string") in pairs:
            found.append(f"{name}: named like a secret")
        if SECRET_CALL.search(json.dumps(output["value"])):
            found.append(f"{name}: value comes from a list*()/getSecret() call")
    return found


@pytest.mark.parametrize("path", BICEP_FILES, ids=relative)
def test_outputs_carry_no_secrets(path):
    assert secret_outputs(parse(path)) == []


@pytest.mark.parametrize(
    "declaration",
    [
        "output storageKey string = st.listKeys().keys[0].value",
        "output url string = trigger.listCallbackUrl().value",
        "output APPLICATIONINSIGHTS_CONNECTION_STRING string = appi.properties.ConnectionString",
        "output appPassword string = pwd",
        "output vaultValue string = kv.getSecret('x')",
        "output endpoint string = listKeys(resourceId('Microsoft.Storage/storageAccounts', 'st'), '2023-05-01').key1",
    ],
)
def test_secret_output_check_catches(declaration):
    assert secret_outputs(parse_text(declaration + "\n"))


@pytest.mark.parametrize(
    "declaration",
    [
        "output AZURE_KEYVAULT_NAME string = kv.name",
        "output endpoint string = account.properties.endpoint",
        "output SEND_EMAIL_URL_VAULT_ENTRY string = entryName",
    ],
)
def test_secret_output_check_lets_plain_values_through(declaration):
    assert secret_outputs(parse_text(declaration + "\n")) == []


# --- checkov -----------------------------------------------------------------------

SKIP_COMMENT = re.compile(r"checkov:skip=(CKV\w+):(.*)")


def run_checkov() -> tuple[dict, str]:
    checkov = shutil.which("checkov", path=str(Path(sys.executable).parent)) or shutil.which("checkov")
    assert checkov, "checkov is missing: pip install -r requirements-dev.txt"
    env = {
        **os.environ,
        # Offline: no update check, no policy download; any stray request hits a closed port.
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
        "BC_SKIP_MAPPING": "TRUE",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }
    env.pop("BC_API_KEY", None)
    done = subprocess.run(
        [checkov, "--framework", "bicep", "--skip-download", "-d", str(INFRA), "-o", "json", "--compact"],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
    )
    return json.loads(done.stdout), done.stderr


@pytest.fixture(scope="module")
def checkov_report():
    return run_checkov()


def test_checkov_parses_everything_and_fails_nothing(checkov_report):
    report, stderr = checkov_report
    summary = report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0, "checkov evaluated nothing"
    failed = [(c["check_id"], c["resource"], c["file_path"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    # A check that crashes on a resource (logged, not counted) must not pass silently.
    assert "Traceback" not in stderr, stderr[-2000:]


def test_every_checkov_skip_is_justified_and_needed(checkov_report):
    report, _ = checkov_report
    written = set()
    for path in BICEP_FILES:
        for check_id, reason in SKIP_COMMENT.findall(path.read_text()):
            assert len(reason.strip()) > 20, f"{relative(path)}: {check_id} needs a real reason"
            written.add(("/" + path.relative_to(INFRA).as_posix(), check_id))
    applied = {(c["file_path"], c["check_id"]) for c in report["results"]["skipped_checks"]}
    assert written == applied, "skip comments that suppress nothing, or skips without a comment"


# --- postprovision hook ------------------------------------------------------------

AZD_VALUES = {
    "AZURE_TENANT_ID": "tenant",
    "AZURE_SUBSCRIPTION_ID": "sub",
    "AZURE_RESOURCE_GROUP": "rg-dev",
    "API_BASE_URL": "https://func-x.azurewebsites.net/v1",
    "AZURE_OPENAI_ENDPOINT": "https://oai-x.openai.azure.com/",
    "AZURE_OPENAI_API_VERSION": "2024-10-21",
    "AZURE_OPENAI_CHAT_DEPLOYMENT": "gpt-4.1-mini",
    "AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT": "text-embedding-3-small",
    "ACA_SESSION_POOL_ENDPOINT": "https://westus2.dynamicsessions.io/pool",
    "AZURE_KEYVAULT_NAME": "kv-x",
    "SEND_EMAIL_URL_VAULT_ENTRY": "send-email-url",
    "CREATE_CALENDAR_EVENT_URL_VAULT_ENTRY": "create-calendar-event-url",
    "OFFICE365_CONNECTION_NAME": "office365-x",
    "AZURE_STORAGE_ACCOUNT_NAME": "stx",
}


@pytest.mark.skipif(sys.platform == "win32", reason="the sh hook")
def test_postprovision_hook_merges_azure_values_into_local_settings(tmp_path):
    (tmp_path / "infra").mkdir()
    shutil.copytree(INFRA / "hooks", tmp_path / "infra" / "hooks")
    (tmp_path / "local.settings.json").write_text(json.dumps(
        {"IsEncrypted": False, "Values": {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "KEEP": "me"}}
    ))
    # A stand-in Azure CLI that answers `az keyvault secret show ... --name <entry>`.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "az").write_text('#!/bin/sh\necho "https://logic.example/$7"\n')
    (bin_dir / "az").chmod(0o755)
    (bin_dir / "python3").symlink_to(sys.executable)
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin", **AZD_VALUES}

    done = subprocess.run(["sh", str(tmp_path / "infra" / "hooks" / "postprovision.sh")],
                          capture_output=True, text=True, timeout=30, env=env)

    assert done.returncode == 0, done.stderr
    values = json.loads((tmp_path / "local.settings.json").read_text())["Values"]
    assert values["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
    assert values["KEEP"] == "me"
    assert values["AZURE_OPENAI_ENDPOINT"] == AZD_VALUES["AZURE_OPENAI_ENDPOINT"]
    assert values["CODE_INTERPRETER_SANDBOX"] == "aca"
    assert values["SEND_EMAIL_LOGIC_APP_URL"] == "https://logic.example/send-email-url"
    assert values["CREATE_CALENDAR_EVENT_LOGIC_APP_URL"] == "https://logic.example/create-calendar-event-url"
    assert "Microsoft.Web/connections/office365-x/edit" in done.stdout
    assert "The API key is in Key Vault (secret 'assistants-api-key'); none issued" in done.stdout
    assert "Access: every call needs an API key" in done.stdout


# A stand-in Azure CLI whose vault keeps secrets as files in $VAULT_DIR and logs every call's arguments.
STAND_IN_VAULT = r"""#!/bin/sh
echo "$*" >> "$VAULT_DIR/calls"
if [ -n "${AZ_NOT_SIGNED_IN:-}" ]; then echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; fi
command="$1 $2 $3"; shift 3
name=""; file=""
while [ $# -gt 0 ]; do
    case $1 in --name) name=$2; shift;; --file) file=$2; shift;; esac
    shift
done
case $command in
    "keyvault secret show")
        if [ -f "$VAULT_DIR/$name" ]; then cat "$VAULT_DIR/$name"; exit 0; fi
        echo "ERROR: (SecretNotFound) A secret with (name/id) $name was not found in this key vault." >&2; exit 3;;
    "keyvault secret set") cat "$file" > "$VAULT_DIR/$name";;
esac
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the sh hook")
def test_postprovision_hook_issues_the_first_key_once_into_key_vault_and_never_prints_it(azurite, tmp_path):
    from core.api_keys import KeyStore
    from core.storage_connection import StorageConnection
    from core.store import Store

    checkout = tmp_path / "checkout"
    shutil.copytree(INFRA / "hooks", checkout / "infra" / "hooks")
    for name in ("core", "devhost", ".venv"):  # what `python -m core.api_keys` needs from a checkout
        (checkout / name).symlink_to(ROOT / name)
    vault, bin_dir = tmp_path / "vault", tmp_path / "bin"
    vault.mkdir()
    bin_dir.mkdir()
    (bin_dir / "az").write_text(STAND_IN_VAULT)
    (bin_dir / "az").chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin", "VAULT_DIR": str(vault),
           "AzureWebJobsStorage": azurite.connection_string, **AZD_VALUES}
    keys = KeyStore(Store(StorageConnection(azurite.connection_string, None, None)))

    def hook(**extra: str) -> subprocess.CompletedProcess:
        done = subprocess.run(["sh", str(checkout / "infra" / "hooks" / "postprovision.sh")],
                              capture_output=True, text=True, timeout=60, env={**env, **extra})
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def owner_keys() -> list:
        return [record for record in keys.list() if record.principal == "azd-owner"]

    # Not signed in: nothing can be checked, so nothing is issued, and the hook says what to do.
    signed_out = hook(AZ_NOT_SIGNED_IN="1")
    assert owner_keys() == []
    assert "No API key was issued" in signed_out.stdout and "az login" in signed_out.stdout

    first = hook()
    key = (vault / "assistants-api-key").read_text()
    assert keys.principal_for(key) == "azd-owner"
    assert [record.name for record in owner_keys()] == ["first key (azd up)"]
    read_command = "az keyvault secret show --vault-name kv-x --name assistants-api-key --query value --output tsv"
    assert "Issued the first API key" in first.stdout and read_command in first.stdout

    again = hook()
    assert len(owner_keys()) == 1, "a rerun issued another key"
    assert (vault / "assistants-api-key").read_text() == key
    assert "none issued" in again.stdout and read_command in again.stdout

    for output in (first.stdout, first.stderr, again.stdout, again.stderr, (vault / "calls").read_text()):
        assert key not in output and key[4:20] not in output  # not printed, not on any command line


# A stand-in Azure CLI signed in as the deployer: an access token for any resource, a vault holding the key.
STAND_IN_SIGNED_IN = r"""#!/bin/sh
echo "$*" >> "$AZ_CALLS"
case "$1 $2" in
    "account get-access-token") echo '{"accessToken": "deployer-token", "expires_on": 4102444800, "tokenType": "Bearer"}';;
    "keyvault secret") echo "stored";;
esac
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the sh hook")
def test_postprovision_hook_creates_the_search_index_as_the_deployer(tmp_path):
    from core.file_search.azure_search import AzureSearchBackend
    from tests.file_search.search_standin import SearchStandIn

    checkout = tmp_path / "checkout"
    shutil.copytree(INFRA / "hooks", checkout / "infra" / "hooks")
    (checkout / "core").symlink_to(ROOT / "core")  # what `python -m core.file_search.azure_search` needs
    (checkout / ".venv").symlink_to(sys.prefix)  # the environment running these tests, wherever it is
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "az").write_text(STAND_IN_SIGNED_IN)
    (bin_dir / "az").chmod(0o755)
    service = SearchStandIn()
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(tmp_path),
           "AZ_CALLS": str(tmp_path / "calls"), "REQUESTS_CA_BUNDLE": str(service.ca_path), **AZD_VALUES,
           "AZURE_SEARCH_ENDPOINT": service.url, "AZURE_OPENAI_EMBEDDINGS_DIMENSIONS": "1536"}

    def hook(**extra: str) -> subprocess.CompletedProcess:
        done = subprocess.run(["sh", str(checkout / "infra" / "hooks" / "postprovision.sh")],
                              capture_output=True, text=True, timeout=120, env={**env, **extra})
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    try:
        first = hook()
        assert f"Created the search index 'file-search-chunks' (1536-dimension vectors) at {service.url}" \
            in first.stdout, first.stdout + first.stderr
        fields = {field["name"]: field for field in service.indexes["file-search-chunks"]["fields"]}
        assert fields["vector"]["dimensions"] == 1536 and fields["id"]["key"] is True
        assert "account get-access-token --output json --resource https://search.azure.com" \
            in (tmp_path / "calls").read_text()
        assert set(service.credentials) == {"Bearer deployer-token"}  # as the deployer, not with a key

        assert "The search index 'file-search-chunks' is ready (1536-dimension vectors, already there)" \
            in hook().stdout
        other = hook(AZURE_OPENAI_EMBEDDINGS_DIMENSIONS="3072")  # the index's size cannot change
        assert "The search index was not created: The index 'file-search-chunks'" in other.stdout
        assert "exists with 1536-dimension vectors, not 3072" in other.stdout
        assert fields == {field["name"]: field for field in service.indexes["file-search-chunks"]["fields"]}

        # The app uses what the hook made: the one schema, written and searched by the backend.
        import numpy as np

        from core.file_search.segments import Segment

        backend = AzureSearchBackend(service.url, "file-search-chunks", _StandInToken())
        vectors = np.eye(2, 1536, dtype=np.float32)
        with _trusting(service.ca_path):
            backend.add("vs_1", "file_1", "v1", Segment(["walruses haul out", "owls hunt"], vectors))
            hits = backend.hits({"vs_1": {"file_1": "v1"}}, "walruses", vectors[0], 5)
        assert [hit.text for hit in hits][0] == "walruses haul out"
    finally:
        service.close()


class _StandInToken:
    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken("app-token", 4102444800)


class _trusting:
    """REQUESTS_CA_BUNDLE set to the stand-in's CA while the block runs."""

    def __init__(self, ca_path: Path):
        self.ca_path = str(ca_path)

    def __enter__(self):
        self.saved = os.environ.get("REQUESTS_CA_BUNDLE")
        os.environ["REQUESTS_CA_BUNDLE"] = self.ca_path

    def __exit__(self, *exc):
        if self.saved is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = self.saved


# --- one deploy package, lean ---------------------------------------------------------

SANDBOX_LIBRARIES = {"numpy", "pandas", "matplotlib", "scipy", "sympy", "openpyxl", "ipython"}
# numpy is also the app's own: file_search's vector scan (core/file_search) runs in Azure too.
APP_NEEDS_TOO = {"numpy"}


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower())
    return names


def test_the_deploy_requirements_carry_none_of_the_sandbox_libraries():
    assert requirement_names(ROOT / "requirements.in") & SANDBOX_LIBRARIES == APP_NEEDS_TOO
    # The lock (what Azure installs) holds pandas too, brought only by yfinance (README, *Dependencies*).
    lock = (ROOT / "requirements.txt").read_text()
    assert requirement_names(ROOT / "requirements.txt") & SANDBOX_LIBRARIES == APP_NEEDS_TOO | {"pandas"}
    assert re.search(r"(?m)^pandas==\S+ \\\n(?:    --hash=\S+ \\\n)*    --hash=\S+\n    # via\n"
                     r"    #   -c requirements-sandbox.txt\n    #   yfinance\n(?!    #)", lock)
    assert requirement_names(ROOT / "requirements-sandbox.txt") == SANDBOX_LIBRARIES
    assert "-r requirements-sandbox.txt" in (ROOT / "requirements-dev.txt").read_text().splitlines()


def test_a_clean_clone_installs_the_sandbox_libraries():
    stamp = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("$(VENV)/.installed:"))
    assert {"requirements.in", "requirements.txt", "requirements-sandbox.txt", "requirements-dev.txt"} <= set(stamp.split()[1:])


def make_prerequisites(target: str) -> set[str]:
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith(f"{target}:"))
    return set(line.split(":", 1)[1].split())


def test_make_run_installs_no_browser_and_make_test_does():
    assert "browser" not in make_prerequisites("install") | make_prerequisites("run")
    assert make_prerequisites("run") == {"install"}
    assert {"install", "browser"} <= make_prerequisites("test")


def test_the_local_python_is_the_one_azure_runs():
    runtime = re.search(r"runtime: \{\s*name: 'python'\s*version: '([\d.]+)'", FUNCTION_APP.read_text())
    assert runtime and (ROOT / ".python-version").read_text().strip() == runtime.group(1)
    assert f"command -v python{runtime.group(1)}" in (ROOT / "Makefile").read_text()
    devcontainer = (ROOT / ".devcontainer" / "devcontainer.json").read_text()
    assert f"python:1-{runtime.group(1)}-" in devcontainer and '"forwardPorts": [7071]' in devcontainer


def test_the_deploy_package_leaves_dev_files_out():
    ignored = {line.strip() for line in (ROOT / ".funcignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    dev_only = {"tests/", "bench/", "devhost/", "scripted_model/", "smoke/", "infra/", "docs/", ".venv/",
                "node_modules/", "local.settings.json", "requirements-dev.txt", "requirements-sandbox.txt",
                "requirements.in", "Makefile", ".devcontainer/", ".vscode/", ".python-version"}
    assert dev_only <= ignored
    for needed in ("function_app.py", "host.json", "requirements.txt", "api/", "usecases/", "core/", "tools/"):
        assert needed not in ignored


# --- docs and Bicep agree ---------------------------------------------------------------

MAIN = INFRA / "main.bicep"
DOCS = (ROOT / "docs" / "deploy-to-azure.md").read_text(encoding="utf-8")
DOCS_PROSE = " ".join(DOCS.split())  # line breaks in prose do not matter
README = (ROOT / "README.md").read_text(encoding="utf-8")


def param_default(path: Path, name: str):
    return parse(path)["parameters"][name]["default"]


def main_parameter_env_defaults() -> dict[str, tuple[str, str]]:
    """main.parameters.json: parameter → (azd environment variable, default it falls back to)."""
    found = {}
    for name, entry in json.loads((INFRA / "main.parameters.json").read_text())["parameters"].items():
        match = re.fullmatch(r"\$\{(\w+)(?:=([^}]*))?\}", entry["value"])
        if match and match.group(2) is not None:
            found[name] = (match.group(1), match.group(2))
    return found


def test_parameter_file_defaults_equal_the_bicep_defaults():
    for name, (_, default) in main_parameter_env_defaults().items():
        assert str(param_default(MAIN, name)) == default, name


def test_docs_table_of_azd_settings_quotes_the_real_defaults():
    for name, (variable, default) in main_parameter_env_defaults().items():
        shown = f"`{default}`" if default else "empty"
        assert f"| `{variable}` | {shown} |" in DOCS, f"docs/deploy-to-azure.md lacks the row for {variable} ({name})"


def test_docs_quote_the_session_idle_timeout_bicep_sets():
    minutes = param_default(INFRA / "app" / "sessions.bicep", "cooldownPeriodInSeconds") // 60
    assert f"sessions end after {minutes} idle minutes" in DOCS_PROSE


def test_docs_quote_the_default_models_and_capacity():
    chat = param_default(MAIN, "chatModelName")
    version = param_default(MAIN, "chatModelVersion")
    embeddings = param_default(MAIN, "embeddingsModelName")
    capacity = param_default(MAIN, "chatCapacity")
    assert param_default(MAIN, "embeddingsCapacity") == capacity
    assert f"`{chat}` {version} and `{embeddings}`, {param_default(MAIN, 'chatSkuName')}" in DOCS_PROSE
    assert f"{capacity}K tokens per minute each" in DOCS_PROSE


def location_decorators() -> dict:
    found = {}
    for decorator in parse(MAIN)["parameters"]["location"]["decorators"]:
        found[decorator["type"]] = decorator["argument"]
    return found


def test_location_is_one_allowed_list_with_azd_metadata_and_quota_check():
    decorators = location_decorators()
    regions = decorators["allowed"]
    assert len(regions) == len(set(regions)) >= 10
    azd = decorators["metadata"]["azd"]
    assert azd["type"] == "location"
    expected = {f"OpenAI.{param_default(MAIN, 'chatSkuName')}.{param_default(MAIN, 'chatModelName')},"
                f"{param_default(MAIN, 'chatCapacity')}",
                f"OpenAI.{param_default(MAIN, 'embeddingsSkuName')}.{param_default(MAIN, 'embeddingsModelName')},"
                f"{param_default(MAIN, 'embeddingsCapacity')}"}
    assert set(azd["usageName"]) == expected
    # the regions the docs suggest are in the list
    for suggested in re.findall(r"`(\w+)` \(", DOCS.split("## Prerequisites")[1].split("## Deploy")[0]):
        assert suggested in regions


def test_session_pool_name_fits_its_naming_rule():
    main = MAIN.read_text()
    assert re.search(r"name: 'sp\$\{resourceToken\}'", main)  # letters and digits only; resourceToken is too


# --- Durable Functions: polling and backend -------------------------------------------

HOST = json.loads((ROOT / "host.json").read_text())


def seconds(timespan: str) -> int:
    hours, minutes, secs = (int(part) for part in timespan.split(":"))
    return hours * 3600 + minutes * 60 + secs


def idle_polls_per_month(partitions: int, interval_seconds: int) -> int:
    """Queue reads one idle instance makes in 30 days: every control queue plus the work-item queue,
    each at the back-off ceiling."""
    return (partitions + 1) * (30 * 24 * 3600 // interval_seconds)


def test_an_idle_app_picks_up_a_run_within_a_second():
    provider = HOST["extensions"]["durableTask"]["storageProvider"]
    assert seconds(provider["maxQueuePollingInterval"]) <= 1


def test_readme_shows_the_polling_cost_host_json_implies():
    provider = HOST["extensions"]["durableTask"]["storageProvider"]
    ours = idle_polls_per_month(provider["partitionCount"], seconds(provider["maxQueuePollingInterval"]))
    default = idle_polls_per_month(provider["partitionCount"], 30)
    assert f"{ours:,}" in README and f"{default:,}" in README


def test_the_scheduler_backend_switches_the_hosts_storage_provider():
    settings = app_settings()
    for name in ("AzureFunctionsJobHost__extensions__durableTask__storageProvider__type",
                 "AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName",
                 "DURABLE_TASK_SCHEDULER_CONNECTION_STRING"):
        assert "useScheduler" in json.dumps(settings[name]), name
    assert "azureManaged" in json.dumps(settings["AzureFunctionsJobHost__extensions__durableTask__storageProvider__type"])
    backend = parse(MAIN)["parameters"]["durableBackend"]
    assert backend["default"] == "azureStorage"
    scheduler = (INFRA / "app" / "scheduler.bicep").read_text()
    assert "0ad04412-c4d5-4796-b79c-f76d14c8d402" in scheduler  # Durable Task Data Contributor


def test_azure_yaml_runs_the_smoke_test_after_deploy():
    hook = yaml.safe_load((ROOT / "azure.yaml").read_text())["hooks"]["postdeploy"]
    for platform, shell in (("posix", "sh"), ("windows", "pwsh")):
        assert hook[platform]["shell"] == shell
        assert (ROOT / hook[platform]["run"]).is_file()
        assert "-m smoke" in (ROOT / hook[platform]["run"]).read_text() or "'smoke'" in (ROOT / hook[platform]["run"]).read_text()


def test_only_the_deploying_user_may_write_key_vault_secrets():
    """The hook stores the first API key as the user; the app's identity only reads secrets."""
    main = (INFRA / "main.bicep").read_text()
    app_roles = main[main.index("module appRoles"):main.index("module userRoles")]
    user_roles = main[main.index("module userRoles"):]
    user_roles = user_roles[:user_roles.index("\n}\n")]
    assert "writesSecrets" not in app_roles
    assert re.search(r"writesSecrets:\s*true", user_roles)
    rbac = (INFRA / "app" / "rbac.bicep").read_text()
    officer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"  # Key Vault Secrets Officer
    assert re.search(rf"keyVaultSecretsOfficer: '{officer}'", rbac)
    assert re.search(r"param writesSecrets bool = false", rbac)
    assignment = rbac[rbac.index("resource vaultWriteAccess"):]
    assert assignment.startswith("resource vaultWriteAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' "
                                 "= if (writesSecrets) {")
    assert "scope: vault\n" in assignment[:assignment.index("\n}\n")]


# --- diagnostic settings ------------------------------------------------------------

# Every resource type the template creates that Azure Monitor can take logs or metrics from, with
# what its diagnostic setting must send: (allLogs category group, AllMetrics).
DIAGNOSTICS = {
    "Microsoft.Web/sites": (True, True),
    "Microsoft.Storage/storageAccounts": (False, True),  # the account has metrics only; logs are per service
    "Microsoft.Storage/storageAccounts/blobServices": (True, True),
    "Microsoft.Storage/storageAccounts/queueServices": (True, True),
    "Microsoft.Storage/storageAccounts/tableServices": (True, True),
    "Microsoft.KeyVault/vaults": (True, True),
    "Microsoft.CognitiveServices/accounts": (True, True),
    "Microsoft.App/sessionPools": (False, True),  # no resource log categories exist for session pools
    "Microsoft.Search/searchServices": (True, True),
    "Microsoft.Logic/workflows": (True, True),
}
# Types the template creates that get no diagnostic setting, and why.
NO_DIAGNOSTICS = {
    "Microsoft.Resources/resourceGroups": "not a monitored resource",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "no logs or metrics; its sign-ins are in Entra ID",
    "Microsoft.Authorization/roleAssignments": "changes are in the activity log",
    "Microsoft.Insights/diagnosticSettings": "the settings themselves",
    "Microsoft.OperationalInsights/workspaces": "the destination",
    "Microsoft.Insights/components": "workspace-based: its telemetry is already in the workspace",
    "Microsoft.Web/serverfarms": "Flex Consumption reports its metrics on the app",
    "Microsoft.Web/sites/config": "part of the site",
    "Microsoft.Web/sites/basicPublishingCredentialsPolicies": "part of the site",
    "Microsoft.Web/connections": "no diagnostic settings for API connections",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "covered by the blob service's setting",
    "Microsoft.KeyVault/vaults/secrets": "covered by the vault's setting",
    "Microsoft.CognitiveServices/accounts/deployments": "covered by the account's setting",
    "Microsoft.DurableTask/schedulers": "no documented diagnostic setting categories",
    "Microsoft.App/managedEnvironments": "its apps' console and system logs reach the workspace through appLogsConfiguration",
    "Microsoft.App/containerApps": "logs through its environment's appLogsConfiguration (SearXNG)",
    "Microsoft.Network/virtualNetworks": "flow logs are a Network Watcher choice left to the operator",
    "Microsoft.Network/privateDnsZones": "no resource logs; changes are in the activity log",
    "Microsoft.Network/privateDnsZones/A": "part of the zone",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "part of the zone",
    "Microsoft.DurableTask/schedulers/taskHubs": "part of the scheduler",
}
STORAGE_SERVICES = ("blobServices", "queueServices", "tableServices")


def diagnostic_settings(parsed: dict) -> dict[str, dict]:
    """Resource symbol → the diagnostic setting scoped to it."""
    found = {}
    for resource in parsed.get("resources", {}).values():
        if resource["type"] == "Microsoft.Insights/diagnosticSettings":
            found[resource["config"]["scope"]] = resource["config"]["properties"]
    return found


def test_every_created_resource_type_is_considered_for_diagnostics():
    created = {r["type"] for path in BICEP_FILES for r in parse(path).get("resources", {}).values() if not r["existing"]}
    unconsidered = created - set(DIAGNOSTICS) - set(NO_DIAGNOSTICS)
    assert not unconsidered, f"add these to DIAGNOSTICS (with a diagnostic setting) or NO_DIAGNOSTICS: {sorted(unconsidered)}"


def monitored_resources() -> list[tuple[Path, str, str]]:
    """(file, symbol, type) of every resource that needs a diagnostic setting: those the template creates,
    and the storage services, which come with the account and are declared `existing` to be named."""
    found = []
    for path in BICEP_FILES:
        for symbol, resource in parse(path).get("resources", {}).items():
            storage_service = resource["type"].rsplit("/", 1)[-1] in STORAGE_SERVICES
            if resource["type"] in DIAGNOSTICS and (not resource["existing"] or storage_service):
                found.append((path, symbol, resource["type"]))
    return found


@pytest.mark.parametrize("path,symbol,kind", monitored_resources(), ids=lambda v: v if isinstance(v, str) else relative(v))
def test_resource_sends_logs_and_metrics_to_the_workspace(path, symbol, kind):
    setting = diagnostic_settings(parse(path)).get(symbol)
    assert setting, f"{relative(path)}: no Microsoft.Insights/diagnosticSettings scoped to {symbol} ({kind})"
    assert setting["workspaceId"] == "logAnalyticsWorkspaceId"
    wants_logs, wants_metrics = DIAGNOSTICS[kind]
    logs = setting.get("logs", [])
    metrics = setting.get("metrics", [])
    assert ({"categoryGroup": "allLogs", "enabled": True} in logs) == wants_logs, logs
    assert ({"category": "AllMetrics", "enabled": True} in metrics) == wants_metrics, metrics


def test_the_storage_account_services_all_have_diagnostic_settings():
    kinds = {kind for _, _, kind in monitored_resources()}
    for service in STORAGE_SERVICES:
        assert f"Microsoft.Storage/storageAccounts/{service}" in kinds, service


def test_main_sends_every_module_to_the_one_workspace():
    main = parse(MAIN)
    workspace = {"operator": {"type": "property_accessor", "operands": {
        "operand_1": "monitoring", "operand_2": {"operator": {"type": "property_accessor", "operands": {
            "operand_1": "outputs", "operand_2": "workspaceId"}}}}}}
    assert "workspaceId" in parse(INFRA / "app" / "monitoring.bicep")["outputs"]
    for name, module in main["modules"].items():
        declared = parse(INFRA / module["detail"]["path"]).get("parameters", {})
        if "logAnalyticsWorkspaceId" in declared:
            config = module["config"].get("config", module["config"])  # a conditional module nests its body
            assert config["params"].get("logAnalyticsWorkspaceId") == workspace, name
    with_diagnostics = {relative(path) for path, _, _ in monitored_resources()}
    for file in with_diagnostics:
        assert "logAnalyticsWorkspaceId" in parse(ROOT / file)["parameters"], file


# --- publishing credentials -----------------------------------------------------------


def test_basic_publishing_credentials_are_off_for_ftp_and_scm():
    policies = {r["config"]["name"]: r["config"]["properties"] for r in parse(FUNCTION_APP)["resources"].values()
                if r["type"] == "Microsoft.Web/sites/basicPublishingCredentialsPolicies"}
    assert policies == {"ftp": {"allow": False}, "scm": {"allow": False}}


# --- least-privilege roles ----------------------------------------------------------------

CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
SEARCH_SERVICE_CONTRIBUTOR = "7ca78c08-252a-4471-8644-bb5ff32d4ba0"
SESSION_EXECUTOR = "0fb8eba5-a2bb-4abe-b1c1-49dfad359bb0"  # Azure ContainerApps Session Executor
ROLE_ASSIGNMENT = re.compile(r"^resource \w+ 'Microsoft\.Authorization/roleAssignments@", re.MULTILINE)


def test_no_role_assignment_grants_contributor():
    for path in BICEP_FILES:
        assert CONTRIBUTOR not in path.read_text(), f"{relative(path)} names the Contributor role"


def test_the_session_pool_role_is_session_executor_alone():
    rbac = (INFRA / "app" / "rbac.bicep").read_text()
    assert f"containerAppsSessionExecutor: '{SESSION_EXECUTOR}'" in rbac
    assignment = rbac[rbac.index("resource sessionsAccess"):]
    assignment = assignment[:assignment.index("\n}\n")]
    assert "scope: sessionPool\n" in assignment and "roles.containerAppsSessionExecutor" in assignment
    assert "[for" not in assignment, "one role on the pool, not a list"


def role_assignment_blocks(path: Path) -> list[str]:
    """The text of every role assignment resource in a Bicep file."""
    text = path.read_text()
    return [text[found.start():text.index("\n}\n", found.start())] for found in ROLE_ASSIGNMENT.finditer(text)]


def test_the_app_identity_holds_no_search_service_contributor():
    """The app only uses the search index (Search Index Data Contributor); creating it is the deployer's."""
    holders = [relative(path) for path in BICEP_FILES if SEARCH_SERVICE_CONTRIBUTOR in path.read_text()]
    assert holders == ["infra/app/search.bicep"]
    search = INFRA / "app" / "search.bicep"
    assert f"var serviceContributor = '{SEARCH_SERVICE_CONTRIBUTOR}'" in search.read_text()
    granting = [block for block in role_assignment_blocks(search) if "serviceContributor" in block]
    assert len(granting) == 1
    [deployer] = granting
    assert "principalId: userPrincipalId\n" in deployer and "appPrincipalId" not in deployer
    assert "= if (!empty(userPrincipalId))" in deployer and "scope: search\n" in deployer
    app_roles = [block for block in role_assignment_blocks(search) if "appPrincipalId" in block]
    assert len(app_roles) == 1 and "indexDataContributor)" in app_roles[0]  # the app's one search role
    main = (INFRA / "main.bicep").read_text()
    module = main[main.index("module search "):]
    module = module[:module.index("\n}\n")]
    assert "userPrincipalId: principalId\n" in module and "appPrincipalId: identity.outputs.principalId" in module


def test_the_app_never_creates_its_search_index():
    import inspect

    from core.file_search import azure_search

    backend = inspect.getsource(azure_search.AzureSearchBackend)
    assert "SearchIndexClient" not in backend and "create_or_update_index" not in backend
    assert "create_or_update_index" in inspect.getsource(azure_search.create_index)


# The vector sizes of Azure OpenAI's embeddings models, for the check that infra's default fits its model.
EMBEDDING_SIZES = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}


def test_infra_gives_the_hook_the_search_endpoint_and_the_embeddings_vector_size():
    assert param_default(MAIN, "embeddingsDimensions") == EMBEDDING_SIZES[param_default(MAIN, "embeddingsModelName")]
    outputs = parse(MAIN)["outputs"]
    assert outputs["AZURE_OPENAI_EMBEDDINGS_DIMENSIONS"]["value"] == "embeddingsDimensions"
    assert "AZURE_SEARCH_ENDPOINT" in outputs


def test_both_postprovision_hooks_create_the_search_index():
    sh = (INFRA / "hooks" / "postprovision.sh").read_text()
    ps1 = (INFRA / "hooks" / "postprovision.ps1").read_text()
    for hook in (sh, ps1):
        assert "-m core.file_search.azure_search create-index" in hook
    assert '--endpoint "$AZURE_SEARCH_ENDPOINT" --dimensions "${AZURE_OPENAI_EMBEDDINGS_DIMENSIONS:-1536}"' in sh
    assert "\nsearch_index\n" in sh
    assert "--endpoint $env:AZURE_SEARCH_ENDPOINT --dimensions $dimensions" in ps1
    assert "$env:AZURE_OPENAI_EMBEDDINGS_DIMENSIONS" in ps1 and "New-SearchIndex }" in ps1


@pytest.mark.parametrize("path", BICEP_FILES, ids=relative)
def test_every_role_assignment_says_why(path):
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines):
        if ROLE_ASSIGNMENT.match(line):
            assert number > 0 and lines[number - 1].startswith("//"), \
                f"{relative(path)}:{number + 1}: a role assignment without a comment giving its reason"


# --- cloud suffixes -----------------------------------------------------------------------

# DNS suffixes of Azure's public and sovereign clouds: an endpoint comes from environment() or from
# the resource's own properties, so that the template deploys to any cloud.
CLOUD_SUFFIX = re.compile(r"\.(?:windows\.net|azure\.com|azure\.net|azure\.cn|azure\.us|"
                          r"usgovcloudapi\.net|chinacloudapi\.cn|azurecontainerapps\.io)\b", re.IGNORECASE)
TEMPLATE_JSON = sorted((INFRA / "app" / "workflows").glob("*.json")) + [INFRA / "main.parameters.json"]


def code_lines(path: Path) -> list[str]:
    """The file's lines that are not comments or a JSON $schema reference."""
    return [line for line in path.read_text().splitlines()
            if not line.strip().startswith("//") and '"$schema"' not in line]


@pytest.mark.parametrize("path", BICEP_FILES + TEMPLATE_JSON, ids=relative)
def test_no_hard_coded_cloud_suffix(path):
    found = [line.strip() for line in code_lines(path) if CLOUD_SUFFIX.search(line)]
    assert found == [], f"{relative(path)}: use environment() or the resource's endpoint property"


def test_the_cloud_suffix_check_catches():
    for line in ("output endpoint string = 'https://${search.name}.search.windows.net'",
                 "value: 'https://${name}.blob.core.windows.net/'", "uri: 'https://${kv}.vault.azure.net'",
                 "endpoint: 'https://${name}.openai.azure.com/'"):
        assert CLOUD_SUFFIX.search(line), line
    assert not CLOUD_SUFFIX.search("output endpoint string = search.properties.endpoint")


def test_search_endpoint_is_the_services_own_property():
    assert parse(INFRA / "app" / "search.bicep")["outputs"]["endpoint"]["value"] == {
        "operator": {"type": "property_accessor", "operands": {"operand_1": "search", "operand_2": {
            "operator": {"type": "property_accessor", "operands": {"operand_1": "properties", "operand_2": "endpoint"}}}}}}


# --- the chat model ---------------------------------------------------------------------------


def test_the_chat_model_is_a_parameter_azd_can_set():
    supplied = main_parameter_env_defaults()
    assert supplied["chatModelName"][0] == "AZURE_OPENAI_CHAT_MODEL"
    assert supplied["chatModelVersion"][0] == "AZURE_OPENAI_CHAT_MODEL_VERSION"
    assert not param_default(MAIN, "chatModelName").startswith("gpt-4o"), "gpt-4o is being retired"


def test_the_samples_default_to_the_deployed_chat_model():
    from samples.connection import DEFAULT_DEPLOYMENT, connection_from

    assert DEFAULT_DEPLOYMENT == param_default(MAIN, "chatModelName")
    assert connection_from({"OPENAI_GPT_DEPLOYMENT": "mine"}).deployment == "mine"


def test_docs_quote_the_azd_version_azure_yaml_requires():
    required = yaml.safe_load((ROOT / "azure.yaml").read_text())["requiredVersions"]["azd"]
    minimum = required.split(">=")[1].strip()
    assert f"(`azd`) {minimum} or later" in DOCS_PROSE


# --- web search: SearXNG behind a parameter ------------------------------------------


def test_searxng_is_deployed_only_when_chosen_and_reachable_only_inside_its_network():
    main = parse(INFRA / "main.bicep")
    assert main["parameters"]["webSearchBackend"]["default"] == ""
    text = (INFRA / "main.bicep").read_text()
    assert "module searxng 'app/searxng.bicep' = if (webSearchBackend == 'searxng')" in text
    searxng = parse(INFRA / "app" / "searxng.bicep")
    [environment] = [r for r in searxng["resources"].values() if r["type"] == "Microsoft.App/managedEnvironments"]
    assert environment["config"]["properties"]["vnetConfiguration"]["internal"] is True
    [app] = [r for r in searxng["resources"].values() if r["type"] == "Microsoft.App/containerApps"]
    assert app["config"]["properties"]["configuration"]["ingress"]["external"] is False
    function = (INFRA / "app" / "function.bicep").read_text()
    assert "virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId" in function
