"""A conversation's items include its runs' tool calls: responses' and Assistants runs' alike, in time order,
paged on one cursor, found again by id, with their outputs and results only under `include`."""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid

import openai
import pytest

from scripted_model import reply_text, reply_tool_calls
from tests.conftest import sdk_client
from tests.responses.test_tools import RESULTS, searched_in_a_conversation
from tests.runs.conftest import MODEL, TIME, WEATHER, token
from tests.support.counted_host import counted_devhost
from tests.support.sdk_models import assert_no_unknown_fields

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated

FUNCTION = {"type": "function", "name": "get_weather", "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
OUTPUTS = "code_interpreter_call.outputs"
CODE_SAVING = "open('/mnt/data/note.txt', 'w').write('saved')\n"
LINKED = "Saved as [note.txt](sandbox:/mnt/data/note.txt)."


def _all(client: openai.OpenAI, conversation_id: str, **options) -> list:
    page = client.conversations.items.list(conversation_id, limit=100, **options)
    assert not page.has_more
    assert_no_unknown_fields(page.data)
    return page.data


def _shape(items: list) -> list[str]:
    return [f"{item.type}:{item.role}" if item.type == "message" else item.type for item in items]


def _function_loop(client: openai.OpenAI, scripted, conversation_id: str) -> tuple:
    """A response calling get_weather in the conversation, then one answering it: (first, second)."""
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}}], match=tok),
                            reply_text("It is sunny in Oslo.", match=tok))
    first = client.responses.create(model=MODEL, input=f"Weather in Oslo? {tok}", tools=[FUNCTION],
                                    conversation=conversation_id)
    (call,) = first.output
    second = client.responses.create(model=MODEL, tools=[FUNCTION], conversation=conversation_id, input=[
        {"type": "function_call_output", "call_id": call.call_id, "output": '{"sky": "sunny"}'}])
    assert second.output_text == "It is sunny in Oslo."
    return first, second


def test_a_function_call_loop_shows_the_call_its_output_and_the_answer_in_order(fresh, scripted):
    conversation = fresh.conversations.create()
    first, second = _function_loop(fresh, scripted, conversation.id)
    items = _all(fresh, conversation.id, order="asc")
    assert _shape(items) == ["message:user", "function_call", "function_call_output", "message:assistant"]
    asked, call, output, answer = items
    made = first.output[0]
    assert (call.call_id, call.name, json.loads(call.arguments), call.status) == (
        made.call_id, "get_weather", {"city": "Oslo"}, "completed")
    assert (output.call_id, output.output, output.status) == (made.call_id, '{"sky": "sunny"}', "completed")
    assert answer.id == second.output[0].id and answer.content[0].text == "It is sunny in Oslo."
    assert len({item.id for item in items}) == 4
    assert [item.id for item in _all(fresh, conversation.id)] == [item.id for item in reversed(items)]
    for item in items:  # each found again by the id the list shows
        assert fresh.conversations.items.retrieve(item.id, conversation_id=conversation.id) == item

    # a call the client itself gives in its input (not made here) is an item too, before its output
    tok = token()
    scripted.client.enqueue(reply_text("Noted.", match=tok))
    fresh.responses.create(model=MODEL, tools=[FUNCTION], conversation=conversation.id, input=[
        {"type": "message", "role": "user", "content": f"Also this {tok}"},
        {"type": "function_call", "call_id": "call_given", "name": "get_weather", "arguments": '{"city": "Rome"}'},
        {"type": "function_call_output", "call_id": "call_given", "output": "warm"}])
    later = _all(fresh, conversation.id, order="asc")[4:]
    assert _shape(later) == ["message:user", "function_call", "function_call_output", "message:assistant"]
    assert (later[1].call_id, later[1].arguments, later[2].call_id, later[2].output) == (
        "call_given", '{"city": "Rome"}', "call_given", "warm")


