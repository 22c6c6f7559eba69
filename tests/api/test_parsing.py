"""Request parsing that needs no server: OpenAI's `param` paths."""

from api.errors import from_validation


def test_param_paths_skip_union_tags():
    data = {"tools": [{"type": "function", "function": {"name": "bad name"}}]}
    error = {"type": "string_pattern_mismatch", "loc": ("tools", 0, "function", "function", "name"),
             "msg": "", "input": "bad name", "ctx": {"pattern": "^x$"}}
    assert from_validation(error, data).param == "tools[0].function.name"
    missing = {"type": "missing", "loc": ("tools", 0, "function", "function"), "msg": "", "input": {}}
    assert from_validation(missing, {"tools": [{"type": "function"}]}).param == "tools[0].function"
