"""core.wire.conversation_items: how a conversation names, orders and pages its messages and call items."""

from __future__ import annotations

from core import ids, run_machine
from core.run_bookkeeping import StepBookkeeping
from core.tool_plugins import ItemView
from core.wire import conversation_items, item_places
from core.wire.runs import new_step
from tools.plugins import TOOLS

RUN = {"id": ids.new_id("run"), "thread_id": ids.new_id("thread"), "assistant_id": ""}


def _call(call_id: str, output: str | None) -> dict:
    return {"id": call_id, "type": "function", "function": {"name": "f", "arguments": "{}", "output": output}}


def _step(*calls: dict, status: str = run_machine.COMPLETED) -> dict:
    return new_step(RUN, ids.new_id("step"), 0, status, {"type": "tool_calls", "tool_calls": list(calls)})


def test_a_call_item_id_names_its_run_step_and_slot_and_sorts_by_the_step_time():
    step_id = ids.new_id("step")
    item_id = item_places.call_item_id("fco", RUN["id"], step_id, 65)
    assert item_places.call_place(item_id) == item_places.CallPlace("fco", RUN["id"], step_id, 65)
    assert conversation_items.is_item_id(item_id) and conversation_items.is_item_id(ids.new_id("message"))
    for malformed in ("fc_" + ids.body(step_id), "fc_call_abc", item_id + "0", "f-c_" + item_id[4:], "msg_x"):
        assert not conversation_items.is_item_id(malformed), malformed
    before = ids.new_id("message")
    later_step = ids.new_id("step")
    after = ids.new_id("message")
    keys = [conversation_items.place_key(value) for value in (
        before, item_places.call_item_id("fc", RUN["id"], later_step, 0),
        item_places.call_item_id("fc", RUN["id"], later_step, 1),
        item_places.call_item_id("fco", RUN["id"], later_step, 2), after)]
    assert keys == sorted(keys) and len(set(keys)) == 5


def test_a_step_shows_its_calls_then_the_answers_it_holds_each_at_a_slot_that_never_moves():
    step = _step(_call("call_a", None), _call("call_b", "two"))
    view = ItemView()
    shown = [item for _, item in conversation_items.step_items(step, StepBookkeeping(), TOOLS, view)]
    assert [(item["type"], item["call_id"]) for item in shown] == [
        ("function_call", "call_a"), ("function_call", "call_b"), ("function_call_output", "call_b")]
    slots = [item_places.call_place(item["id"]).slot for item in shown]
    assert slots == [0, 1, 3]  # call_a's answer, when it comes, takes slot 2: before call_b's, and no id moves
    answered = _step(_call("call_a", "one"), _call("call_b", "two"))
    answered["id"] = step["id"]
    again = [item for _, item in conversation_items.step_items(answered, StepBookkeeping(), TOOLS, view)]
    assert [item["id"] for item in again] == [shown[0]["id"], shown[1]["id"],
                                              item_places.call_item_id("fco", RUN["id"], step["id"], 2),
                                              shown[2]["id"]]
    # a response's seeded step: a call an earlier run made and showed shows only its answer there
    seeded = conversation_items.step_items(answered, StepBookkeeping(), TOOLS, view, frozenset({"call_a"}))
    assert [(item["type"], item["call_id"]) for _, item in seeded] == [
        ("function_call", "call_b"), ("function_call_output", "call_a"), ("function_call_output", "call_b")]


def test_a_page_merges_messages_and_calls_in_either_order_reading_calls_only_as_far_as_it_needs():
    entries = [(f"{index:02d}", {"id": str(index)}) for index in range(10)]
    messages, calls = entries[0::3], [entry for index, entry in enumerate(entries) if index % 3]
    read: list[str] = []

    def lazily(source):
        for entry in source:
            read.append(entry[0])
            yield entry

    items, more = conversation_items.page(messages, lazily(calls), "asc", 4)
    assert [item["id"] for item in items] == ["0", "1", "2", "3"] and more
    assert read == ["01", "02", "04"]  # one past the page to know more follow, no further
    items, more = conversation_items.page(messages[::-1], calls[::-1], "desc", 20)
    assert [item["id"] for item in items] == [str(index) for index in range(9, -1, -1)] and not more
    after = list(conversation_items.after_place(entries[::-1], "05", "desc"))
    assert [key for key, _ in after] == ["04", "03", "02", "01", "00"]
