"""The local sandbox through the Sandbox interface, with bubblewrap and without: running code, inputs, outputs."""

from __future__ import annotations

import hashlib
import io
import time

import pytest
from PIL import Image

from tests.code_interpreter.conftest import new_session
from tools.code_interpreter import Execution, InputFile

SALES_CSV = b"region,month,revenue\nnorth,1,100\nnorth,2,150\nsouth,1,80\nsouth,2,120\neast,1,60\n"


def test_solves_a_linear_equation_with_sympy(sandbox):
    result = sandbox.execute(new_session(), (
        "from sympy import symbols, Eq, solve\n"
        "x = symbols('x')\n"
        "solution = solve(Eq(3*x + 11, 14), x)[0]\n"
        "print(f'x = {float(solution)}')\n"
    ), [])
    assert result == Execution(logs="x = 1.0\n", error=None, images=[], files=[])


def test_last_expression_is_shown_like_a_notebook_cell(sandbox):
    session = new_session()
    assert sandbox.execute(session, "x = (14 - 11) / 3\nx", []).logs == "1.0\n"
    assert sandbox.execute(session, "x;", []).logs == ""  # a trailing semicolon hides it, as in Jupyter
    assert sandbox.execute(session, "None", []).logs == ""


def test_csv_analysis_over_an_input_file(sandbox):
    result = sandbox.execute(new_session(), (
        "import pandas as pd\n"
        "df = pd.read_csv('/mnt/data/sales.csv')\n"
        "totals = df.groupby('region')['revenue'].sum()\n"
        "print(totals.to_dict())\n"
        "print('best:', totals.idxmax())\n"
    ), [InputFile.of_bytes("sales.csv", SALES_CSV)])
    assert result.error is None
    assert result.logs == "{'east': 60, 'north': 250, 'south': 200}\nbest: north\n"
    assert result.files == []  # the input is not an output


def test_matplotlib_figures_come_back_as_png(sandbox):
    result = sandbox.execute(new_session(), (
        "import matplotlib.pyplot as plt\n"
        "plt.plot([1, 2, 3], [3, 1, 2]); plt.title('shown')\n"
        "plt.show()\n"
        "fig, ax = plt.subplots(); ax.bar(['a', 'b'], [3, 4]); ax.set_title('left open')\n"
    ), [])
    assert result.error is None
    assert len(result.images) == 2
    for image in result.images:
        assert image.data.startswith(b"\x89PNG\r\n\x1a\n") and len(image.data) > 1024
        decoded = Image.open(io.BytesIO(image.data))
        decoded.load()
        assert decoded.format == "PNG" and decoded.size[0] > 100 and decoded.size[1] > 100
    assert result.files == []


@pytest.mark.parametrize("shown", [
    "display(fig)\nplt.close(fig)",  # displayed, then closed: still returned
    "display(fig)",  # displayed and left open: returned once, not again at the end of the cell
    "fig",  # the cell's value
])
def test_a_figure_the_code_displays_comes_back_once_as_png(sandbox, shown):
    result = sandbox.execute(new_session(), (
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots(); ax.plot([1, 3, 2])\n" + shown
    ), [])
    assert result.error is None, result.error
    assert result.logs == ""  # the image, not "<Figure size 640x480 with 1 Axes>"
    assert len(result.images) == 1 and result.images[0].data.startswith(b"\x89PNG\r\n\x1a\n")


def test_a_value_with_an_image_is_shown_as_the_image(sandbox):
    result = sandbox.execute(new_session(), "from PIL import Image\nImage.new('RGB', (8, 6), 'red')", [])
    assert result.error is None and result.logs == ""
    [image] = result.images
    assert Image.open(io.BytesIO(image.data)).size == (8, 6)


def test_figures_are_closed_after_they_are_returned(sandbox):
    session = new_session()
    first = sandbox.execute(session, "import matplotlib.pyplot as plt\nplt.plot([1, 2])", [])
    assert len(first.images) == 1
    assert sandbox.execute(session, "len(plt.get_fignums())", []).logs == "0\n"


