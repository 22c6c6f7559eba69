"""File Search (benefits PDF) and the streaming Law Firm assistant.

They need file_search / vector stores and streaming runs from the service: marked so, they
skip while the service answers those with 400/404 and run as soon as it serves them.
"""

from __future__ import annotations

import pytest

from samples import file_search, law_firm
from scripted_model import reply_tool_calls
from tests.samples.conftest import answer, leftovers, script, tool_messages

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated
PDF = "contoso_benefits_2026.pdf"
CASE = law_firm.CASE_FILES[0].name


def searched(scripted, prompt: str) -> str:
    """What file_search told the model, whitespace folded (text out of a PDF breaks where its lines did)."""
    return " ".join(" ".join(tool_messages(scripted, prompt)).split())


def file_search_call(query: str) -> dict:
    return reply_tool_calls([{"name": "file_search", "arguments": {"query": query}}])


@pytest.mark.needs_file_search
def test_file_search_answers_from_the_benefits_pdf_with_a_citation(run_sample, scripted, service):
    dental, costs = file_search.PROMPTS
    script(scripted, dental, file_search_call("dental insurance"),
           answer(f"Yes: the Contoso Dental plan covers two cleanings a year at 100 percent【0†{PDF}】."))
    script(scripted, costs, file_search_call("medical plan premium deductible"),
           answer(f"Contoso Essential costs 38 dollars per paycheck, Contoso Plus 74【0†{PDF}】."))

    code, out = run_sample("file_search")

    assert code == 0, out
    assert "Vector store 'Contoso Benefits': 1 of 1 file(s) ready." in out
    # text the service read out of the PDF the sample made
    assert "The Contoso Dental plan covers two cleanings" in searched(scripted, dental)
    assert "38 dollars per paycheck" in searched(scripted, costs)
    assert out.count(f"  [cited 【0†{PDF}】]") == 2
    assert (run_sample.out_dir / PDF).read_bytes().startswith(b"%PDF-")
    assert leftovers(service) == {"assistants": 0, "files": 0}
    assert service.vector_stores.list().data == []


@pytest.mark.needs_streaming
@pytest.mark.needs_file_search
def test_law_firm_streams_its_answer_from_the_case_files(run_sample, scripted, service):
    status, damages, web = law_firm.PROMPTS
    streamed = f"The motion is heard on January 16, 2026 and trial starts on April 6, 2026【0†{CASE}】."
    script(scripted, status, file_search_call("Contoso Fabrikam status next dates"), answer(streamed))
    script(scripted, damages, file_search_call("damages claimed defence"),
           answer(f"Contoso claims 1.86 million dollars; Fabrikam relies on its liability cap【0†{CASE}】."))
    script(scripted, web, reply_tool_calls([{"name": "web_search", "arguments": {"query": "liability cap case law"}}]),
           answer("Web search is not available on this deployment."))

    code, out = run_sample("law_firm")

    assert code == 0, out
    assert "Trial is scheduled to begin on April 6, 2026" in searched(scripted, status)
    assert f"user: {status}\n[file_search] assistant: {streamed}\n" in out  # printed as the deltas came
    # the browser tool, as the seed declares it: this host has no search engine, so the model hears that
    assert "web search is not configured on this deployment" in " ".join(tool_messages(scripted, web))
    assert f"user: {web}\n[function] assistant: Web search is not available on this deployment.\n" in out
    assert leftovers(service) == {"assistants": 0, "files": 0}
    assert service.vector_stores.list().data == []
