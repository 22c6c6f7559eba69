"""Who is calling (core/identity.py), the 404/405 rule (api/fallback.py) and api-version (api/api_versions.py)."""

from __future__ import annotations

import base64
import json

import pytest

from api import api_versions
from api.fallback import unmatched
from api.routing import OPERATIONS
from core import api_keys
from core.errors import Forbidden, InvalidRequest, Unauthorized
from core.identity import AuthConfig, authenticate, presented_key, roles

GOOD = api_keys.new_key()
REVOKED = api_keys.new_key()
KEYS = {GOOD: "alice"}


def lookup(key: str) -> str | None:
    return KEYS.get(key)


def principal_header(*role_values: str) -> str:
    doc = {"auth_typ": "aad", "claims": [{"typ": "roles", "val": r} for r in role_values], "role_typ": "roles"}
    return base64.b64encode(json.dumps(doc).encode()).decode()


def who(headers: dict, **config) -> tuple[str, str]:
    caller = authenticate({k.lower(): v for k, v in headers.items()}, AuthConfig(**config), lookup)
    return caller.principal, caller.via


def test_issued_key_in_either_header_is_its_principal():
    assert who({"api-key": GOOD}) == ("alice", "key")
    assert who({"Authorization": f"Bearer {GOOD}"}) == ("alice", "key")
    assert who({"Authorization": f"bearer   {GOOD}  "}) == ("alice", "key")


@pytest.mark.parametrize("config", [{}, {"platform_auth": True}, {"local_anonymous": True}])
def test_unknown_or_revoked_issued_key_is_401_in_every_mode(config):
    with pytest.raises(Unauthorized) as caught:
        who({"api-key": REVOKED}, **config)
    assert caught.value.status == 401 and caught.value.code == "invalid_api_key"
    assert REVOKED not in caught.value.message  # never echo a secret back


def test_nothing_presented_is_401_with_openai_words():
    with pytest.raises(Unauthorized) as caught:
        who({})
    assert caught.value.envelope()["error"]["type"] == "invalid_request_error"
    assert "You didn't provide an API key" in caught.value.message


def test_foreign_key_is_401_when_not_local():
    with pytest.raises(Unauthorized) as caught:
        who({"Authorization": "Bearer sk-not-ours-at-all"})
    assert caught.value.code == "invalid_api_key"


def test_forged_principal_header_is_ignored_without_platform_auth():
    with pytest.raises(Unauthorized):
        who({"X-MS-CLIENT-PRINCIPAL-ID": "victim"})
    assert who({"X-MS-CLIENT-PRINCIPAL-ID": "victim", "api-key": GOOD}) == ("alice", "key")
    assert who({"X-MS-CLIENT-PRINCIPAL-ID": "victim"}, local_anonymous=True) == ("local", "local")


def test_platform_principal_is_trusted_only_with_platform_auth():
    assert who({"X-MS-CLIENT-PRINCIPAL-ID": "oid-1", "Authorization": "Bearer eyJ.entra.jwt"},
               platform_auth=True) == ("oid-1", "platform")
    with pytest.raises(Unauthorized):  # the platform set nothing: its token was not valid
        who({"Authorization": "Bearer eyJ.entra.jwt"}, platform_auth=True)


def test_platform_principals_can_be_limited_to_a_list_or_an_app_role():
    allowed = {"platform_auth": True, "allowed_principals": frozenset({"oid-1"})}
    assert who({"X-MS-CLIENT-PRINCIPAL-ID": "OID-1"}, **allowed)[0] == "OID-1"
    with pytest.raises(Forbidden) as caught:
        who({"X-MS-CLIENT-PRINCIPAL-ID": "oid-2"}, **allowed)
    assert caught.value.status == 403
    role = {"platform_auth": True, "required_role": "Assistants.User"}
    assert who({"X-MS-CLIENT-PRINCIPAL-ID": "oid-3", "X-MS-CLIENT-PRINCIPAL": principal_header("Assistants.User")},
               **role)[0] == "oid-3"
    for header in (principal_header("Other"), "not base64 json!", None):
        with pytest.raises(Forbidden):
            who({"X-MS-CLIENT-PRINCIPAL-ID": "oid-3", **({"X-MS-CLIENT-PRINCIPAL": header} if header else {})}, **role)


def test_local_mode_accepts_the_sdk_placeholder_key_but_issued_keys_keep_their_principal():
    assert who({"Authorization": "Bearer local"}, local_anonymous=True) == ("local", "local")
    assert who({}, local_anonymous=True) == ("local", "local")
    assert who({"api-key": GOOD}, local_anonymous=True) == ("alice", "key")


def test_presented_key_and_roles_parsing():
    assert presented_key({"authorization": "Basic abc"}) is None
    assert presented_key({"api-key": " k ", "authorization": "Bearer other"}) == "k"
    assert roles(principal_header("a", "b")) == {"a", "b"}
    assert roles("") == frozenset()


def test_keys_are_long_random_and_stored_as_their_hash():
    first, second = api_keys.new_key(), api_keys.new_key()
    assert first != second and api_keys.looks_like_key(first) and len(first) > 40
    assert api_keys.key_hash(first) != first and len(api_keys.key_hash(first)) == 64
    assert not api_keys.looks_like_key("aib-short") and not api_keys.looks_like_key("sk-" + "x" * 40)
    assert first[-4:] in api_keys.hint(first) and first not in api_keys.hint(first)


@pytest.mark.parametrize("version", api_versions.ASSISTANTS_VERSIONS + api_versions.MODEL_ONLY_VERSIONS)
def test_every_published_version_is_accepted(version):
    api_versions.check(version)


@pytest.mark.parametrize("version", [None, "", "2024-05-01", "2023-05-15", "latest", "2024-05-01-preview ", "é"])
def test_other_versions_get_azures_400(version):
    with pytest.raises(InvalidRequest) as caught:
        api_versions.check(version)
    assert caught.value.status == 400 and caught.value.code == "BadRequest"
    assert caught.value.message == "API version not supported"


def test_unknown_route_is_404_and_known_route_with_another_method_is_405():
    import function_app  # noqa: F401  (declares the operations)

    assert unmatched("GET", "/v1/nope", OPERATIONS).status == 404
    assert unmatched("GET", "/v1/nope", OPERATIONS).message == "Invalid URL (GET /v1/nope)"
    assert unmatched("PUT", "/v1/assistants", OPERATIONS).status == 405
    assert unmatched("PATCH", "/openai/threads/thread_x/runs", OPERATIONS).status == 405
    assert unmatched("GET", "/openai/deployments/gpt/chat/completions", OPERATIONS).status == 405
    assert unmatched("GET", "/", OPERATIONS).status == 404