def test_a_created_csv_comes_back_in_files_with_its_bytes(sandbox):
    session = new_session()
    result = sandbox.execute(session, (
        "import pandas as pd\n"
        "df = pd.read_csv('/mnt/data/sales.csv')\n"
        "df[df.revenue > 90].to_csv('/mnt/data/big_sales.csv', index=False)\n"
    ), [InputFile.of_bytes("sales.csv", SALES_CSV)])
    assert result.error is None
    assert [f.name for f in result.files] == ["big_sales.csv"]
    assert result.files[0].data == b"region,month,revenue\nnorth,1,100\nnorth,2,150\nsouth,2,120\n"
    # a later call that does not touch it does not return it again; one that changes it does
    assert sandbox.execute(session, "print('nothing written')", []).files == []
    changed = sandbox.execute(session, "open('/mnt/data/big_sales.csv', 'a').write('west,3,1\\n')", [])
    assert [f.name for f in changed.files] == ["big_sales.csv"]
    assert changed.files[0].data.endswith(b"south,2,120\nwest,3,1\n")


def test_state_persists_within_a_session_and_not_across(sandbox):
    one, two = new_session(), new_session()
    assert sandbox.execute(one, "secret = 42\nimport json\nopen('/mnt/data/mine.txt', 'w').write('one')", []).error is None
    assert sandbox.execute(one, "print(secret, json.dumps([1]), open('/mnt/data/mine.txt').read())", []).logs == "42 [1] one\n"
    other = sandbox.execute(two, "print(secret)", [])
    assert other.error is not None and "NameError" in other.error
    assert sandbox.execute(two, "import os\nos.path.exists('/mnt/data/mine.txt')", []).logs == "False\n"


def test_an_exception_is_the_error_with_its_traceback(sandbox):
    result = sandbox.execute(new_session(), "print('before')\ndef f():\n    return 1 / 0\nf()\n", [])
    assert result.logs == "before\n"
    assert result.error.startswith("Traceback (most recent call last):")
    assert 'File "<cell 1>", line 4' in result.error and "return 1 / 0" in result.error
    assert result.error.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "kernel.py" not in result.error


def test_syntax_errors_and_exit_are_errors_and_the_session_goes_on(sandbox):
    session = new_session()
    assert sandbox.execute(session, "kept = 1", []).error is None
    assert "SyntaxError" in sandbox.execute(session, "def (:", []).error
    assert "SystemExit" in sandbox.execute(session, "import sys; sys.exit(3)", []).error
    assert sandbox.execute(session, "kept", []).logs == "1\n"


def test_stdout_and_stderr_interleave_in_order(sandbox):
    result = sandbox.execute(new_session(), (
        "import sys, os\n"
        "print('one'); print('two', file=sys.stderr); print('three')\n"
        "os.system('echo four-from-a-subprocess')\n"
        "print('five')\n"
    ), [])
    assert result.logs == "one\ntwo\nthree\nfour-from-a-subprocess\nfive\n"


def test_huge_output_is_capped_with_a_note(sandbox):
    result = sandbox.execute(new_session(), "for i in range(200_000): print(f'line {i}')", [])
    assert len(result.logs) < 21_000
    assert "output truncated" in result.logs
    assert result.logs.startswith("line 0\nline 1\n")
    assert result.logs.rstrip().endswith("line 199999")


