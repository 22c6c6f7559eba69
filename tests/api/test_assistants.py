"""Assistants through the official SDK: every field, update semantics, validation, isolation."""

from __future__ import annotations

import openai
import pytest

from tests.api.conftest import error_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                       "additionalProperties": False},
        "strict": True,
    },
}


def test_create_returns_openai_shape_with_defaults(client):
    assistant = client.beta.assistants.create(model="gpt-4o")
    raw = assistant.model_dump()
    assert assistant.id.startswith("asst_") and len(assistant.id) == 29
    assert assistant.object == "assistant"
    assert raw["name"] is None and raw["description"] is None and raw["instructions"] is None
    assert assistant.tools == [] and assistant.metadata == {}
    assert assistant.temperature == 1.0 and assistant.top_p == 1.0 and assistant.response_format == "auto"
    assert client.beta.assistants.retrieve(assistant.id) == assistant


def test_create_with_every_field(client):
    file = client.files.create(file=("data.csv", b"a,b\n1,2\n"), purpose="assistants")
    store = client.vector_stores.create()
    assistant = client.beta.assistants.create(
        model="gpt-4o-mini", name="Analyst", description="Crunches numbers", instructions="Be terse.",
        tools=[{"type": "code_interpreter"}, {"type": "file_search", "file_search": {"max_num_results": 5}}, WEATHER],
        tool_resources={"code_interpreter": {"file_ids": [file.id]}, "file_search": {"vector_store_ids": [store.id]}},
        metadata={"team": "finance"}, temperature=0.2, top_p=0.9,
        response_format={"type": "json_schema", "json_schema": {
            "name": "answer", "strict": True,
            "schema": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"],
                       "additionalProperties": False}}},
    )
    assert [tool.type for tool in assistant.tools] == ["code_interpreter", "file_search", "function"]
    assert assistant.tools[1].file_search.max_num_results == 5
    assert assistant.tools[2].function.name == "get_weather" and assistant.tools[2].function.strict is True
    assert assistant.tools[2].function.parameters["required"] == ["city"]
    assert assistant.tool_resources.code_interpreter.file_ids == [file.id]
    assert assistant.tool_resources.file_search.vector_store_ids == [store.id]
    assert assistant.response_format.type == "json_schema"
    assert assistant.response_format.json_schema.schema_["required"] == ["x"]
    assert (assistant.temperature, assistant.top_p, assistant.metadata) == (0.2, 0.9, {"team": "finance"})
    assert client.beta.assistants.retrieve(assistant.id).model_dump() == assistant.model_dump()


def test_update_replaces_only_sent_fields(client):
    assistant = client.beta.assistants.create(model="gpt-4o", name="A", instructions="one", metadata={"k": "v"},
                                              temperature=0.5, tools=[{"type": "code_interpreter"}])
    updated = client.beta.assistants.update(assistant.id, name="B", metadata={"x": "y"}, tools=[WEATHER])
    assert (updated.name, updated.instructions, updated.metadata) == ("B", "one", {"x": "y"})
    assert updated.temperature == 0.5 and updated.tools[0].type == "function"
    assert updated.created_at == assistant.created_at and updated.model == "gpt-4o"
    reset = client.beta.assistants.update(assistant.id, name=None, temperature=None, response_format={"type": "json_object"})
    assert reset.name is None and reset.temperature == 1.0 and reset.response_format.type == "json_object"
    assert client.beta.assistants.retrieve(assistant.id).model_dump() == reset.model_dump()


