"""web_search inside responses: the same plug-in and engine layer as the Assistants `browser` tool, shown as
`web_search_call` items and `url_citation` annotations, read with the SDK's strict validation.

A module devhost searches a loopback stand-in SearXNG (tests/tools/conftest.StandIn), reading no pages
(a page reader refuses loopback by design); the suite's shared devhost has no engine at all.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from scripted_model import reply_text, reply_tool_calls
from tests.conftest import devhost_with, sdk_client
from tests.runs.conftest import MODEL, requests_for, token
from tests.tools.conftest import Reply, StandIn

JSON = {"Content-Type": "application/json"}
SOURCES = "web_search_call.action.sources"
EVENTS = TypeAdapter(ResponseStreamEvent)


@pytest.fixture(scope="module")
def engine():
    server = StandIn()
    yield server
    server.close()


@pytest.fixture(scope="module")
def host(azurite, scripted, engine, tmp_path_factory):
    with devhost_with(azurite, scripted, tmp_path_factory, "responses-web-search", WEB_SEARCH_BACKEND="searxng",
                      WEB_SEARCH_SEARXNG_URL=engine.url, WEB_SEARCH_READ_PAGES="0",
                      WEB_SEARCH_TIMEOUT_SECONDS="2") as process:
        yield process


@pytest.fixture
def searcher(host):
    """A strict SDK client of a principal no other test uses, on the devhost with a search engine."""
    return sdk_client(host.base_url, f"principal-{uuid.uuid4().hex}")


def answer_query(engine: StandIn, query: str, reply: Reply) -> None:
    engine.routes["/search?" + urlencode({"q": query, "format": "json", "safesearch": "1"})] = reply


def searxng(*entries: tuple[str, str, str]) -> Reply:
    return Reply(200, json.dumps({"results": [{"title": t, "url": u, "content": c} for t, u, c in entries]}).encode(),
                 JSON)


def _script(scripted, tok: str, query: str, answer: str) -> None:
    scripted.client.enqueue(reply_tool_calls([{"name": "web_search", "arguments": {"query": query}}], match=tok),
                            reply_text(answer, match=tok))


def _tool_output(scripted, tok: str) -> str:
    """What the model read as the search's output (the tool message of its second turn)."""
    return next(m for m in requests_for(scripted, tok)[1]["messages"] if m["role"] == "tool")["content"]


def test_without_an_engine_the_response_completes_and_the_model_hears_so(fresh, scripted):
    """The suite's shared devhost has no WEB_SEARCH_BACKEND."""
    tok = token()
    _script(scripted, tok, "anything", "Web search is not available here.")
    response = fresh.responses.create(model=MODEL, input=f"Search {tok}", tools=[{"type": "web_search"}])
    assert response.status == "completed", response.error
    call, message = response.output
    assert call.type == "web_search_call" and call.status == "failed"
    assert call.action.type == "search" and call.action.query == "anything"
    assert json.loads(_tool_output(scripted, tok)) == {"query": "anything",
                                                       "error": "web search is not configured on this deployment"}
    assert message.content[0].text == "Web search is not available here." and message.content[0].annotations == []


def test_a_search_is_a_web_search_call_and_the_answer_cites_what_it_showed(searcher, scripted, engine):
    tok, query = token(), "contoso ruling " + token()
    answer_query(engine, query, searxng(
        ("Contoso v. Fabrikam", "https://courts.example.gov/cases/123", "The court ruled on damages."),
        ("Forum thread", "https://forum.example.net/t/1", "Someone's opinion.")))
    answer = ("The court ruled on damages ([Contoso v. Fabrikam](https://courts.example.gov/cases/123)); "
              "see also https://invented.example.org/x.")
    _script(scripted, tok, query, answer)
    response = searcher.responses.create(model=MODEL, input=f"Find the ruling {tok}",
                                         tools=[{"type": "web_search_preview", "search_context_size": "low",
                                                 "user_location": {"type": "approximate", "country": "US"}}])
    assert response.status == "completed", response.error
    assert [tool["function"]["name"] for tool in requests_for(scripted, tok)[0]["tools"]] == ["web_search"]
    read = json.loads(_tool_output(scripted, tok))
    assert [result["url"] for result in read["results"]] == ["https://courts.example.gov/cases/123",
                                                             "https://forum.example.net/t/1"]

    call, message = response.output
    assert call.type == "web_search_call" and call.status == "completed" and call.id.startswith("ws_")
    assert call.action.type == "search" and call.action.query == query
    assert call.action.sources is None  # only on include
    [part] = message.content
    assert part.text == answer
    [citation] = part.annotations  # the invented URL was never shown: no citation
    link = "[Contoso v. Fabrikam](https://courts.example.gov/cases/123)"
    assert citation.type == "url_citation" and citation.url == "https://courts.example.gov/cases/123"
    assert citation.title == "Contoso v. Fabrikam"
    assert answer[citation.start_index:citation.end_index] == link
    tool = response.tools[0]
    assert tool.type == "web_search_preview" and tool.search_context_size == "low"
    assert tool.user_location is not None and tool.user_location.country == "US"

    shown = searcher.responses.retrieve(response.id, include=[SOURCES])
    assert [(source.type, source.url) for source in shown.output[0].action.sources] == [
        ("url", "https://courts.example.gov/cases/123"), ("url", "https://forum.example.net/t/1")]
    assert searcher.responses.retrieve(response.id).output[0].action.sources is None


