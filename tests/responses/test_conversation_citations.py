"""A conversation's message items carry their citations as the response that wrote them shows them (file_search's
`file_citation`, code_interpreter's `container_file_citation`), and an Assistants run's cited answer read through
the Conversations API shows its `file_citation`s: listed and retrieved alike, with the SDK's strict validation."""

from __future__ import annotations

import openai
import pytest

from scripted_model import reply_text
from tests.responses.test_code_interpreter import ANSWER, AUTO, SUMMARY_CODE
from tests.responses.test_code_interpreter import _script as _code_script
from tests.responses.test_tools import _script as _search_script
from tests.responses.test_tools import _store as _search_store
from tests.responses.test_tools import searched_in_a_conversation
from tests.runs.conftest import MODEL, token
from tests.support.sdk_models import assert_no_unknown_fields

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated


def _messages(client: openai.OpenAI, conversation_id: str, **options) -> list:
    page = client.conversations.items.list(conversation_id, limit=100, order="asc", **options)
    assert not page.has_more
    assert_no_unknown_fields(page.data)
    return [item for item in page.data if item.type == "message"]


def _answer(client: openai.OpenAI, response_id: str):
    [message] = [item for item in client.responses.retrieve(response_id).output if item.type == "message"]
    return message


def _assert_shown_as_in_the_response(client: openai.OpenAI, conversation_id: str, response_ids: list[str]) -> None:
    """Each response's answer is, listed and retrieved as a conversation item, its output's message item."""
    answers = [_answer(client, response_id) for response_id in response_ids]
    listed = {item.id: item for item in _messages(client, conversation_id)}
    for answer in answers:
        assert listed[answer.id].model_dump() == answer.model_dump()
        retrieved = client.conversations.items.retrieve(answer.id, conversation_id=conversation_id)
        assert retrieved.model_dump() == answer.model_dump()
    # a page holding only the newest answer shows it cited too
    [newest] = client.conversations.items.list(conversation_id, limit=1).data
    assert newest.model_dump() == answers[-1].model_dump()


def test_a_file_search_answer_is_listed_and_retrieved_with_its_file_citation(fresh, scripted):
    _, report_id, conversation, response = searched_in_a_conversation(fresh, scripted)
    [part] = _answer(fresh, response.id).content
    [citation] = part.annotations
    assert citation.type == "file_citation" and (citation.file_id, citation.filename) == (report_id,
                                                                                          "contoso-report.pdf")
    _assert_shown_as_in_the_response(fresh, conversation.id, [response.id])


def test_code_interpreter_answers_are_listed_and_retrieved_with_their_container_file_citations(fresh, scripted):
    conversation = fresh.conversations.create()
    shown = []
    for turn in range(2):  # two runs' answers on one page: each cited from its own run's calls
        tok = token()
        _code_script(scripted, tok, SUMMARY_CODE)
        file_id = fresh.files.create(file=("sales.csv", b"region,amount\nnorth,120\nsouth,80\nwest,45\n"),
                                     purpose="user_data").id
        response = fresh.responses.create(model=MODEL, input=f"Summarize the sales {turn} {tok}",
                                          conversation=conversation.id,
                                          tools=[{**AUTO, "container": {"type": "auto", "file_ids": [file_id]}}])
        assert response.status == "completed", response.error
        shown.append(response)
    # an answer between them cites nothing and is shown as it is
    tok = token()
    scripted.client.enqueue(reply_text("No link here.", match=tok))
    plain = fresh.responses.create(model=MODEL, input=f"Thanks {tok}", conversation=conversation.id)
    for response in shown:
        [part] = _answer(fresh, response.id).content
        [citation] = part.annotations
        assert citation.type == "container_file_citation" and citation.filename == "summary.csv"
        assert citation.container_id == response.output[0].container_id
        assert ANSWER[citation.start_index:citation.end_index] == "sandbox:/mnt/data/summary.csv"
    assert shown[0].output[-1].content[0].annotations != shown[1].output[-1].content[0].annotations
    _assert_shown_as_in_the_response(fresh, conversation.id, [response.id for response in shown] + [plain.id])


def test_an_assistants_runs_cited_answer_shows_its_file_citations_through_conversations(fresh, scripted):
    store_id, report_id = _search_store(fresh)
    assistant = fresh.beta.assistants.create(model=MODEL, tools=[{"type": "file_search"}],
                                             tool_resources={"file_search": {"vector_store_ids": [store_id]}})
    tok = token()
    _search_script(scripted, tok)
    thread = fresh.beta.threads.create(messages=[{"role": "user", "content": f"What was Contoso's revenue? {tok}"}])
    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=50)
    assert run.status == "completed", run.last_error
    message = fresh.beta.threads.messages.list(thread_id=thread.id, order="desc").data[0]
    [assistants_citation] = message.content[0].text.annotations

    _, answer = _messages(fresh, thread.id)
    assert answer.id == message.id and answer.role == "assistant"
    [part] = answer.content
    assert part.text == message.content[0].text.value
    [citation] = part.annotations
    assert citation.type == "file_citation"
    assert (citation.file_id, citation.filename, citation.index) == (report_id, "contoso-report.pdf",
                                                                     assistants_citation.start_index)
    assert fresh.conversations.items.retrieve(answer.id, conversation_id=thread.id) == answer
