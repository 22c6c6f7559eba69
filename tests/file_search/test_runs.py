"""file_search in runs: the seed's notebook flow end to end, through the SDK and the scripted model."""

from __future__ import annotations

import json

import pytest

from scripted_model import reply_text, reply_tool_calls
from tests.file_search.conftest import auth_headers
from tests.file_search.documents import pdf_bytes
from tests.runs.conftest import MODEL, requests_for, token

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated

REPORT = ("Contoso annual report 2025. Contoso's revenue grew to 42.7 million dollars, driven by the "
          "Northwind partnership. Headcount rose to 318 employees across four offices.")
INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"


def test_notebook_flow_store_upload_assistant_run_answer_with_citation(sdk, scripted):
    store = sdk.vector_stores.create(name="Financial statements")
    batch = sdk.vector_stores.file_batches.upload_and_poll(
        store.id, files=[("contoso-report.pdf", pdf_bytes([REPORT]))])
    assert batch.status == "completed" and batch.file_counts.completed == 1
    [report] = sdk.vector_stores.files.list(vector_store_id=store.id).data

    assistant = sdk.beta.assistants.create(
        model=MODEL, name="Financial analyst", instructions="Answer from the files.", tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [store.id]}})
    tok = token()
    scripted.client.enqueue(
        reply_tool_calls([{"name": "file_search", "arguments": {"query": "Contoso revenue 2025"}}], match=tok),
        reply_text("Revenue reached 42.7 million dollars【0†contoso-report.pdf】.", match=tok))
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": f"What was Contoso's revenue? {tok}"}])
    run = sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=50)
    assert run.status == "completed", run.last_error

    offered = requests_for(scripted, tok)
    assert any(tool["function"]["name"] == "file_search" for tool in offered[0]["tools"])
    tool_message = next(m for m in offered[1]["messages"] if m["role"] == "tool")
    assert "42.7 million" in tool_message["content"] and "【0†contoso-report.pdf】" in tool_message["content"]

    answer = sdk.beta.threads.messages.list(thread_id=thread.id, order="desc").data[0]
    text = answer.content[0].text
    [citation] = text.annotations
    assert citation.type == "file_citation" and citation.file_citation.file_id == report.id
    assert text.value[citation.start_index:citation.end_index] == citation.text == "【0†contoso-report.pdf】"

    steps = sdk.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data
    [call] = steps[0].step_details.tool_calls
    assert call.type == "file_search" and call.file_search.ranking_options.score_threshold == 0.0
    [result] = call.file_search.results
    assert (result.file_id, result.file_name) == (report.id, "contoso-report.pdf") and 0 < result.score <= 1
    assert result.content is None  # only with include
    detailed = sdk.beta.threads.runs.steps.retrieve(steps[0].id, run_id=run.id, thread_id=thread.id, include=[INCLUDE])
    assert "42.7 million" in detailed.step_details.tool_calls[0].file_search.results[0].content[0].text
    listed = sdk.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, include=[INCLUDE]).data
    assert any(step.type == "tool_calls" and step.step_details.tool_calls[0].file_search.results[0].content
               for step in listed)


def test_search_options_and_a_deleted_store_reach_the_model_as_text(sdk, scripted):
    store = sdk.vector_stores.create()
    sdk.vector_stores.file_batches.upload_and_poll(store.id, files=[("notes.txt", REPORT.encode())])
    assistant = sdk.beta.assistants.create(model=MODEL, tools=[{"type": "file_search", "file_search": {
        "max_num_results": 3, "ranking_options": {"score_threshold": 0.5}}}],
        tool_resources={"file_search": {"vector_store_ids": [store.id]}})
    sdk.vector_stores.delete(store.id)
    tok = token()
    scripted.client.enqueue(
        reply_tool_calls([{"name": "file_search", "arguments": {"query": "headcount"}}], match=tok),
        reply_text("I could not search the files.", match=tok))
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": f"Headcount? {tok}"}])
    run = sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=50)
    assert run.status == "completed"
    tool_message = next(m for m in requests_for(scripted, tok)[1]["messages"] if m["role"] == "tool")
    assert "No vector_store found" in json.loads(tool_message["content"])["error"]
    step = sdk.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data[0]
    assert step.step_details.tool_calls[0].file_search.ranking_options.score_threshold == 0.5


def test_bad_include_is_refused(devhost):
    import httpx2 as httpx

    for path in ("steps", "steps/step_x"):
        response = httpx.get(f"{devhost.base_url}/threads/thread_x/runs/run_x/{path}?include[]=everything",
                             headers=auth_headers())
        error = response.json()["error"]
        assert response.status_code == 400 and (error["param"], error["code"]) == ("include", "invalid_value")


