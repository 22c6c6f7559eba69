"""The one constructor of each record (run step, message) against the SDK's own models: what is stored
and shown validates as the SDK's type, with no field the SDK does not know."""

from __future__ import annotations

import pytest
from openai._models import BaseModel as SdkModel
from openai.types.beta.threads import Message
from openai.types.beta.threads.runs import RunStep

from core import run_machine
from core.wire.messages import MessageCreate, message_record, new_message
from core.wire.runs import message_creation, new_step
from tests.support.sdk_models import assert_no_unknown_fields

RUN = {"id": "run_1", "thread_id": "thread_1", "assistant_id": "asst_1"}
CALLS = [{"id": "call_a", "type": "function", "function": {"name": "f", "arguments": "{}", "output": None}},
         {"id": "call_b", "type": "code_interpreter",
          "code_interpreter": {"input": "1+1", "outputs": [{"type": "logs", "logs": "2"}]}},
         {"id": "call_c", "type": "file_search", "file_search": {}}]


def _sdk(model_type: type[SdkModel], record: dict) -> SdkModel:
    parsed = model_type.model_validate(record)
    assert_no_unknown_fields(parsed)
    assert parsed.model_dump(mode="json", exclude_unset=True) == record
    return parsed



def test_a_message_creation_step_born_completed():
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    step = _sdk(RunStep, new_step(RUN, "step_1", 5, "completed", message_creation("msg_1"), usage))
    assert (step.type, step.status, step.completed_at, step.created_at) == ("message_creation", "completed", 5, 5)
    assert step.step_details.message_creation.message_id == "msg_1" and step.usage.total_tokens == 5
    assert (step.run_id, step.thread_id, step.assistant_id) == ("run_1", "thread_1", "asst_1")


def test_a_tool_calls_step_in_progress_then_closed_by_its_run():
    record = new_step(RUN, "step_1", 5, "in_progress", {"type": "tool_calls", "tool_calls": CALLS})
    step = _sdk(RunStep, record)
    assert (step.type, step.status, step.completed_at, step.usage) == ("tool_calls", "in_progress", None, None)
    assert [call.type for call in step.step_details.tool_calls] == ["function", "code_interpreter", "file_search"]
    for status, stamp in run_machine.STATUS_TIMESTAMP.items():
        closed = _sdk(RunStep, run_machine.close_step(record, status, 9))
        assert closed.status == status and getattr(closed, stamp) == 9


@pytest.mark.parametrize("status, reason", [("in_progress", None), ("completed", None), ("incomplete", "max_tokens")])
def test_an_assistant_message_written_by_a_run(status, reason):
    content = [] if status == "in_progress" else [{"type": "text", "text": {"value": "hi", "annotations": []}}]
    message = _sdk(Message, message_record("msg_1", "thread_1", 5, "assistant", content, status=status,
                                           incomplete_reason=reason, run=RUN))
    assert (message.role, message.status, message.run_id, message.assistant_id) == (
        "assistant", status, "run_1", "asst_1")
    assert message.completed_at == (5 if status == "completed" else None)
    assert message.incomplete_at == (5 if status == "incomplete" else None)
    assert (message.incomplete_details and message.incomplete_details.reason) == reason


def test_a_posted_message_goes_through_the_same_constructor():
    body = MessageCreate.model_validate({"role": "user", "content": "hello", "metadata": {"k": "v"},
                                         "attachments": [{"file_id": "file-1", "tools": [{"type": "file_search"}]}]})
    record = new_message("msg_2", "thread_1", 7, body)
    message = _sdk(Message, record)
    assert (message.status, message.completed_at, message.run_id, message.assistant_id) == ("completed", 7, None, None)
    assert record == message_record("msg_2", "thread_1", 7, "user", record["content"],
                                    attachments=record["attachments"], metadata={"k": "v"})
