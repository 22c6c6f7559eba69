"""FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: devhost refuses larger bodies with 413, as the host does."""

import httpx2 as httpx
import pytest

from tests.conftest import devhost_env
from tests.devhost.conftest import BODY_LIMIT
from tests.support import keys
from tests.support.devhost_proc import ROOT, DevhostProcess


def test_body_limit_from_content_length_and_while_streaming(sample_host):
    url = f"{sample_host.process.base_url}/things/books/1"
    with httpx.Client(timeout=30) as http:
        assert http.post(url, content=b"x" * BODY_LIMIT).json()["body_len"] == BODY_LIMIT
        assert http.post(url, content=b"x" * (BODY_LIMIT + 1)).status_code == 413  # refused from Content-Length
        # No Content-Length (chunked): refused once the body grows past the limit, before the function runs.
        chunked = http.post(url, content=iter([b"x" * 16384] * (BODY_LIMIT // 16384 + 1)))
        assert chunked.status_code == 413
        assert http.post(url, content=iter([b"x" * 1000, b"y" * 24])).json()["body_len"] == 1024
        # The Durable API sits behind the same limit.
        assert http.post(f"{sample_host.process.root_url}/runtime/webhooks/durabletask/orchestrators/sequence",
                         content=b"1" * (BODY_LIMIT + 1)).status_code == 413
    # The host invokes nothing for a refused body: only the accepted requests were invocations.
    invocations = [line for line in sample_host.process.log().splitlines() if "Functions.get_thing" in line]
    assert len(invocations) == 2 and all("Succeeded" in line for line in invocations)


@pytest.fixture(scope="module")
def limited_product_host(azurite, scripted, tmp_path_factory):
    env = devhost_env(azurite, scripted, FUNCTIONS_REQUEST_BODY_SIZE_LIMIT=str(BODY_LIMIT))
    process = DevhostProcess(ROOT, env, tmp_path_factory.mktemp("limit") / "devhost.log").start()
    yield process
    process.stop()


FORM_HEAD = (b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
             b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n')


@pytest.mark.parametrize("path, content_type, head", [
    ("assistants", "application/json", b""),  # the app reads the whole body
    ("files", "multipart/form-data; boundary=b", FORM_HEAD),  # the app parses the form as it streams
])
def test_a_chunked_body_over_the_limit_is_413_even_when_the_app_answers(limited_product_host, path, content_type,
                                                                       head):
    """The product app turns any failure into its own 500 envelope; the host's refusal still wins."""
    key = keys.key_for("body-limit")  # the product app requires a key, as deployed
    with httpx.Client(base_url=limited_product_host.base_url, timeout=30,
                      headers={"Authorization": f"Bearer {key}"}) as http:
        chunks = iter([head] + [b"x" * 16384] * (BODY_LIMIT // 16384 + 1))
        response = http.post(f"/{path}", content=chunks, headers={"Content-Type": content_type})
        assert response.status_code == 413
        assert http.post(f"/{path}", content=head + b"x" * (BODY_LIMIT + 1),
                         headers={"Content-Type": content_type}).status_code == 413
        assert http.post("/assistants", json={"model": "m"}).status_code == 200  # the host serves on
