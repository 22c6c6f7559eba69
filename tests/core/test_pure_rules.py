"""Rules that need no storage: file names and function/response schemas."""

import pytest

from core import filenames
from core.wire import json_schema


@pytest.mark.parametrize("name", ["", "   ", ".", "..", "a/..", "\x00\x01", "dir/"])
def test_names_with_nothing_left_are_refused(name):
    assert filenames.sanitize(name) is None


def test_long_names_keep_their_extension():
    assert filenames.sanitize("x" * 300 + ".jsonl") == "x" * 249 + ".jsonl"
    assert len(filenames.sanitize("y" * 300)) == filenames.MAX_LENGTH


def test_strict_schemas_must_be_closed_and_fully_required():
    closed = {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}},
                                                     "required": ["b"], "additionalProperties": False}},
              "required": ["a"], "additionalProperties": False}
    assert json_schema.problem(closed, strict=True) is None
    nested_open = {**closed, "properties": {"a": {"type": "object", "properties": {}}}}
    assert "('properties', 'a')" in json_schema.problem(nested_open, strict=True)
    assert json_schema.problem(nested_open, strict=False) is None
    assert "Missing 'a'" in json_schema.problem({**closed, "required": []}, strict=True)
    assert "not a valid type" in json_schema.problem({"type": "object", "properties": {"a": {"type": "int"}}},
                                                     strict=False)
