"""Context building and truncation for a model turn."""

import pytest

from core.model_context import PromptTooLarge, build_prompt, estimate_tokens, instructions_for


def stored(role: str, text: str) -> dict:
    return {"role": role, "content": [{"type": "text", "text": {"value": text, "annotations": []}}]}


THREAD = [stored("user", f"question {n} " + "x" * 300) if n % 2 == 0 else stored("assistant", f"answer {n}")
          for n in range(20)]


def test_run_instructions_replace_the_assistants_and_additional_ones_append():
    assistant = {"instructions": "Be a tutor."}
    assert instructions_for(assistant, {}) == "Be a tutor."
    assert instructions_for(assistant, {"instructions": "Be terse."}) == "Be terse."
    assert instructions_for(assistant, {"additional_instructions": "Use SI units."}) == "Be a tutor.\n\nUse SI units."
    assert instructions_for(assistant, {"instructions": "", "additional_instructions": "Only this."}) == "Only this."


def test_messages_in_order_with_system_first_and_run_turns_last():
    run_turns = [{"role": "assistant", "content": None,
                  "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                 {"role": "tool", "tool_call_id": "call_1", "content": "42"}]
    prompt = build_prompt(instructions="sys", thread_messages=THREAD[:3], run_turns=run_turns, tools=[],
                          truncation=None, max_prompt_tokens=None)
    assert [m["role"] for m in prompt.messages] == ["system", "user", "assistant", "user", "assistant", "tool"]
    assert prompt.messages[1]["content"].startswith("question 0")
    assert prompt.dropped_messages == 0


def test_last_messages_keeps_only_the_newest():
    prompt = build_prompt(instructions="", thread_messages=THREAD, run_turns=[], tools=[],
                          truncation={"type": "last_messages", "last_messages": 3}, max_prompt_tokens=None)
    assert [m["content"][:9] for m in prompt.messages] == ["answer 17", "question ", "answer 19"]
    assert prompt.dropped_messages == 17


@pytest.mark.parametrize("budget", [150, 400, 1000, 2500])
def test_max_prompt_tokens_really_bounds_the_prompt(budget):
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    prompt = build_prompt(instructions="You are helpful.", thread_messages=THREAD, run_turns=[], tools=tools,
                          truncation={"type": "auto"}, max_prompt_tokens=budget)
    assert prompt.estimated_tokens <= budget
    text = "".join(m["content"] for m in prompt.messages) + str(tools)
    assert len(text) / 4 <= budget  # also under a 4-chars-a-token count, as most tokenizers give
    assert prompt.messages[-1]["content"] == "answer 19"  # the newest message always survives


def _exchange(call_id: str, output: str) -> list[dict]:
    return [{"role": "assistant", "content": None,
             "tool_calls": [{"id": call_id, "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": call_id, "content": output}]


def _timed(ordinal: int, role: str, text: str) -> dict:
    return {**stored(role, text), "id": f"msg_{ordinal:09d}" + "0" * 15}


def _step_id(ordinal: int) -> str:
    return f"step_{ordinal:09d}" + "0" * 15


def test_earlier_tool_exchanges_sit_before_the_first_message_made_after_them():
    thread = [_timed(1, "user", "weather?"), _timed(4, "assistant", "sunny"), _timed(5, "user", "and tomorrow?")]
    earlier = [(_step_id(3), _exchange("call_b", "rain")), (_step_id(2), _exchange("call_a", "sun"))]
    prompt = build_prompt(instructions="", thread_messages=thread, run_turns=[], tools=[], truncation=None,
                          max_prompt_tokens=None, earlier_turns=earlier)
    shown = [m.get("tool_call_id") or m["content"] or "calls" for m in prompt.messages]
    assert shown == ["weather?", "calls", "call_a", "calls", "call_b", "sunny", "and tomorrow?"]
    # one made after the last message ends the prompt's history
    late = build_prompt(instructions="", thread_messages=thread[:2], run_turns=[], tools=[], truncation=None,
                        max_prompt_tokens=None, earlier_turns=[(_step_id(6), _exchange("call_c", "x"))])
    assert [m.get("tool_call_id") for m in late.messages][-1] == "call_c"


def test_truncation_drops_an_exchange_with_the_message_it_precedes_never_a_call_from_its_output():
    thread = [_timed(1, "user", "q " + "x" * 400), _timed(3, "assistant", "answer"), _timed(4, "user", "next")]
    earlier = [(_step_id(2), _exchange("call_a", "y" * 400))]
    kept = build_prompt(instructions="", thread_messages=thread, run_turns=[], tools=[],
                        truncation={"type": "last_messages", "last_messages": 2}, max_prompt_tokens=None,
                        earlier_turns=earlier)
    assert [m["role"] for m in kept.messages] == ["assistant", "tool", "assistant", "user"]
    shown = {}
    for budget in (20, 60, 150, 300, 10_000):
        prompt = build_prompt(instructions="", thread_messages=thread, run_turns=[], tools=[], truncation=None,
                              max_prompt_tokens=budget, earlier_turns=earlier)
        roles = [m["role"] for m in prompt.messages]
        for index, role in enumerate(roles):
            if role == "tool":  # an output never without the call it answers, just before it
                assert prompt.messages[index - 1]["tool_calls"][0]["id"] == prompt.messages[index]["tool_call_id"]
        assert prompt.messages[-1]["content"] == "next"
        shown[budget] = "tool" in roles
    assert shown[20] is False and shown[10_000] is True


def test_a_prompt_that_cannot_fit_is_reported():
    with pytest.raises(PromptTooLarge):
        build_prompt(instructions="x" * 3000, thread_messages=THREAD, run_turns=[], tools=[],
                     truncation=None, max_prompt_tokens=100)


def test_estimate_is_conservative():
    assert estimate_tokens("abcdefghij" * 30) >= 300 / 4


def test_estimate_does_not_undercount_non_latin_text():
    # Tokenizers spend about a token per CJK character and more on emoji.
    assert estimate_tokens("漢字" * 100) >= 200
    assert estimate_tokens("🙂" * 10) >= 20


def test_images_are_chat_image_parts_and_count_at_the_image_rate():
    from core.model_context import IMAGE_TOKENS, LOW_DETAIL_IMAGE_TOKENS, chat_message, message_tokens

    class Files:
        def image_url(self, file_id):
            return "data:image/png;base64,AAAA" if file_id == "file-a" else None

        def file_text(self, file_id):
            return "[file notes.md]\nthe notes" if file_id == "file-n" else None

    huge = "data:image/png;base64," + "A" * 400_000
    message = {"role": "user", "attachments": [{"file_id": "file-n", "tools": []},
                                               {"file_id": "file-s", "tools": [{"type": "file_search"}]},
                                               {"file_id": "file-gone", "tools": []}],
               "content": [{"type": "text", "text": {"value": "Look", "annotations": []}},
                           {"type": "image_url", "image_url": {"url": huge, "detail": "low"}},
                           {"type": "image_file", "image_file": {"file_id": "file-a", "detail": "high"}},
                           {"type": "image_file", "image_file": {"file_id": "file-b", "detail": "auto"}}]}
    chat = chat_message(message, Files())
    assert chat["content"] == [
        {"type": "text", "text": "Look"}, {"type": "image_url", "image_url": {"url": huge, "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "high"}},
        {"type": "text", "text": "[image file file-b is not available]"},
        {"type": "text", "text": "[file notes.md]\nthe notes"},
        {"type": "text", "text": "[file file-gone could not be read]"}]
    text_tokens = message_tokens({"role": "user", "content": [part for part in chat["content"]
                                                              if part["type"] == "text"]})
    assert message_tokens(chat) == text_tokens + LOW_DETAIL_IMAGE_TOKENS + IMAGE_TOKENS < 1000
    assert chat_message({"role": "user", "content": message["content"][:1], "attachments": []}) == \
        {"role": "user", "content": "Look"}