def test_inline_vector_store_of_an_assistant_is_created_and_ingested(sdk):
    from tests.file_search.conftest import upload, wait_file

    file = upload(sdk, "handbook.md", "Employees get 27 days of paid leave per year.")
    assistant = sdk.beta.assistants.create(model=MODEL, tools=[{"type": "file_search"}], tool_resources={
        "file_search": {"vector_stores": [{"file_ids": [file.id], "metadata": {"source": "inline"}}]}})
    [store_id] = assistant.tool_resources.file_search.vector_store_ids
    assert wait_file(sdk, store_id, file.id).status == "completed"
    assert sdk.vector_stores.retrieve(store_id).metadata == {"source": "inline"}
    assert "27 days" in sdk.vector_stores.search(store_id, query="paid leave").data[0].content[0].text

    import openai
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.beta.assistants.create(model=MODEL, tool_resources={"file_search": {
            "vector_store_ids": [store_id], "vector_stores": [{"file_ids": [file.id]}]}})
    assert caught.value.body["param"] == "tool_resources.file_search"
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.beta.assistants.create(model=MODEL, tool_resources={"file_search": {"vector_store_ids": ["vs_nope"]}})
    assert caught.value.body["param"] == "tool_resources.file_search.vector_store_ids[0]"
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.beta.threads.create(tool_resources={"file_search": {"vector_stores": [{"file_ids": ["file-nope"]}]}})
    assert caught.value.body["param"] == "tool_resources.file_search.vector_stores[0].file_ids[0]"


def test_file_search_attachments_land_in_the_threads_own_store(sdk, scripted):
    from tests.file_search.conftest import upload, wait_file

    first = upload(sdk, "menu.txt", "The cafeteria serves lentil soup on Tuesdays.")
    second = upload(sdk, "parking.txt", "Visitor parking is on level minus two.")
    attach = [{"type": "file_search"}]
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "Read this.",
                                                "attachments": [{"file_id": first.id, "tools": attach}]}])
    [store_id] = thread.tool_resources.file_search.vector_store_ids
    tok = token()
    sdk.beta.threads.messages.create(thread.id, role="user", content=f"And where do visitors park? {tok}",
                                     attachments=[{"file_id": second.id, "tools": attach}])
    assert sdk.beta.threads.retrieve(thread.id).tool_resources.file_search.vector_store_ids == [store_id]
    for file in (first, second):
        assert wait_file(sdk, store_id, file.id).status == "completed"
    assert sdk.vector_stores.retrieve(store_id).expires_after.days == 7

    assistant = sdk.beta.assistants.create(model=MODEL, tools=[{"type": "file_search"}])
    scripted.client.enqueue(
        reply_tool_calls([{"name": "file_search", "arguments": {"query": "visitor parking"}}], match=tok),
        reply_text("Level minus two【0†parking.txt】.", match=tok))
    run = sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=50)
    assert run.status == "completed"
    answer = sdk.beta.threads.messages.list(thread_id=thread.id, order="desc").data[0].content[0].text
    assert [annotation.file_citation.file_id for annotation in answer.annotations] == [second.id]


def test_a_run_searches_the_assistants_and_the_threads_stores_together(sdk, scripted):
    shared = sdk.vector_stores.create()
    sdk.vector_stores.file_batches.upload_and_poll(shared.id, files=[("policy.txt", b"Travel must be booked "
                                                                     b"through the portal two weeks ahead.")])
    own = sdk.vector_stores.create()
    sdk.vector_stores.file_batches.upload_and_poll(own.id, files=[("trip.txt", b"My trip to Lisbon is booked "
                                                                  b"for the portal conference in May.")])
    assistant = sdk.beta.assistants.create(model=MODEL, tools=[{"type": "file_search"}],
                                           tool_resources={"file_search": {"vector_store_ids": [shared.id]}})
    tok = token()
    scripted.client.enqueue(
        reply_tool_calls([{"name": "file_search", "arguments": {"query": "booked through the portal"}}], match=tok),
        reply_text("Done.", match=tok))
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": f"Travel rules? {tok}"}],
                                     tool_resources={"file_search": {"vector_store_ids": [own.id]}})
    run = sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=50)
    assert run.status == "completed"
    step = sdk.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data[0]
    assert {result.file_name for result in step.step_details.tool_calls[0].file_search.results} == \
        {"policy.txt", "trip.txt"}


def test_a_run_waits_for_its_threads_store_to_finish_ingesting(sdk, scripted):
    from tests.file_search.conftest import upload

    filler = " ".join(f"Routine line {index} of the facilities log." for index in range(14_000))
    log = upload(sdk, "facilities.txt", filler + " The spare key is kept in the blue cabinet.")
    assistant = sdk.beta.assistants.create(model=MODEL, tools=[{"type": "file_search"}])
    tok = token()
    scripted.client.enqueue(
        reply_tool_calls([{"name": "file_search", "arguments": {"query": "spare key blue cabinet"}}], match=tok),
        reply_text("In the blue cabinet.", match=tok))
    scripted.client.set_default(latency_ms=700)  # every embeddings batch of the ingestion waits too
    try:
        thread = sdk.beta.threads.create(messages=[{"role": "user", "content": f"Where is the spare key? {tok}",
                                                    "attachments": [{"file_id": log.id,
                                                                     "tools": [{"type": "file_search"}]}]}])
        run = sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                    poll_interval_ms=50)
    finally:
        scripted.client.set_default(latency_ms=0)
    assert run.status == "completed"
    step = sdk.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc",
                                            include=[INCLUDE]).data[0]
    results = step.step_details.tool_calls[0].file_search.results
    assert any("blue cabinet" in result.content[0].text for result in results)
