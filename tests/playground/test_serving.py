"""The playground's files, served by the app: types, caching, security headers, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2 as httpx
import pytest

from api import playground
from devhost.launcher import playground_url
from tests.support.devhost_proc import ROOT


@pytest.fixture(scope="module")
def web(page_url):
    with httpx.Client(base_url=page_url, timeout=30) as session:
        yield session


def test_the_page_and_its_modules_are_served_with_their_types(web, page_url):
    page = web.get("")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="main.mjs">' in page.text
    for name in ("main.mjs", "sse.mjs", "run_state.mjs", "api.mjs", "chat.mjs", "views.mjs"):
        module = web.get(name)
        assert module.status_code == 200 and module.headers["content-type"].startswith("text/javascript"), name
    assert web.get("style.css").headers["content-type"] == "text/css; charset=utf-8"
    assert web.get("icon.svg").headers["content-type"] == "image/svg+xml"


def test_security_headers_keep_the_page_to_its_own_origin(web):
    headers = web.get("").headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"


def test_revalidation_with_the_etag_answers_304(web):
    first = web.get("app-missing.mjs")
    assert first.status_code == 404
    page = web.get("main.mjs")
    assert page.headers["cache-control"] == "no-cache"
    again = web.get("main.mjs", headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_the_folder_without_its_slash_redirects_so_relative_urls_work(page_url):
    bare = page_url.rstrip("/")
    response = httpx.get(bare, follow_redirects=False, timeout=30)
    assert response.status_code == 301 and response.headers["location"].endswith("/playground/")


@pytest.mark.parametrize("path", ["../host.json", "..%2fhost.json", "%2e%2e/function_app.py", ".hidden.js",
                                  "sub/../../host.json", "index.html%00.js", "README.md", "nope.html"])
def test_nothing_outside_the_folder_or_of_another_type_is_served(web, path):
    response = web.get(path)
    assert response.status_code in (404, 400), (path, response.status_code)
    assert b"DFApp" not in response.content and b"extensionBundle" not in response.content


def test_other_methods_get_the_error_envelope(web):
    response = web.post("", content=b"x")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_asset_names_are_decided_without_touching_the_disk():
    assert playground.asset_name("") == "index.html"
    assert playground.asset_name("/style.css") == "style.css"
    for bad in ("../x.js", "a/../../x.js", "..\\x.js", ".env.js", "x.py", "a\x00.js", "./x.js"):
        assert playground.asset_name(bad) is None, bad


def test_no_secret_and_nothing_from_another_origin_in_the_page():
    for file in (ROOT / "playground").iterdir():
        text = file.read_text(encoding="utf-8")
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text, file.name
        assert "Bearer sk" not in text and "api_key" not in text.lower().replace("apikey", ""), file.name


def test_the_folder_ships_in_the_deploy_package():
    ignored = [line.strip().rstrip("/") for line in (ROOT / ".funcignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    assert "playground" not in ignored
    assert all(playground.asset_name(file.name) for file in (ROOT / "playground").iterdir()), \
        "every file in playground/ is of a type the trigger serves"


def test_the_playground_url_follows_the_route_prefix(tmp_path: Path):
    for prefix, expected in (("", "http://h:1/playground/"), ("v1", "http://h:1/v1/playground/"), (None, "http://h:1/api/playground/")):
        host = {"version": "2.0", "extensions": {"http": {"routePrefix": prefix}} if prefix is not None else {}}
        (tmp_path / "host.json").write_text(json.dumps(host))
        assert playground_url("http://h:1/", tmp_path / "host.json") == expected
