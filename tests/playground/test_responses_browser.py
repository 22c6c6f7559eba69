"""The playground's Responses panel in headless Chromium: a thread begun in the chat (the Assistants API) is
read as a conversation's items, continued with a response asked with the assistant's settings, whose
timeline shows its output items, status and usage; its function call is answered through the page.
Screenshot 7 (under .artifacts/playground/) is the panel after the answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripted_model import reply_text, reply_tool_calls
from tests.playground.test_browser import CHROMEDRIVER, CHROMIUM, WEATHER, Page, marker
from tests.playground.test_browser import browser as browser  # noqa: F401 - the module's fixture, shared

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="headless Chromium and chromedriver are not installed (`make install` installs Debian's "
           "chromium and chromium-driver where apt-get exists)")]


@pytest.fixture
def page(browser, page_url, client):  # noqa: F811 - the shared browser
    return Page(browser, page_url, client.api_key)


def test_a_thread_is_read_and_continued_as_a_conversation_with_a_response_timeline(page, scripted, client):
    run_tok, response_tok = marker(), marker()
    page.create_assistant(f"Forecaster {run_tok}", functions=WEATHER)
    page.new_thread()
    scripted.client.enqueue(reply_text(f"Hello from the run {run_tok}", match=run_tok))
    page.send(f"First, through a run {run_tok}")
    page.wait_text(".message.assistant", f"Hello from the run {run_tok}")
    page.run_ended("completed")
    thread_id = page.driver.execute_script("return JSON.parse(localStorage.getItem('playground.threads'))[0].id")

    page.css("#use-thread").click()  # the chat's thread, read through the Conversations API
    page.wait_text("#conversation-items", f"Hello from the run {run_tok}")
    assert page.css("#conversation-id").get_attribute("value") == thread_id
    assert page.text_of("#conversation-items .step-head strong") == "User message Assistant message"

    scripted.client.enqueue(
        reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}}], match=response_tok),
        reply_text(f"It is 21C and sunny in Oslo {response_tok}", match=response_tok))
    page.fill("respond-input", f"Weather in Oslo? {response_tok}")
    page.css("#respond-send").click()

    page.until(lambda d: page.css("#response-calls-form").is_displayed(), "the function call to answer")
    assert page.text_of("#response-badge") == "completed"  # a response ends with the client's calls in it
    assert "Function call get_weather" in page.text_of("#response-output")
    assert '"city": "Oslo"' in page.text_of("#response-output pre")
    first_response = page.css("#response-id").get_attribute("value")
    assert first_response.startswith("resp_")
    page.css("#response-calls textarea").send_keys("21C and sunny")
    page.css("#response-calls-form button[type=submit]").click()

    page.wait_text("#response-output", f"It is 21C and sunny in Oslo {response_tok}")
    page.until(lambda d: page.text_of("#response-badge") == "completed" and page.css("#respond-send").is_enabled())
    assert page.css("#response-id").get_attribute("value") != first_response
    assert page.text_of("#response-output .step-head strong") == "Assistant message"
    assert "tokens" in page.text_of("#response-usage") and thread_id in page.text_of("#response-summary")
    assert not page.css("#response-calls-form").is_displayed()
    # One history: the conversation's items and the chat (the Assistants API's messages) both show the answer.
    page.wait_text("#conversation-items", f"It is 21C and sunny in Oslo {response_tok}")
    page.wait_text("#messages", f"It is 21C and sunny in Oslo {response_tok}")
    told = [m for m in scripted.client.requests()[-1]["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in told] == ["21C and sunny"]
    items = client.conversations.items.list(thread_id, order="asc").data
    assert [getattr(item, "role", item.type) for item in items] == [
        "user", "assistant", "user", "function_call", "function_call_output", "assistant"]
    assert (items[3].name, items[4].output) == ("get_weather", "21C and sunny")
    assert items[-1].content[0].text == f"It is 21C and sunny in Oslo {response_tok}"
    page.screenshot("7-responses.png", show=".responses")


def test_a_response_is_shown_by_its_id_and_a_failure_says_why(page, scripted, client):
    tok = marker()
    scripted.client.enqueue(reply_text(f"Stored answer {tok}", match=tok))
    made = client.responses.create(model="gpt-scripted", input=f"Question {tok}")
    page.fill("response-id", made.id)
    page.css("#response-form button[type=submit]").click()
    page.wait_text("#response-output", f"Stored answer {tok}")
    assert page.text_of("#response-badge") == "completed"
    page.fill("response-id", "resp_doesnotexist0000000000000")
    page.css("#response-form button[type=submit]").click()
    page.wait_text("#notice", "Could not show the response")