def _assistants_run(client: openai.OpenAI, scripted, thread_id: str, assistant_id: str) -> tuple:
    """A run on the thread calling two functions at once, answered by submit_tool_outputs: (run, its calls)."""
    tok = token()
    client.beta.threads.messages.create(thread_id, role="user", content=f"Weather and time in Oslo? {tok}")
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}},
                                              {"name": "get_time", "arguments": {"city": "Oslo"}}], match=tok),
                            reply_text("Sunny, at noon.", match=tok))
    run = client.beta.threads.runs.create_and_poll(thread_id=thread_id, assistant_id=assistant_id)
    assert run.status == "requires_action", run
    calls = run.required_action.submit_tool_outputs.tool_calls
    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread_id,
        tool_outputs=[{"tool_call_id": calls[0].id, "output": "sunny"}, {"tool_call_id": calls[1].id, "output": "noon"}])
    assert run.status == "completed", run
    return run, calls


def test_an_assistants_run_shows_its_calls_as_items_of_the_thread_as_conversation(fresh, scripted):
    assistant = fresh.beta.assistants.create(model=MODEL, tools=[WEATHER, TIME])
    thread = fresh.beta.threads.create()
    _, calls = _assistants_run(fresh, scripted, thread.id, assistant.id)
    items = _all(fresh, thread.id, order="asc")
    assert _shape(items) == ["message:user", "function_call", "function_call", "function_call_output",
                             "function_call_output", "message:assistant"]
    assert [(item.call_id, item.name) for item in items[1:3]] == [(calls[0].id, "get_weather"),
                                                                  (calls[1].id, "get_time")]
    assert [(item.call_id, item.output) for item in items[3:5]] == [(calls[0].id, "sunny"), (calls[1].id, "noon")]
    assert items[5].content[0].text == "Sunny, at noon."

    # a call item is part of its run's step: deleting it is refused; a message is deleted as before
    with pytest.raises(openai.BadRequestError) as refused:
        fresh.conversations.items.delete(items[1].id, conversation_id=thread.id)
    assert refused.value.body["param"] == "item_id" and refused.value.code == "unsupported_value"
    fresh.conversations.items.delete(items[5].id, conversation_id=thread.id)
    assert [item.id for item in _all(fresh, thread.id, order="asc")] == [item.id for item in items[:5]]


def _mixed_conversation(client: openai.OpenAI, scripted) -> tuple[str, list]:
    """A thread holding an Assistants run's calls, plain messages and replies, then a response's function call
    loop on it as a conversation: (its id, its items oldest first)."""
    assistant = client.beta.assistants.create(model=MODEL, tools=[WEATHER, TIME])
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hello."}])
    _assistants_run(client, scripted, thread.id, assistant.id)
    tok = token()
    client.beta.threads.messages.create(thread.id, role="user", content=f"Thanks {tok}")
    scripted.client.enqueue(reply_text("You are welcome.", match=tok))
    client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    _function_loop(client, scripted, thread.id)
    items = _all(client, thread.id, order="asc")
    assert _shape(items) == ["message:user", "message:user", "function_call", "function_call",
                             "function_call_output", "function_call_output", "message:assistant",
                             "message:user", "message:assistant",
                             "message:user", "function_call", "function_call_output", "message:assistant"]
    return thread.id, items


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pages_walk_messages_and_calls_on_one_cursor(fresh, scripted, order):
    conversation_id, items = _mixed_conversation(fresh, scripted)
    expected = [item.id for item in (items if order == "asc" else items[::-1])]
    for limit in (1, 2, 5):
        walked, after, pages = [], None, 0
        while True:
            page = fresh.conversations.items.list(conversation_id, order=order, limit=limit,
                                                  **({"after": after} if after else {}))
            pages += 1
            walked += [item.id for item in page.data]
            assert len(page.data) == min(limit, len(expected) - len(walked) + len(page.data))
            assert page.has_more == (len(walked) < len(expected)), (limit, walked)
            if not page.has_more:
                break
            after = page.last_id
        assert walked == expected and pages == -(-len(expected) // limit)
    # the SDK's own auto-pagination follows the same cursor
    assert [item.id for item in fresh.conversations.items.list(conversation_id, order=order, limit=3)] == expected
    # from any item, the rest follow in order
    for index in (2, 4, 5, 10):
        rest = fresh.conversations.items.list(conversation_id, order=order, limit=100, after=expected[index])
        assert [item.id for item in rest.data] == expected[index + 1:]


def test_code_interpreter_outputs_show_only_under_include(fresh, scripted):
    conversation = fresh.conversations.create()
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "code_interpreter", "arguments": {"code": "print(6 * 7)"}}],
                                             match=tok), reply_text("It is 42.", match=tok))
    response = fresh.responses.create(model=MODEL, input=f"Compute {tok}", conversation=conversation.id,
                                      tools=[{"type": "code_interpreter", "container": {"type": "auto"}}])
    assert response.status == "completed", response.error
    plain = _all(fresh, conversation.id, order="asc")
    assert _shape(plain) == ["message:user", "code_interpreter_call", "message:assistant"]
    call = plain[1]
    assert call.code == "print(6 * 7)" and call.outputs is None
    assert call.container_id == response.output[0].container_id
    included = _all(fresh, conversation.id, order="asc", include=[OUTPUTS])[1]
    assert included.id == call.id and [(output.type, output.logs.strip()) for output in included.outputs] == [
        ("logs", "42")]
    assert fresh.conversations.items.retrieve(call.id, conversation_id=conversation.id).outputs is None
    retrieved = fresh.conversations.items.retrieve(call.id, conversation_id=conversation.id, include=[OUTPUTS])
    assert retrieved == included
    # a value the service accepts but has nothing for adds nothing; an unknown one is refused
    assert _all(fresh, conversation.id, order="asc", include=["message.output_text.logprobs"]) == plain
    with pytest.raises(openai.BadRequestError) as refused:
        fresh.conversations.items.list(conversation.id, include=["everything"])
    assert refused.value.body["param"] == "include"


