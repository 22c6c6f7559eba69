"""The ACA dynamic sessions adapter against a loopback stand-in of the documented REST API."""

from __future__ import annotations

import io
import time
from types import SimpleNamespace

import pytest
from PIL import Image

from tests.code_interpreter.aca_standin import TOKEN, StandInPool
from tests.code_interpreter.conftest import new_session
from tools.code_interpreter import InputFile
from tools.code_interpreter.aca import SCOPE, AcaError, AcaSandbox, _read_reply


class FakeCredential:
    """A TokenCredential that counts how often it is asked."""

    def __init__(self, token: str = TOKEN, lifetime: float = 3600):
        self.token, self.lifetime, self.scopes = token, lifetime, []

    def get_token(self, *scopes, **kwargs):
        self.scopes.append(scopes)
        return SimpleNamespace(token=self.token, expires_on=int(time.time() + self.lifetime))


@pytest.fixture(scope="module")
def pool():
    instance = StandInPool()
    yield instance
    instance.stop()


@pytest.fixture()
def aca(pool):
    credential = FakeCredential()
    sandbox = AcaSandbox(pool.endpoint, credential=credential, timeout_seconds=10)
    sandbox.credential_for_test = credential
    yield sandbox
    sandbox.close()


def test_solves_an_equation_and_asks_for_the_right_token_once(aca, pool):
    session = new_session()
    result = aca.execute(session, "x = (14 - 11) / 3\nprint(f'x = {x}')", [])
    assert (result.logs, result.error, result.images, result.files) == ("x = 1.0\n", None, [], [])
    assert aca.execute(session, "x * 2", []).logs == "2.0\n"  # the last expression's value, from `result`
    assert aca.credential_for_test.scopes == [(SCOPE,)]  # cached between calls
    executes = [q for m, p, q in pool.requests if p == "code/execute" and q["identifier"] == session]
    assert len(executes) == 2 and all(q["api-version"] == "2024-02-02-preview" for q in executes)


def test_inputs_are_uploaded_once_and_outputs_downloaded(aca, pool):
    session = new_session()
    sales_csv = b"region,revenue\nnorth,100\nsouth,80\nnorth,50\n"
    sales = InputFile.of_bytes("../sales.csv", sales_csv)
    code = (
        "import csv\n"
        "rows = list(csv.DictReader(open('/mnt/data/sales.csv')))\n"
        "total = sum(int(r['revenue']) for r in rows if r['region'] == 'north')\n"
        "open('/mnt/data/north.csv', 'w').write(f'region,total\\nnorth,{total}\\n')\n"
        "print(total)\n"
    )
    result = aca.execute(session, code, [sales])
    assert result.error is None and result.logs == "150\n"
    assert [(f.name, f.data) for f in result.files] == [("north.csv", b"region,total\nnorth,150\n")]
    assert (pool.data_dir(session) / "sales.csv").read_bytes() == sales_csv  # hostile name neutralised
    again = aca.execute(session, "print(len(rows))", [sales])
    assert again.logs == "3\n" and again.files == []
    uploads = [q for m, p, q in pool.requests if p == "files/upload" and q["identifier"] == session]
    assert len(uploads) == 1  # the identical input was not sent again


def test_exceptions_become_the_error(aca):
    result = aca.execute(new_session(), "print('before')\n1 / 0", [])
    assert result.logs == "before\n"
    assert result.error.startswith("Traceback (most recent call last):")
    assert result.error.endswith("ZeroDivisionError: division by zero")


def test_open_figures_come_back_as_png(aca):
    pytest.importorskip("matplotlib")
    result = aca.execute(new_session(), (
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "plt.figure(); plt.plot([1, 3, 2]); plt.title('chart')\n"
    ), [])
    assert result.error is None and len(result.images) == 1
    png = result.images[0].data
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1024
    assert Image.open(io.BytesIO(png)).size[0] > 100


def test_sessions_are_separate(aca):
    one, two = new_session(), new_session()
    aca.execute(one, "mine = 1\nopen('/mnt/data/one.txt', 'w').write('1')", [])
    other = aca.execute(two, "import os\nprint(os.listdir('/mnt/data'))\nmine", [])
    assert other.logs.startswith("[]") and "NameError" in other.error


def test_a_call_past_the_timeout_is_reported_and_the_session_reset(pool):
    sandbox = AcaSandbox(pool.endpoint, credential=FakeCredential(), timeout_seconds=0.5)
    sandbox.http_margin_seconds = 0.2
    session = new_session()
    result = sandbox.execute(session, "import time\ntime.sleep(2)", [])
    assert result.error.startswith("timed out after 0.5 s")
    assert session in pool.deleted


def test_service_errors_raise(pool):
    sandbox = AcaSandbox(pool.endpoint, credential=FakeCredential(token="wrong"))
    with pytest.raises(AcaError, match="401"):
        sandbox.execute(new_session(), "1", [])


def test_the_newer_response_shape_and_image_results_are_read():
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 10
    import base64

    logs, error, images = _read_reply({
        "status": "Succeeded",
        "result": {"stdout": "out\n", "stderr": "warn\n", "executionResult": {"type": "image", "format": "png",
                                                                          "base64_data": base64.b64encode(png).decode()}},
    })
    assert (logs, error, images) == ("out\nwarn\n", None, [png])
    logs, error, images = _read_reply({"properties": {"status": "Failure", "stdout": "", "stderr": "",
                                                      "result": "NameError: name 'y' is not defined"}})
    assert error == "NameError: name 'y' is not defined" and logs == ""


def test_busy_answers_are_retried_but_code_never_runs_twice(aca, pool):
    """azure-core's retries: a listing is retried on 503, an execution on 429 (the pool did not take
    it), but an execution answered 500 or 503 is not sent again: it may have run."""
    session = new_session()
    pool.faults[("GET", "files")] = [503, 503]
    pool.faults[("POST", "code/execute")] = [429]
    assert aca.execute(session, "counter = 1\ncounter", []).logs == "1\n"
    executions = [r for r in pool.requests if r[:2] == ("POST", "code/execute") and r[2]["identifier"] == session]
    assert len(executions) == 2  # the 429, then the one that ran
    for status in (500, 503):
        pool.faults[("POST", "code/execute")] = [status]
        with pytest.raises(AcaError, match=str(status)):
            aca.execute(session, "counter += 1", [])
    assert aca.execute(session, "counter", []).logs == "1\n"  # neither refused execution ran


def test_a_busy_upload_is_not_sent_again_with_a_spent_body(aca, pool):
    session = new_session()
    pool.faults[("POST", "files/upload")] = [429]
    with pytest.raises(AcaError, match="429"):
        aca.execute(session, "1", [InputFile.of_bytes("data.csv", b"a,b\n1,2\n")])
    uploads = [r for r in pool.requests if r[:2] == ("POST", "files/upload") and r[2]["identifier"] == session]
    assert len(uploads) == 1
