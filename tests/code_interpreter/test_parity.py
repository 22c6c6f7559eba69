"""The local sandbox and the sessions pool run the code a model writes alike: as Jupyter runs a cell
(IPython), so `display`, `!` lines, magics and `_` work in both. The same cells, the same results,
on each local isolation and on the pool's stand-in (whose sessions are IPython, as ACA's are)."""

from __future__ import annotations

import pytest

from tests.code_interpreter.aca_standin import StandInPool
from tests.code_interpreter.conftest import new_session
from tests.code_interpreter.test_aca import FakeCredential
from tools.code_interpreter.aca import AcaSandbox

CELLS = [  # (code, logs, what the error holds)
    ("x = 20\nx + 22", "42\n", None),
    ("display({'a': 1})\nprint('after')", "{'a': 1}\nafter\n", None),
    ("!echo hello from the shell", "hello from the shell\n", None),
    ("%%writefile /mnt/data/notes.txt\nwritten by a magic\n", "Writing /mnt/data/notes.txt\n", None),
    ("open('/mnt/data/notes.txt').read()", "'written by a magic\\n'\n", None),
    ("_.upper()", "'WRITTEN BY A MAGIC\\n'\n", None),
    ("x * 2;", "", None),
    ("class Table:\n    def __repr__(self):\n        return '  a\\n0 1\\n1 2'\nTable()", "  a\n0 1\n1 2\n", None),
    ("files = !ls /mnt/data\nprint(files)", "['notes.txt']\n", None),
    ("def f():\n    return 1 / 0\nf()", "", "Traceback (most recent call last):"),
    ("1 +", "", "SyntaxError: invalid syntax"),
]


@pytest.fixture(scope="module", params=["bwrap", "none", "aca"])
def sandbox(request, make_sandbox):
    if request.param != "aca":
        yield make_sandbox(request.param)
        return
    pool = StandInPool()
    aca = AcaSandbox(pool.endpoint, credential=FakeCredential(), timeout_seconds=20)
    yield aca
    aca.close()
    pool.stop()


def test_cells_run_as_in_a_notebook(sandbox):
    session = new_session()
    for code, logs, error in CELLS:
        result = sandbox.execute(session, code, [])
        assert result.logs == logs, (code, result.logs, result.error)
        if error is None:
            assert result.error is None, (code, result.error)
        else:
            assert error in result.error, (code, result.error)
    names = [file.name for file in sandbox.execute(session, "%%writefile /mnt/data/more.txt\nmore\n", []).files]
    assert names == ["more.txt"]  # a file a magic wrote comes back like any other


def test_errors_show_the_cells_own_lines_only(sandbox):
    result = sandbox.execute(new_session(), "def f():\n    return 1 / 0\nf()", [])
    assert 'File "<cell 1>", line 3' in result.error and "return 1 / 0" in result.error
    assert "interactiveshell" not in result.error and "kernel.py" not in result.error
    assert result.error.rstrip().endswith("ZeroDivisionError: division by zero")