def test_file_search_results_show_only_under_include(fresh, scripted):
    store_id, report_id, conversation, response = searched_in_a_conversation(fresh, scripted)
    plain = _all(fresh, conversation.id, order="asc")
    assert _shape(plain) == ["message:user", "file_search_call", "message:assistant"]
    assert plain[1].queries == ["Contoso revenue 2025"] and plain[1].results is None
    [result] = _all(fresh, conversation.id, order="asc", include=[RESULTS])[1].results
    assert result.file_id == report_id and "42.7 million" in result.text
    retrieved = fresh.conversations.items.retrieve(plain[1].id, conversation_id=conversation.id, include=[RESULTS])
    assert retrieved.results == [result]


def test_call_items_are_the_owners_only_and_unknown_ids_are_404(fresh, other_client, scripted):
    conversation = fresh.conversations.create()
    _function_loop(fresh, scripted, conversation.id)
    call = _all(fresh, conversation.id, order="asc")[1]
    assert call.type == "function_call"
    for attempt in (lambda: other_client.conversations.items.list(conversation.id),
                    lambda: other_client.conversations.items.retrieve(call.id, conversation_id=conversation.id),
                    lambda: other_client.conversations.items.delete(call.id, conversation_id=conversation.id)):
        with pytest.raises(openai.NotFoundError):
            attempt()
    # the item is found only in its own conversation, and only as the list names it
    elsewhere = fresh.conversations.create()
    unknown = call.id[:-1] + ("1" if call.id[-1] != "1" else "2")
    for item_id, conversation_id in ((call.id, elsewhere.id), (unknown, conversation.id),
                                     ("fc_" + call.call_id, conversation.id), ("fc_nonsense", conversation.id)):
        with pytest.raises(openai.NotFoundError) as missing:
            fresh.conversations.items.retrieve(item_id, conversation_id=conversation_id)
        assert missing.value.body["type"] == "invalid_request_error"
        with pytest.raises(openai.NotFoundError):
            fresh.conversations.items.delete(item_id, conversation_id=conversation_id)
    with pytest.raises(openai.BadRequestError) as bad_cursor:
        fresh.conversations.items.list(conversation.id, after="fc_nonsense")
    assert bad_cursor.value.body["param"] == "after"


@pytest.fixture(scope="module")
def counted_host(azurite, scripted, tmp_path_factory):
    """devhost whose storage requests are noted: (service, method, path)."""
    with counted_devhost(azurite, scripted, tmp_path_factory.mktemp("items")) as (host, _, seen):
        yield host, seen