def test_include_sources_on_create(searcher, scripted, engine):
    tok, query = token(), "sources " + token()
    answer_query(engine, query, searxng(("A page", "https://docs.example.com/a", "Snippet.")))
    _script(scripted, tok, query, "See https://docs.example.com/a.")
    response = searcher.responses.create(model=MODEL, input=f"Look {tok}", include=[SOURCES],
                                         tools=[{"type": "web_search"}])
    assert response.status == "completed", response.error
    assert [source.url for source in response.output[0].action.sources] == ["https://docs.example.com/a"]
    [citation] = response.output[1].content[0].annotations
    assert (citation.url, citation.title) == ("https://docs.example.com/a", "A page")
    assert response.output[1].content[0].text[citation.start_index:citation.end_index] == "https://docs.example.com/a"


def test_an_answer_read_as_a_conversation_item_cites_what_the_search_showed(searcher, scripted, engine):
    tok, query = token(), "conversation " + token()
    answer_query(engine, query, searxng(("A page", "https://docs.example.com/b", "Snippet.")))
    _script(scripted, tok, query, "See [A page](https://docs.example.com/b).")
    conversation = searcher.conversations.create()
    response = searcher.responses.create(model=MODEL, input=f"Look {tok}", conversation=conversation.id,
                                         tools=[{"type": "web_search"}])
    assert response.status == "completed", response.error
    answer = searcher.responses.retrieve(response.id).output[1]
    [citation] = answer.content[0].annotations
    assert (citation.type, citation.url) == ("url_citation", "https://docs.example.com/b")
    listed = searcher.conversations.items.list(conversation.id, order="asc").data
    assert [item.type for item in listed] == ["message", "web_search_call", "message"]
    assert listed[2].model_dump() == answer.model_dump()
    assert searcher.conversations.items.retrieve(answer.id, conversation_id=conversation.id).model_dump() == \
        answer.model_dump()


def test_allowed_domains_keep_other_domains_from_the_model(searcher, scripted, engine):
    tok, query = token(), "filtered " + token()
    answer_query(engine, query, searxng(
        ("Kept", "https://www.example.gov/kept", "From an allowed domain."),
        ("Dropped", "https://forum.elsewhere.net/t/1", "From a domain the filter does not allow."),
        ("Also kept", "https://example.com/also", "The other allowed domain.")))
    _script(scripted, tok, query, "Found https://www.example.gov/kept and https://forum.elsewhere.net/t/1.")
    response = searcher.responses.create(model=MODEL, input=f"Search {tok}", include=[SOURCES],
                                         tools=[{"type": "web_search",
                                                 "filters": {"allowed_domains": ["example.gov", "example.com"]}}])
    assert response.status == "completed", response.error
    read = json.loads(_tool_output(scripted, tok))
    assert [result["url"] for result in read["results"]] == ["https://www.example.gov/kept", "https://example.com/also"]
    assert "elsewhere" not in _tool_output(scripted, tok)
    assert [source.url for source in response.output[0].action.sources] == ["https://www.example.gov/kept",
                                                                            "https://example.com/also"]
    # the dropped result was never shown, so its URL in the answer is no citation
    assert [a.url for a in response.output[1].content[0].annotations] == ["https://www.example.gov/kept"]
    assert response.tools[0].filters.allowed_domains == ["example.gov", "example.com"]


def test_streaming_shows_the_search_call_events_in_order(searcher, scripted, engine):
    tok, query = token(), "streamed " + token()
    answer_query(engine, query, searxng(("A case", "https://courts.example.gov/a", "Snippet.")))
    _script(scripted, tok, query, "See [A case](https://courts.example.gov/a).")
    events = [EVENTS.validate_python(event.model_dump()) for event in searcher.responses.create(
        model=MODEL, input=f"Stream {tok}", stream=True, tools=[{"type": "web_search"}])]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    call_id = next(event.item.id for event in events if event.type == "response.output_item.added"
                   and event.item.type == "web_search_call")
    around = [event.type for event in events if getattr(event, "item_id", None) == call_id
              or getattr(getattr(event, "item", None), "id", None) == call_id]
    assert around == ["response.output_item.added", "response.web_search_call.in_progress",
                      "response.web_search_call.searching", "response.web_search_call.completed",
                      "response.output_item.done"]
    added = next(event for event in events if event.type == "response.output_item.added" and event.item.id == call_id)
    done = next(event for event in events if event.type == "response.output_item.done" and event.item.id == call_id)
    assert added.item.status == "in_progress" and done.item.status == "completed"
    assert done.item.action.query == query and added.output_index == done.output_index == 0
    kinds = [event.type for event in events]
    assert kinds.index("response.output_item.done") < kinds.index("response.output_text.delta")
    assert "response.output_text.annotation.added" in kinds and kinds[-1] == "response.completed"
    final = events[-1].response
    assert final.output[0].type == "web_search_call"
    assert final.output[1].content[0].annotations[0].url == "https://courts.example.gov/a"


@pytest.mark.parametrize("reply, said", [
    (Reply(200, b"<html>an error page</html>", {"Content-Type": "text/html"}), "did not answer with JSON"),
    (Reply(200, b'{"results": 7}', JSON), "unexpected shape"),
    (Reply(503, b"down for maintenance"), "answered HTTP 503"),
    (Reply(200, b'{"results": []}', JSON, delay_seconds=3), "did not answer in time"),
])
def test_an_engine_failing_is_a_tool_error_the_model_reads_and_the_response_completes(searcher, scripted, engine,
                                                                                      reply, said):
    tok, query = token(), "failing " + token()
    answer_query(engine, query, reply)
    _script(scripted, tok, query, "The search did not work.")
    response = searcher.responses.create(model=MODEL, input=f"Search {tok}", tools=[{"type": "web_search"}])
    assert response.status == "completed", response.error
    assert said in json.loads(_tool_output(scripted, tok))["error"]
    call, message = response.output
    assert call.type == "web_search_call" and call.status == "failed" and call.action.query == query
    assert message.content[0].text == "The search did not work."

