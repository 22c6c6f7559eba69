"""The two other ways in, each on a devhost of its own: App Service Authentication, and local loopback.

The platform's part (validating the Entra token, stripping a caller's own
X-MS-* headers, then setting them) is played by the test, as the platform
would; what is under test is that the app trusts them only in that mode.
"""

from __future__ import annotations

import base64
import json
import uuid

import httpx2 as httpx
import openai
import pytest

from tests.conftest import devhost_env
from tests.support import keys
from tests.support.devhost_proc import ROOT, DevhostProcess

ROLE = "Assistants.User"


def platform_headers(object_id: str, *roles: str) -> dict:
    claims = {"auth_typ": "aad", "role_typ": "roles", "claims": [{"typ": "roles", "val": r} for r in roles]}
    return {"X-MS-CLIENT-PRINCIPAL-ID": object_id,
            "X-MS-CLIENT-PRINCIPAL": base64.b64encode(json.dumps(claims).encode()).decode(),
            "Authorization": "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.entra.token"}


@pytest.fixture(scope="module")
def platform_host(azurite, scripted, tmp_path_factory):
    """As in Azure with App Service Authentication on and an app role required (local mode asked for, ignored)."""
    env = devhost_env(azurite, scripted, WEBSITE_AUTH_ENABLED="True", WEBSITE_SITE_NAME="assistants-test",
                      AUTH_REQUIRED_ROLE=ROLE, AUTH_LOCAL_ANONYMOUS="true")
    process = DevhostProcess(ROOT, env, tmp_path_factory.mktemp("platform") / "devhost.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def local_host(azurite, scripted, tmp_path_factory):
    """As `make run` on loopback starts it."""
    env = devhost_env(azurite, scripted, AUTH_LOCAL_ANONYMOUS="true")
    process = DevhostProcess(ROOT, env, tmp_path_factory.mktemp("local") / "devhost.log").start()
    yield process
    process.stop()


def test_platform_principal_with_the_role_owns_its_objects(platform_host):
    alice, bob = f"oid-{uuid.uuid4()}", f"oid-{uuid.uuid4()}"
    as_alice = openai.AzureOpenAI(azure_endpoint=platform_host.root_url, api_version="2024-05-01-preview",
                                  azure_ad_token_provider=lambda: "entra-token", max_retries=0,
                                  default_headers={k: v for k, v in platform_headers(alice, ROLE).items()
                                                   if k != "Authorization"})
    made = as_alice.beta.assistants.create(model="gpt-scripted", name="alice's")
    assert as_alice.beta.assistants.retrieve(made.id).name == "alice's"
    with httpx.Client(base_url=platform_host.root_url, timeout=30) as http:
        as_bob = http.get(f"/v1/assistants/{made.id}", headers=platform_headers(bob, ROLE))
        assert as_bob.status_code == 404
        without_role = http.get("/v1/assistants", headers=platform_headers(alice, "Other.Role"))
        assert without_role.status_code == 403 and without_role.json()["error"]["code"] == "principal_not_allowed"
        unauthenticated = http.get("/v1/assistants", headers={"Authorization": "Bearer not-validated"})
        assert unauthenticated.status_code == 401  # platform set nothing; local mode is ignored in Azure
        with_key = http.get("/v1/assistants", headers={"api-key": keys.key_for(alice)})
        assert [a["id"] for a in with_key.json()["data"]] == [made.id]  # a key bound to the same principal


def test_local_loopback_needs_no_key_and_keys_keep_their_principal(local_host):
    placeholder = openai.OpenAI(base_url=local_host.base_url, api_key="local", max_retries=0)
    mine = placeholder.beta.assistants.create(model="gpt-scripted", name=f"local-{uuid.uuid4().hex}")
    with httpx.Client(base_url=local_host.root_url, timeout=30) as http:
        listed = http.get("/v1/assistants", params={"limit": 100}).json()["data"]
        assert mine.id in [a["id"] for a in listed]
        forged = http.get(f"/v1/assistants/{mine.id}", headers={"X-MS-CLIENT-PRINCIPAL-ID": "someone-else"})
        assert forged.status_code == 200  # the header means nothing here: still the local principal
    keyed = openai.OpenAI(base_url=local_host.base_url, api_key=keys.key_for(f"keyed-{uuid.uuid4().hex}"))
    with pytest.raises(openai.NotFoundError):
        keyed.beta.assistants.retrieve(mine.id)


# -- what a foreign web page could make the developer's browser send to `make run` -----------------

EVIL = "http://evil.example"


def _assistant_names(http) -> list[str]:
    return [a["name"] for a in http.get("/v1/assistants", params={"limit": 100}).json()["data"]]


@pytest.mark.parametrize("headers", [
    {"Origin": EVIL, "Content-Type": "application/json"},
    {"Origin": "null", "Content-Type": "application/json"},
    {"Content-Type": "text/plain"},  # a "simple" cross-site request needs no preflight
    {"Content-Type": "application/x-www-form-urlencoded"},
])
def test_a_foreign_page_cannot_create_through_the_loopback_principal(local_host, headers):
    name = f"csrf-{uuid.uuid4().hex}"
    with httpx.Client(base_url=local_host.root_url, timeout=30) as http:
        refused = http.post("/v1/assistants", content=json.dumps({"model": "gpt-scripted", "name": name}),
                            headers=headers)
        assert refused.status_code in (400, 403), refused.text
        assert set(refused.json()["error"]) == {"message", "type", "param", "code"}
        assert name not in _assistant_names(http)


def test_dns_rebinding_gets_no_data(local_host):
    placeholder = openai.OpenAI(base_url=local_host.base_url, api_key="local", max_retries=0)
    secret = placeholder.beta.assistants.create(model="gpt-scripted", name=f"secret-{uuid.uuid4().hex}")
    with httpx.Client(base_url=local_host.root_url, timeout=30) as http:
        port = local_host.root_url.rsplit(":", 1)[1]
        rebound = http.get("/v1/assistants", headers={"Host": f"rebind.evil.example:{port}"})
        assert rebound.status_code == 403 and rebound.json()["error"]["code"] == "host_not_allowed"
        assert secret.id not in rebound.text
        for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
            assert secret.id in http.get("/v1/assistants", params={"limit": 100}, headers={"Host": host}).text
        same_origin = http.post("/v1/assistants", json={"model": "gpt-scripted", "name": "from the playground"},
                                headers={"Origin": local_host.root_url})
        assert same_origin.status_code == 200


def test_a_foreign_page_cannot_spend_the_model_or_upload(local_host, scripted):
    with httpx.Client(base_url=local_host.root_url, timeout=30) as http:
        before = len(scripted.client.requests())
        chat = http.post("/v1/chat/completions", headers={"Origin": EVIL, "Content-Type": "text/plain"},
                         content=json.dumps({"model": "gpt-scripted", "messages": [{"role": "user", "content": "hi"}]}))
        assert chat.status_code == 403
        upload = http.post("/v1/files", headers={"Origin": EVIL}, data={"purpose": "assistants"},
                           files={"file": ("x.txt", b"planted", "text/plain")})
        assert upload.status_code == 403
        assert len(scripted.client.requests()) == before
        assert "x.txt" not in http.get("/v1/files").text


def test_keys_are_not_ambient_so_keyed_calls_from_any_origin_are_served(local_host):
    key = keys.key_for(f"keyed-{uuid.uuid4().hex}")
    with httpx.Client(base_url=local_host.root_url, timeout=30) as http:
        keyed = http.post("/v1/assistants", json={"model": "gpt-scripted"},
                          headers={"Origin": EVIL, "Authorization": f"Bearer {key}"})
        assert keyed.status_code == 200
