"""The checks OpenAI applies to function `parameters` and `response_format` schemas.

Not a full JSON Schema validator: it catches what makes a schema unusable for
tool calling (a non-object root, unknown types) and, when `strict` is true,
the Structured Outputs rules (every object closed with
`additionalProperties: false` and every property required).
"""


from typing import Any

_TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")


def problem(schema: Any, *, strict: bool) -> str | None:
    """A description of what is wrong with `schema`, or None when it is acceptable."""
    if not isinstance(schema, dict):
        return "schema must be a JSON object."
    root_type = schema.get("type")
    if root_type is not None and root_type != "object":
        return f"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{root_type}\"'."
    return _walk(schema, (), strict)


def _walk(schema: Any, context: tuple[str, ...], strict: bool) -> str | None:
    if isinstance(schema, bool):
        return None
    if not isinstance(schema, dict):
        return f"In context={context}, schema must be an object or a boolean."
    declared = schema.get("type")
    for name in declared if isinstance(declared, list) else [declared]:
        if name is not None and name not in _TYPES:
            return f"In context={context}, '{name}' is not a valid type."
    is_object = declared == "object" or (isinstance(declared, list) and "object" in declared) or "properties" in schema
    if strict and is_object:
        if schema.get("additionalProperties") is not False:
            return f"In context={context}, 'additionalProperties' is required to be supplied and to be false."
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        missing = [key for key in properties if key not in required]
        if missing:
            return (f"In context={context}, 'required' is required to be supplied and to be an array "
                    f"including every key in properties. Missing '{missing[0]}'.")
    for key in _SUBSCHEMA_MAPS:
        value = schema.get(key)
        if isinstance(value, dict):
            for name, child in value.items():
                found = _walk(child, context + (key, name), strict)
                if found:
                    return found
    for key in _SUBSCHEMA_LISTS:
        value = schema.get(key)
        if isinstance(value, list):
            for index, child in enumerate(value):
                found = _walk(child, context + (key, str(index)), strict)
                if found:
                    return found
    if "items" in schema:
        return _walk(schema["items"], context + ("items",), strict)
    return None