def test_delete_then_gone(client):
    assistant = client.beta.assistants.create(model="gpt-4o")
    deleted = client.beta.assistants.delete(assistant.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (assistant.id, "assistant.deleted", True)
    with pytest.raises(openai.NotFoundError) as caught:
        client.beta.assistants.retrieve(assistant.id)
    assert caught.value.body["message"] == f"No assistant found with id '{assistant.id}'."
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.delete(assistant.id)


def test_list_pagination_both_orders(fresh_client):
    created = [fresh_client.beta.assistants.create(model="m", name=str(i)).id for i in range(7)]
    first = fresh_client.beta.assistants.list(limit=3)
    assert [a.id for a in first.data] == created[::-1][:3] and first.has_more is True
    assert first.first_id == created[6] and first.last_id == created[4]
    assert [a.id for a in fresh_client.beta.assistants.list(limit=3)] == created[::-1]  # auto-pagination
    assert [a.id for a in fresh_client.beta.assistants.list(limit=2, order="asc")] == created
    page = fresh_client.beta.assistants.list(limit=10, order="asc", after=created[2])
    assert [a.id for a in page.data] == created[3:] and page.has_more is False
    assert [a.id for a in fresh_client.beta.assistants.list(order="asc", before=created[4], limit=2).data] == created[2:4]
    assert [a.id for a in fresh_client.beta.assistants.list(order="desc", before=created[1], limit=2).data] == \
        [created[3], created[2]]
    assert [a.id for a in fresh_client.beta.assistants.list(after=created[5], before=created[1]).data] == \
        created[2:5][::-1]


def test_list_is_stable_under_concurrent_inserts(fresh_client):
    created = [fresh_client.beta.assistants.create(model="m").id for _ in range(4)]
    page = fresh_client.beta.assistants.list(limit=2, order="asc")
    newer = fresh_client.beta.assistants.create(model="m").id
    rest = fresh_client.beta.assistants.list(limit=10, order="asc", after=page.last_id)
    assert [a.id for a in page.data] + [a.id for a in rest.data] == created + [newer]


@pytest.mark.parametrize("kwargs, param, code", [
    ({}, "model", "missing_required_parameter"),
    ({"model": 5}, "model", "invalid_type"),
    ({"model": "m", "temperature": 3}, "temperature", "integer_above_max_value"),
    ({"model": "m", "temperature": 2.5}, "temperature", "decimal_above_max_value"),
    ({"model": "m", "top_p": -0.1}, "top_p", "decimal_below_min_value"),
    ({"model": "m", "temperature": "hot"}, "temperature", "invalid_type"),
    ({"model": "m", "name": "x" * 257}, "name", "string_above_max_length"),
    ({"model": "m", "description": "x" * 513}, "description", "string_above_max_length"),
    ({"model": "m", "instructions": "x" * 256_001}, "instructions", "string_above_max_length"),
    ({"model": "m", "bogus": 1}, "bogus", "unknown_parameter"),
    ({"model": "m", "metadata": {f"k{i}": "v" for i in range(17)}}, "metadata", "object_above_max_properties"),
    ({"model": "m", "metadata": {"k" * 65: "v"}}, "metadata", "string_above_max_length"),
    ({"model": "m", "metadata": {"k": "v" * 513}}, "metadata.k", "string_above_max_length"),
    ({"model": "m", "metadata": {"k": 1}}, "metadata.k", "invalid_type"),
    ({"model": "m", "tools": [{"type": "bing_grounding"}]}, "tools[0].type", "invalid_value"),
    ({"model": "m", "tools": [{"kind": "function"}]}, "tools[0].type", "missing_required_parameter"),
    ({"model": "m", "tools": [{"type": "function", "function": {"name": "bad name"}}]},
     "tools[0].function.name", "invalid_value"),
    ({"model": "m", "tools": [{"type": "function"}]}, "tools[0].function", "missing_required_parameter"),
    ({"model": "m", "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}]},
     "tools[0].function", "invalid_function_parameters"),
    ({"model": "m", "tools": [{"type": "function", "function": {
        "name": "f", "strict": True, "parameters": {"type": "object", "properties": {"a": {"type": "string"}}}}}]},
     "tools[0].function", "invalid_function_parameters"),
    ({"model": "m", "tools": [{"type": "code_interpreter"}] * 129}, "tools", "array_above_max_length"),
    ({"model": "m", "tools": [{"type": "file_search", "file_search": {"max_num_results": 51}}]},
     "tools[0].file_search.max_num_results", "integer_above_max_value"),
    ({"model": "m", "response_format": "yaml"}, "response_format", "invalid_value"),
    ({"model": "m", "response_format": {"type": "json_schema"}}, "response_format.json_schema",
     "missing_required_parameter"),
    ({"model": "m", "tool_resources": {"code_interpreter": {"file_ids": ["file-nope"]}}},
     "tool_resources.code_interpreter.file_ids[0]", "invalid_value"),
    ({"model": "m", "tool_resources": {"file_search": {"vector_store_ids": ["a", "b"]}}},
     "tool_resources.file_search.vector_store_ids", "array_above_max_length"),
    ({"model": "m", "reasoning_effort": "extreme"}, "reasoning_effort", "invalid_value"),
])
def test_create_validation(client, kwargs, param, code):
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/assistants", body=kwargs, cast_to=object)
    error = caught.value.body
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code), error
    assert error["message"]


def test_update_validation_and_unknown_id(client):
    assistant = client.beta.assistants.create(model="m")
    with pytest.raises(openai.BadRequestError) as caught:
        client.beta.assistants.update(assistant.id, model=None)
    assert caught.value.body["param"] == "model"
    with pytest.raises(openai.BadRequestError):
        client.beta.assistants.update(assistant.id, extra_body={"object": "x"})
    with pytest.raises(openai.NotFoundError):
        client.beta.assistants.update("asst_doesnotexist", name="x")


def test_invalid_json_and_huge_bodies(http):
    bad = http.post("/assistants", content=b'{"model": ', headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and error_of(bad)["type"] == "invalid_request_error"
    not_object = http.post("/assistants", json=["model"])
    assert not_object.status_code == 400 and error_of(not_object)["message"]
    huge = http.post("/assistants", content=b'{"model": "' + b"x" * (33 * 1024 * 1024) + b'"}',
                     headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and error_of(huge)["type"] == "invalid_request_error"


DEEP = b"[" * 100_000  # far past any parser's recursion limit


@pytest.mark.parametrize("path", [
    "/assistants", "/threads", "/chat/completions", "/embeddings",
    "/../openai/deployments/gpt-scripted/chat/completions?api-version=2024-05-01-preview",
    "/../openai/deployments/scripted-embeddings/embeddings?api-version=2024-05-01-preview",
])
@pytest.mark.parametrize("body", [DEEP, b'{"model": "m", "metadata": {"a": ' + DEEP + b"}",
                                  b'{"model": "m", "messages": [{"role": "user", "content": ' + DEEP + b"}]}"],
                         ids=["bare", "in-metadata", "in-messages"])
def test_deeply_nested_json_is_a_400_everywhere(http, path, body):
    response = http.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert error_of(response)["type"] == "invalid_request_error"


@pytest.mark.parametrize("key", ["a\x00b", "\x00", "tab\there", "bell\x07", "del\x7f"])
def test_metadata_keys_with_control_characters_are_refused(client, key):
    for create in (lambda: client.beta.assistants.create(model="m", metadata={key: "v"}),
                   lambda: client.beta.threads.create(metadata={key: "v"}),
                   lambda: client.vector_stores.create(metadata={key: "v"})):
        with pytest.raises(openai.BadRequestError) as caught:
            create()
        assert "control characters" in caught.value.body["message"]
    assert client.beta.assistants.create(model="m", metadata={"naïve ключ ✓": "v\x00 kept"}).metadata == {
        "naïve ключ ✓": "v\x00 kept"}


def test_list_parameter_validation(client):
    for params, param in [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"order": "up"}, "order"),
                          ({"after": "not-an-id"}, "after"), ({"limit": "ten"}, "limit")]:
        with pytest.raises(openai.BadRequestError) as caught:
            client.beta.assistants.list(extra_query=params)
        assert caught.value.body["param"] == param


def test_other_principal_sees_nothing(client, other_client):
    assistant = client.beta.assistants.create(model="m", name="mine")
    for call in (lambda: other_client.beta.assistants.retrieve(assistant.id),
                 lambda: other_client.beta.assistants.update(assistant.id, name="theirs"),
                 lambda: other_client.beta.assistants.delete(assistant.id)):
        with pytest.raises(openai.NotFoundError):
            call()
    assert assistant.id not in [a.id for a in other_client.beta.assistants.list(limit=100)]
    assert client.beta.assistants.retrieve(assistant.id).name == "mine"
