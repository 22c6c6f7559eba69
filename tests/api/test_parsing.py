"""Request parsing that needs no server: multipart framing and OpenAI's `param` paths."""

import pytest

from api import multipart
from api.errors import from_validation
from core.errors import InvalidRequest


def test_multipart_parts_are_views_into_the_body():
    body = (b"--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n"
            b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\\\dir\\\\a \\\"q\\\".txt\"\r\n"
            b"Content-Type: text/plain\r\n\r\nline1\r\n--b-not-the-end\r\n--b--\r\n")
    parts = multipart.parse(body, 'multipart/form-data; boundary="b"')
    assert parts["purpose"].text() == "assistants"
    assert parts["file"].filename == 'C:\\dir\\a "q".txt' and parts["file"].content_type == "text/plain"
    assert bytes(parts["file"].data) == b"line1\r\n--b-not-the-end"
    assert parts["file"].data.obj is body  # no copy of the upload


@pytest.mark.parametrize("body", [b"", b"--b\r\n", b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--",
                                  b"no boundary here"])
def test_malformed_multipart_is_a_400(body):
    with pytest.raises(InvalidRequest):
        multipart.parse(body, "multipart/form-data; boundary=b")


def test_param_paths_skip_union_tags():
    data = {"tools": [{"type": "function", "function": {"name": "bad name"}}]}
    error = {"type": "string_pattern_mismatch", "loc": ("tools", 0, "function", "function", "name"),
             "msg": "", "input": "bad name", "ctx": {"pattern": "^x$"}}
    assert from_validation(error, data).param == "tools[0].function.name"
    missing = {"type": "missing", "loc": ("tools", 0, "function", "function"), "msg": "", "input": {}}
    assert from_validation(missing, {"tools": [{"type": "function"}]}).param == "tools[0].function"
