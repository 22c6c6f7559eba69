"""Who may call, and both URL shapes: keys, the 401 envelope, forged headers, unknown routes, api-version.

Against the suite's devhost, which runs as a deployment with default settings
does: no platform auth, no local principal, keys only.
"""

from __future__ import annotations

import uuid

import httpx2 as httpx
import openai
import pytest

from core import api_keys
from tests.api.conftest import error_of
from tests.conftest import OTHER_PRINCIPAL, sdk_client
from tests.support import keys

VERSION = "2024-05-01-preview"


@pytest.fixture(scope="module")
def anonymous(devhost):
    with httpx.Client(base_url=devhost.root_url, timeout=30) as session:
        yield session


def azure_client(devhost, key: str, version: str = VERSION) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(azure_endpoint=devhost.root_url, api_key=key, api_version=version, max_retries=0,
                              timeout=60)


@pytest.mark.parametrize("path", ["/v1/assistants", f"/openai/assistants?api-version={VERSION}",
                                  "/v1/chat/completions", "/v1/files"])
def test_no_key_is_401_in_openais_envelope(anonymous, path):
    response = anonymous.post(path, json={"model": "m"}) if "chat" in path else anonymous.get(path)
    assert response.status_code == 401
    error = error_of(response)
    assert error["type"] == "invalid_request_error" and "didn't provide an API key" in error["message"]


@pytest.mark.parametrize("key", ["sk-" + "x" * 48, "local", api_keys.new_key()], ids=["openai-shaped", "local", "unissued"])
def test_sdk_raises_authentication_error_for_wrong_and_foreign_keys(devhost, key):
    for client in (openai.OpenAI(base_url=devhost.base_url, api_key=key, max_retries=0),
                   azure_client(devhost, key)):
        with pytest.raises(openai.AuthenticationError) as caught:
            client.beta.assistants.list()
        assert caught.value.status_code == 401 and caught.value.body["code"] == "invalid_api_key"
        assert key not in str(caught.value)


def test_a_revoked_key_stops_working_at_once(devhost, capsys):
    principal = f"revokee-{uuid.uuid4().hex}"
    key, record = keys.store().create(principal, "to be revoked")
    client = openai.OpenAI(base_url=devhost.base_url, api_key=key, max_retries=0)
    made = client.beta.assistants.create(model="gpt-scripted", name="mine")
    assert api_keys.main(["revoke", record.key_id], keys=keys.store()) == 0
    with pytest.raises(openai.AuthenticationError):
        client.beta.assistants.retrieve(made.id)
    assert api_keys.main(["list"], keys=keys.store()) == 0
    listing = capsys.readouterr().out
    line = next(row for row in listing.splitlines() if row.startswith(record.key_id))
    assert "revoked" in line and principal in line and key not in listing
    another, _ = keys.store().create(principal, "a new key, same principal")
    assert openai.OpenAI(base_url=devhost.base_url, api_key=another).beta.assistants.retrieve(made.id).id == made.id


def test_the_admin_command_issues_a_working_key(devhost, capsys):
    principal = f"cli-{uuid.uuid4().hex}"
    assert api_keys.main(["create", "--principal", principal, "--name", "ci", "--quiet"], keys=keys.store()) == 0
    key = capsys.readouterr().out.strip()
    assert api_keys.looks_like_key(key)
    client = openai.AzureOpenAI(azure_endpoint=devhost.root_url, api_key=key, api_version=VERSION, max_retries=0)
    assert client.beta.assistants.list().data == []
    assert api_keys.main(["revoke", "nope-nope"], keys=keys.store()) == 1


def test_another_principals_objects_are_404_everywhere(client, other_client):
    assistant = client.beta.assistants.create(model="gpt-scripted")
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "mine"}])
    uploaded = client.files.create(file=("mine.txt", b"secret"), purpose="assistants")
    for call in (lambda: other_client.beta.assistants.retrieve(assistant.id),
                 lambda: other_client.beta.assistants.delete(assistant.id),
                 lambda: other_client.beta.threads.retrieve(thread.id),
                 lambda: other_client.beta.threads.messages.list(thread_id=thread.id),
                 lambda: other_client.files.retrieve(uploaded.id),
                 lambda: other_client.files.content(uploaded.id)):
        with pytest.raises(openai.NotFoundError):
            call()
    assert assistant.id not in [a.id for a in other_client.beta.assistants.list(limit=100).data]


def test_a_forged_principal_header_is_ignored(devhost, anonymous):
    victim = sdk_client(devhost.base_url, OTHER_PRINCIPAL)
    secret = victim.beta.assistants.create(model="gpt-scripted", name="victim's")
    attacker_key = keys.key_for(f"attacker-{uuid.uuid4().hex}")
    forged = {"X-MS-CLIENT-PRINCIPAL-ID": OTHER_PRINCIPAL}
    assert anonymous.get(f"/v1/assistants/{secret.id}", headers=forged).status_code == 401
    as_attacker = anonymous.get(f"/v1/assistants/{secret.id}", headers={**forged, "api-key": attacker_key})
    assert as_attacker.status_code == 404 and error_of(as_attacker)["message"].startswith("No assistant found")


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/v1/nope", 404), ("GET", "/", 404), ("POST", "/openai/nothing/here?api-version=x", 404),
    ("PUT", "/v1/assistants", 405), ("DELETE", "/openai/threads/thread_abc/runs?api-version=" + VERSION, 405),
    ("TRACE", "/v1/assistants", 405), ("PROPFIND", "/v1/assistants", 405), ("TRACE", "/", 405),
    ("PROPFIND", "/openai/assistants?api-version=" + VERSION, 405), ("TRACE", "/playground/", 405),
])
def test_unknown_routes_and_methods_answer_in_the_envelope(anonymous, method, path, status):
    response = anonymous.request(method, path)
    assert response.status_code == status
    assert error_of(response)["message"].startswith("Invalid ")


def test_sdk_shows_the_unknown_route_message(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.get("/no/such/thing", cast_to=object)
    assert "Invalid URL (GET /v1/no/such/thing)" in str(caught.value)


@pytest.mark.parametrize("query", ["", "?api-version=", "?api-version=2023-05-15", "?api-version=%C3%A9",
                                   "?api-version=2024-05-01"])
def test_azure_shape_needs_a_published_api_version(anonymous, query):
    key = keys.key_for(f"versions-{uuid.uuid4().hex}")
    response = anonymous.get(f"/openai/assistants{query}", headers={"api-key": key})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "BadRequest" and error["message"] == "API version not supported"


def test_openapi_document_is_public(anonymous):
    for path in ("/v1/openapi.json", f"/openai/openapi.json?api-version={VERSION}"):
        response = anonymous.get(path)
        assert response.status_code == 200 and "/openai/assistants" in response.json()["paths"]