def test_secret_settings_never_reach_the_sandbox(sandbox, monkeypatch):
    secrets = {
        "OPENAI_API_KEY": "sk-should-not-leak",
        "AZURE_OPENAI_API_KEY": "azure-should-not-leak",
        "AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountKey=should-not-leak",
        "SEND_EMAIL_LOGIC_APP_URL": "https://logic.example/should-not-leak",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    result = sandbox.execute(new_session(), (
        "import os\n"
        "print(sorted(os.environ))\n"
        "print(open('/proc/self/environ', 'rb').read().decode(errors='replace'))\n"
    ), [])
    assert result.error is None
    for name, value in secrets.items():
        assert name not in result.logs and value not in result.logs
    assert "HOME" in result.logs and "MPLBACKEND" in result.logs


def test_identical_inputs_are_not_rewritten_and_changed_ones_are(sandbox):
    session = new_session()
    stat = "import os\nst = os.stat('/mnt/data/in.txt'); print(st.st_ino, st.st_mtime_ns)"
    first = sandbox.execute(session, stat, [InputFile.of_bytes("in.txt", b"v1")]).logs
    time.sleep(0.02)
    assert sandbox.execute(session, stat, [InputFile.of_bytes("in.txt", b"v1")]).logs == first
    assert sandbox.execute(session, "open('/mnt/data/in.txt').read()", [InputFile.of_bytes("in.txt", b"v2")]).logs == "'v2'\n"


def test_links_and_fifos_the_code_leaves_cannot_reach_host_files(sandbox, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("host secret")
    session = new_session()
    result = sandbox.execute(session, (
        "import os\n"
        f"os.symlink({str(victim)!r}, '/mnt/data/data.csv')\n"
        f"os.symlink({str(victim)!r}, '/mnt/data/leak.txt')\n"
        "os.mkfifo('/mnt/data/pipe')\n"
    ), [])
    assert result.error is None
    assert result.files == []  # neither the links nor the FIFO are read back
    # an input of the same name replaces the link instead of writing through it
    after = sandbox.execute(session, "print(open('/mnt/data/data.csv').read())", [InputFile.of_bytes("data.csv", b"input")])
    assert after.logs == "input\n"
    assert victim.read_text() == "host secret"


@pytest.mark.parametrize("hostile, expected", [
    ("../../etc/passwd", "passwd"),
    ("/mnt/data/../../escape.txt", "escape.txt"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("..", "file"),
    ("", "file"),
    ("a\x00b\nc.csv", "abc.csv"),
    ("\u202etxt.exe", "txt.exe"),
])
def test_hostile_input_names_stay_inside_mnt_data(sandbox, hostile, expected):
    session = new_session()
    marker = session.encode()
    result = sandbox.execute(session, "import os\nprint(sorted(os.listdir('/mnt/data')))", [InputFile.of_bytes(hostile, marker)])
    assert result.logs == f"[{expected!r}]\n"
    # unisolated, the one copy is in a session's data directory under the sandbox root; under
    # bubblewrap it is in the session's own tmpfs, so nowhere on the host's disk
    copies = [p for p in sandbox.root.rglob("*") if p.is_file() and p.read_bytes() == marker]
    assert [(p.name, p.parent.name) for p in copies] == ([] if sandbox.isolated else [(expected, "data")])


def test_inputs_are_streamed_in_chunks_and_fetched_only_when_the_session_lacks_them(sandbox):
    chunk = bytes(range(256)) * 4096  # 1 MiB
    opened = []

    def open_stream():
        opened.append(1)
        return 5 * len(chunk), (chunk for _ in range(5))

    big = InputFile("big.bin", "file-abc", open_stream)
    session = new_session()
    digest = "import hashlib\nprint(hashlib.sha256(open('/mnt/data/big.bin', 'rb').read()).hexdigest())"
    result = sandbox.execute(session, digest, [big])
    assert result.error is None and result.logs.strip() == hashlib.sha256(chunk * 5).hexdigest()
    assert sandbox.execute(session, "1", [big]).logs == "1\n" and len(opened) == 1  # held: not fetched again
    # the code changed it: the next call writes the input again
    sandbox.execute(session, "open('/mnt/data/big.bin', 'ab').write(b'x')", [big])
    assert sandbox.execute(session, "import os\nos.path.getsize('/mnt/data/big.bin')", [big]).logs == f"{5 * len(chunk)}\n"
    assert len(opened) == 2


def test_an_input_that_cannot_be_had_is_a_note_and_the_code_still_runs(sandbox):
    from tools.code_interpreter import InputUnavailable

    def gone():
        raise InputUnavailable("file file-gone was deleted")

    result = sandbox.execute(new_session(), "print('ran')", [InputFile("gone.csv", "file-gone", gone)])
    assert result.error is None
    assert result.logs == "ran\n[input 'gone.csv' not written: file file-gone was deleted]"
