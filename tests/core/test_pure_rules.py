"""Rules that need no storage: function/response schemas."""

from core.wire import json_schema


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