def test_a_page_reads_from_its_cursor_no_more_than_it_shows(counted_host, scripted):
    """However long the conversation, a page's reads are a handful of queries of at most limit+1 rows each."""
    host, seen = counted_host
    client = sdk_client(host.base_url, f"principal-{uuid.uuid4().hex}")
    conversation = client.conversations.create()
    _function_loop(client, scripted, conversation.id)
    for turn in range(12):
        tok = token()
        scripted.client.enqueue(reply_text(f"Answer {turn}.", match=tok))
        client.responses.create(model=MODEL, input=f"Question {turn} {tok}", conversation=conversation.id)
    everything = _all(client, conversation.id, order="asc")
    assert len(everything) == 4 + 24

    def reads(limit: int, order: str, after: str | None = None) -> list[str]:
        start = len(seen)
        page = client.conversations.items.list(conversation.id, limit=limit, order=order,
                                               **({"after": after} if after else {}))
        assert len(page.data) == limit and page.has_more
        paths = [urllib.parse.unquote(path) for service, method, path in seen[start:]
                 if service == "Table" and conversation.id in urllib.parse.unquote(path)]
        assert all(method == "GET" for service, method, path in seen[start:] if service == "Table")
        return paths

    for order in ("asc", "desc"):
        walked = everything if order == "asc" else everything[::-1]
        for after in (None, walked[1].id, walked[2].id, walked[14].id, walked[-4].id):
            paths = reads(2, order, after)
            tops = [int(top) for path in paths for top in re.findall(r"\$top=(\d+)", path)]
            # the thread, its messages, the runs and steps about the cursor, and for a response that answered
            # calls, what its run's first step is and whether the run before it made them
            assert len(paths) <= 11, paths
            assert tops and max(tops) <= 3, paths  # limit + 1


def test_citing_a_message_reads_its_runs_steps_only_when_its_annotations_need_them(counted_host, scripted):
    """A plain answer is cited with no read; a code_interpreter answer linking a file reads its run's steps
    once, a few rows at a time, as far as the answer."""
    host, seen = counted_host
    client = sdk_client(host.base_url, f"principal-{uuid.uuid4().hex}")
    conversation = client.conversations.create()
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "code_interpreter", "arguments": {"code": CODE_SAVING}}],
                                             match=tok), reply_text(LINKED, match=tok))
    cited = client.responses.create(model=MODEL, input=f"Save it {tok}", conversation=conversation.id,
                                    tools=[{"type": "code_interpreter", "container": {"type": "auto"}}])
    assert cited.status == "completed", cited.error
    [citation] = cited.output[-1].content[0].annotations
    assert citation.type == "container_file_citation"
    tok = token()
    scripted.client.enqueue(reply_text("Plain.", match=tok))
    plain = client.responses.create(model=MODEL, input=f"Thanks {tok}", conversation=conversation.id)

    def reads(read) -> tuple[object, list[str]]:
        start = len(seen)
        shown = read()
        return shown, [urllib.parse.unquote(path) for service, method, path in seen[start:]
                       if service == "Table" and conversation.id in urllib.parse.unquote(path)]

    answer = cited.output[-1].id
    shown, cited_paths = reads(lambda: client.conversations.items.retrieve(answer, conversation_id=conversation.id))
    assert shown.content[0].annotations == [citation]
    _, plain_paths = reads(lambda: client.conversations.items.retrieve(plain.output[-1].id,
                                                                       conversation_id=conversation.id))
    assert len(cited_paths) == len(plain_paths) + 1, (cited_paths, plain_paths)
    # a page showing the cited answer: one more query of at most limit+1 rows than the page's own reads
    following = client.conversations.items.list(conversation.id, limit=1, order="asc", after=answer).data[0].id
    before, before_paths = reads(lambda: client.conversations.items.list(conversation.id, limit=2, order="desc",
                                                                         after=following))
    assert before.data[0].id == answer and before.data[0].content[0].annotations == [citation]
    tops = [int(top) for path in before_paths for top in re.findall(r"\$top=(\d+)", path)]
    assert len(before_paths) <= 12 and max(tops) <= 3, before_paths
