"""Built-in tools inside responses: file_search through the same plug-in as runs, shown as Responses items."""

from __future__ import annotations

import openai
import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from scripted_model import reply_text, reply_tool_calls
from tests.file_search.documents import pdf_bytes
from tests.runs.conftest import MODEL, requests_for, token

REPORT = ("Contoso annual report 2025. Contoso's revenue grew to 42.7 million dollars, driven by the "
          "Northwind partnership. Headcount rose to 318 employees across four offices.")
RESULTS = "file_search_call.results"
EVENTS = TypeAdapter(ResponseStreamEvent)


def _store(client: openai.OpenAI) -> tuple[str, str]:
    store = client.vector_stores.create(name="Financial statements")
    batch = client.vector_stores.file_batches.upload_and_poll(
        store.id, files=[("contoso-report.pdf", pdf_bytes([REPORT]))])
    assert batch.status == "completed"
    [report] = client.vector_stores.files.list(vector_store_id=store.id).data
    return store.id, report.id


def _script(scripted, tok: str) -> None:
    scripted.client.enqueue(
        reply_tool_calls([{"name": "file_search", "arguments": {"query": "Contoso revenue 2025"}}], match=tok),
        reply_text("Revenue reached 42.7 million dollars【0†contoso-report.pdf】.", match=tok))


def searched_in_a_conversation(client: openai.OpenAI, scripted):
    """A completed file_search response in a new conversation: (its store, the report's file id, the
    conversation, the response)."""
    store_id, report_id = _store(client)
    conversation = client.conversations.create()
    tok = token()
    _script(scripted, tok)
    response = client.responses.create(model=MODEL, input=f"What was Contoso's revenue? {tok}",
                                       conversation=conversation.id,
                                       tools=[{"type": "file_search", "vector_store_ids": [store_id]}])
    assert response.status == "completed", response.error
    return store_id, report_id, conversation, response


def test_file_search_call_item_results_on_include_and_file_citation(fresh, scripted):
    store_id, report_id = _store(fresh)
    tok = token()
    _script(scripted, tok)
    response = fresh.responses.create(model=MODEL, input=f"What was Contoso's revenue? {tok}",
                                      tools=[{"type": "file_search", "vector_store_ids": [store_id]}])
    assert response.status == "completed", response.error
    call, message = response.output
    assert call.type == "file_search_call" and call.status == "completed"
    assert call.queries == ["Contoso revenue 2025"] and call.results is None  # results only on include
    [part] = message.content
    [citation] = part.annotations
    assert citation.type == "file_citation" and (citation.file_id, citation.filename) == (report_id,
                                                                                          "contoso-report.pdf")

    shown = fresh.responses.retrieve(response.id, include=[RESULTS])
    [result] = shown.output[0].results
    assert result.file_id == report_id and "42.7 million" in result.text
    assert fresh.responses.retrieve(response.id).output[0].results is None

    with pytest.raises(openai.BadRequestError) as caught:
        fresh.responses.retrieve(response.id, include=["everything"])
    assert caught.value.body["param"] == "include"


def test_file_search_streams_its_call_events_in_order(fresh, scripted):
    store_id, _ = _store(fresh)
    tok = token()
    _script(scripted, tok)
    events = [EVENTS.validate_python(event.model_dump()) for event in fresh.responses.create(
        model=MODEL, input=f"Revenue? {tok}", stream=True, include=[RESULTS],
        tools=[{"type": "file_search", "vector_store_ids": [store_id]}])]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    kinds = [event.type for event in events]
    searching = [kind for kind in kinds if kind.startswith("response.file_search_call.")]
    assert searching == ["response.file_search_call.in_progress", "response.file_search_call.searching",
                         "response.file_search_call.completed"]
    assert kinds.index("response.file_search_call.completed") < kinds.index("response.output_text.delta")
    assert "response.output_text.annotation.added" in kinds and kinds[-1] == "response.completed"
    done = events[-1].response
    assert done.output[0].type == "file_search_call" and "42.7 million" in done.output[0].results[0].text


def test_another_principals_vector_store_is_refused(fresh, other_client):
    store_id, _ = _store(other_client)
    with pytest.raises(openai.BadRequestError) as caught:
        fresh.responses.create(model=MODEL, input="x", tools=[{"type": "file_search", "vector_store_ids": [store_id]}])
    assert caught.value.body["param"] == "tools[0].vector_store_ids[0]"


def test_tool_choice_naming_a_built_in_makes_the_model_call_it(fresh, scripted):
    store_id, _ = _store(fresh)
    tok = token()
    _script(scripted, tok)
    response = fresh.responses.create(model=MODEL, input=f"Revenue? {tok}", tool_choice={"type": "file_search"},
                                      tools=[{"type": "function", "name": "lookup", "parameters": {"type": "object"}},
                                             {"type": "file_search", "vector_store_ids": [store_id]}])
    assert response.status == "completed", response.error
    assert response.tool_choice.type == "file_search"
    asked = requests_for(scripted, tok)[0]
    assert asked["tool_choice"] == {"type": "function", "function": {"name": "file_search"}}
    assert {tool["function"]["name"] for tool in asked["tools"]} == {"lookup", "file_search"}
    assert fresh.responses.retrieve(response.id).tool_choice.type == "file_search"


@pytest.mark.parametrize("choice, named", [
    ({"type": "file_search"}, "file_search"),
    ({"type": "code_interpreter"}, "code_interpreter"),
    ({"type": "web_search_preview"}, "web_search_preview"),
    ({"type": "image_generation"}, "image_generation"),
    ({"type": "function", "name": "elsewhere"}, "elsewhere"),
])
def test_tool_choice_naming_an_undeclared_tool_is_refused(fresh, choice, named):
    with pytest.raises(openai.BadRequestError) as caught:
        fresh.responses.create(model=MODEL, input="hello", tool_choice=choice,
                               tools=[{"type": "function", "name": "lookup", "parameters": {"type": "object"}}])
    error = caught.value.body
    assert error["param"] == "tool_choice" and f"'{named}'" in error["message"], error
