"""GET /v1/openapi.json describes exactly the routes the app registers (both URL shapes), nothing else.

The exceptions are no operations: the catch-all that answers unknown routes (api/fallback.py) and the
playground's page (api/playground.py).
"""

from __future__ import annotations

import json

import function_app
from api import playground


def _registered_operations() -> set[tuple[str, str]]:
    operations = set()
    for function in function_app.app.get_functions():
        trigger = function.get_trigger()
        if trigger.get_binding_name() != "httpTrigger":
            continue
        if trigger.route in ("{*path}", playground.ROUTE):
            continue
        for method in trigger.methods or ():
            operations.add((method.value.lower() if hasattr(method, "value") else str(method).lower(),
                            "/" + trigger.route.strip("/")))
    return operations


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_document_matches_registered_routes_both_ways(http):
    response = http.get("/openapi.json")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert document["openapi"].startswith("3.1")
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented == _registered_operations()


def test_document_is_self_consistent(http):
    document = http.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    for ref in _refs(document):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    operation_ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    for path, item in document["paths"].items():
        for operation in item.values():
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == {segment[1:-1] for segment in path.split("/") if segment.startswith("{")}
    assert set(document["paths"]["/v1/assistants"]) == set(document["paths"]["/openai/assistants"])
    azure_version = [p for p in document["paths"]["/openai/assistants"]["post"]["parameters"] if p["in"] == "query"]
    assert azure_version[0]["name"] == "api-version" and azure_version[0]["required"] is True
    assert "2024-05-01-preview" in azure_version[0]["schema"]["enum"]
    create = document["paths"]["/v1/assistants"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assistant_create = schemas[create["$ref"].rsplit("/", 1)[1]]
    assert "model" in assistant_create["required"] and assistant_create["additionalProperties"] is False
    json.dumps(document)  # plain JSON all the way down
