"""OpenAI's error envelope: pydantic validation errors in OpenAI's words, and the response."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
from pydantic_core import ErrorDetails

from core.errors import ApiError, InvalidRequest

_EXPECTED = {
    "string_type": "a string", "int_type": "an integer", "float_type": "a number", "bool_type": "a boolean",
    "dict_type": "an object", "model_type": "an object", "model_attributes_type": "an object",
    "list_type": "an array", "int_from_float": "an integer",
}


def response(error: ApiError) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(error.envelope()), status_code=error.status, mimetype="application/json")


def describe(value: Any) -> str:
    """How OpenAI names the type of a value it did not expect."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def param_path(loc: tuple, data: Any, names_key: bool = False) -> tuple[str | None, bool]:
    """OpenAI's `param` (e.g. `tools[0].function.name`) for a pydantic error location.

    pydantic inserts union tags and member names into `loc`; walking the
    request body alongside keeps only the steps that exist in it (plus a final
    missing or unknown key when `names_key`). Also tells whether the error concerns a dict key.
    """
    text = ""
    current = data
    is_key = "[key]" in loc
    steps = [step for step in loc if step != "[key]"]
    for index, step in enumerate(steps):
        if isinstance(step, int) and isinstance(current, list) and 0 <= step < len(current):
            text += f"[{step}]"
            current = current[step]
        elif isinstance(step, str) and isinstance(current, dict) and step in current:
            if is_key and index == len(steps) - 1:
                break
            text += f".{step}" if text else step
            current = current[step]
        elif names_key and index == len(steps) - 1 and isinstance(step, str) and isinstance(current, dict):
            text += f".{step}" if text else step
    return (text or None), is_key


def from_validation(error: ErrorDetails, data: Any) -> InvalidRequest:
    """The first pydantic error of a request body as OpenAI would word it."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value: Any = error.get("input")  # whatever the caller sent
    param, is_key = param_path(error["loc"], data, names_key=kind in ("missing", "extra_forbidden"))
    name = param or "body"
    if kind == "openai":
        return InvalidRequest(ctx["message"], param=param, code=ctx.get("code"))
    if kind == "missing":
        return InvalidRequest(f"Missing required parameter: '{name}'.", param=param, code="missing_required_parameter")
    if kind == "extra_forbidden":
        return InvalidRequest(f"Unknown parameter: '{name}'.", param=param, code="unknown_parameter")
    if kind in _EXPECTED:
        return InvalidRequest(f"Invalid type for '{name}': expected {_EXPECTED[kind]}, but got {describe(value)} instead.",
                              param=param, code="invalid_type")
    if kind == "invalid_type":  # a custom union discriminator that found neither member
        return InvalidRequest(f"Invalid type for '{name}': {error['msg']}, but got {describe(value)} instead.",
                              param=param, code="invalid_type")
    if kind == "string_too_long":
        what = "key" if is_key else "string"
        return InvalidRequest(
            f"Invalid '{name}': {what} too long. Expected a {what} with maximum length {ctx['max_length']}, "
            f"but got a {what} with length {len(value)} instead.", param=param, code="string_above_max_length")
    if kind == "string_too_short":
        return InvalidRequest(
            f"Invalid '{name}': empty string. Expected a string with minimum length {ctx['min_length']}, "
            f"but got an empty string instead.", param=param, code="empty_string")
    if kind == "too_long":
        if isinstance(value, dict):
            return InvalidRequest(
                f"Invalid '{name}': too many properties. Expected an object with at most {ctx['max_length']} "
                f"properties, but got an object with {len(value)} properties instead.",
                param=param, code="object_above_max_properties")
        return InvalidRequest(
            f"Invalid '{name}': array too long. Expected an array with maximum length {ctx['max_length']}, "
            f"but got an array with length {len(value)} instead.", param=param, code="array_above_max_length")
    if kind == "too_short":
        return InvalidRequest(
            f"Invalid '{name}': empty array. Expected an array with minimum length {ctx['min_length']}, "
            f"but got an empty array instead.", param=param, code="empty_array")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        number = "integer" if isinstance(value, int) else "decimal"
        above = kind.startswith("less")
        bound = ctx.get("le", ctx.get("lt")) if above else ctx.get("ge", ctx.get("gt"))
        sign = ("<=" if kind == "less_than_equal" else "<") if above else (">=" if kind == "greater_than_equal" else ">")
        return InvalidRequest(
            f"Invalid '{name}': {number} {'above maximum' if above else 'below minimum'} value. "
            f"Expected a value {sign} {bound}, but got {value} instead.",
            param=param, code=f"{number}_{'above_max' if above else 'below_min'}_value")
    if kind == "literal_error":
        return InvalidRequest(f"Invalid value: '{value}'. Supported values are: {ctx['expected']}.",
                              param=param, code="invalid_value")
    if kind == "union_tag_invalid":
        param = f"{name}.type"
        return InvalidRequest(f"Invalid value: '{ctx['tag']}'. Supported values are: {ctx['expected_tags']}.",
                              param=param, code="invalid_value")
    if kind == "union_tag_not_found":
        return InvalidRequest(f"Missing required parameter: '{name}.type'.", param=f"{name}.type",
                              code="missing_required_parameter")
    if kind == "invalid_value":
        return InvalidRequest(f"Invalid value for '{name}': {error['msg']}.", param=param, code="invalid_value")
    if kind == "string_pattern_mismatch":
        return InvalidRequest(
            f"Invalid '{name}': string does not match pattern. Expected a string that matches the pattern "
            f"'{ctx['pattern']}'.", param=param, code="invalid_value")
    return InvalidRequest(f"Invalid '{name}': {error['msg']}.", param=param, code="invalid_value")
