// node --test: streamed events and polled snapshots build the same run picture.
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyEvent, applySnapshot, emptyState, isLive, mergeDelta, pendingCalls } from "../../playground/run_state.mjs";

const run = (status, extra = {}) => ({ id: "run_1", thread_id: "thread_1", object: "thread.run", status, ...extra });

function replay(events) {
  return events.reduce((state, event) => applyEvent(state, event), emptyState());
}

test("message deltas add up to the completed message", () => {
  const final = { id: "msg_1", object: "thread.message", role: "assistant", status: "completed",
    content: [{ type: "text", text: { value: "Hello world", annotations: [] } }] };
  const state = replay([
    { event: "thread.run.created", data: run("queued") },
    { event: "thread.run.in_progress", data: run("in_progress") },
    { event: "thread.message.created", data: { ...final, status: "in_progress", content: [] } },
    { event: "thread.message.delta", data: { id: "msg_1", delta: { content: [{ index: 0, type: "text", text: { value: "Hel" } }] } } },
    { event: "thread.message.delta", data: { id: "msg_1", delta: { content: [{ index: 0, type: "text", text: { value: "lo world" } }] } } },
  ]);
  assert.equal(state.messages[0].content[0].text.value, "Hello world");
  assert.equal(state.messages[0].status, "in_progress");
  const done = replay([{ event: "thread.message.completed", data: final }, { event: "thread.run.completed", data: run("completed") },
    { event: "done", data: null }]);
  assert.equal(done.done, true);
  assert.equal(isLive(done), false);
});

test("annotations and image parts arrive by index", () => {
  const state = replay([
    { event: "thread.message.delta", data: { id: "m", delta: { content: [{ index: 0, type: "text", text: { value: "See ", annotations: [] } }] } } },
    { event: "thread.message.delta", data: { id: "m", delta: { content: [{ index: 0, type: "text", text: { value: "sandbox:/mnt/data/a.csv",
      annotations: [{ index: 0, type: "file_path", text: "sandbox:/mnt/data/a.csv", start_index: 4, end_index: 27, file_path: { file_id: "file-a" } }] } }] } } },
    { event: "thread.message.delta", data: { id: "m", delta: { content: [{ index: 1, type: "image_file", image_file: { file_id: "file-img" } }] } } },
  ]);
  const [text, image] = state.messages[0].content;
  assert.equal(text.text.value, "See sandbox:/mnt/data/a.csv");
  assert.equal(text.text.annotations[0].file_path.file_id, "file-a");
  assert.equal(image.image_file.file_id, "file-img");
  assert.equal(state.messages[0].role, "assistant"); // a delta before its created event still makes a message
});

test("code interpreter step deltas: input pieces, then logs and an image output", () => {
  const step = { id: "step_1", object: "thread.run.step", status: "in_progress", created_at: 10,
    step_details: { type: "tool_calls", tool_calls: [] } };
  const state = replay([
    { event: "thread.run.step.created", data: step },
    { event: "thread.run.step.delta", data: { id: "step_1", delta: { step_details: { type: "tool_calls", tool_calls: [
      { index: 0, id: "call_1", type: "code_interpreter", code_interpreter: { input: "print(", outputs: [] } }] } } } },
    { event: "thread.run.step.delta", data: { id: "step_1", delta: { step_details: { type: "tool_calls", tool_calls: [
      { index: 0, type: "code_interpreter", code_interpreter: { input: "1)" } }] } } } },
    { event: "thread.run.step.delta", data: { id: "step_1", delta: { step_details: { type: "tool_calls", tool_calls: [
      { index: 0, type: "code_interpreter", code_interpreter: { outputs: [{ index: 0, type: "logs", logs: "1\n" },
        { index: 1, type: "image", image: { file_id: "file-png" } }] } }] } } } },
  ]);
  const call = state.steps[0].step_details.tool_calls[0];
  assert.equal(call.id, "call_1");
  assert.equal(call.code_interpreter.input, "print(1)");
  assert.deepEqual(call.code_interpreter.outputs.map((o) => o.type), ["logs", "image"]);
  const completed = applyEvent(state, { event: "thread.run.step.completed", data: { ...step, status: "completed",
    step_details: { type: "tool_calls", tool_calls: [{ id: "call_1", type: "code_interpreter", code_interpreter: { input: "print(1)",
      outputs: [{ type: "logs", logs: "1\n" }] } }] } } });
  assert.equal(completed.steps.length, 1);
  assert.equal(completed.steps[0].status, "completed");
});

test("function call arguments stream in pieces; requires_action lists the pending calls", () => {
  const state = replay([
    { event: "thread.run.step.delta", data: { id: "s", delta: { step_details: { type: "tool_calls", tool_calls: [
      { index: 0, id: "call_w", type: "function", function: { name: "get_weather", arguments: "{\"ci", output: null } }] } } } },
    { event: "thread.run.step.delta", data: { id: "s", delta: { step_details: { type: "tool_calls", tool_calls: [
      { index: 0, type: "function", function: { arguments: "ty\": \"Oslo\"}" } }] } } } },
    { event: "thread.run.requires_action", data: run("requires_action", { required_action: { type: "submit_tool_outputs",
      submit_tool_outputs: { tool_calls: [{ id: "call_w", type: "function", function: { name: "get_weather", arguments: "{}" } }] } } }) },
  ]);
  assert.equal(state.steps[0].step_details.tool_calls[0].function.arguments, '{"city": "Oslo"}');
  assert.equal(state.steps[0].step_details.tool_calls[0].function.name, "get_weather");
  assert.equal(isLive(state), false);
  assert.deepEqual(pendingCalls(state.run).map((c) => c.id), ["call_w"]);
  assert.deepEqual(pendingCalls(run("in_progress")), []);
});

test("an error event is kept for the page to show", () => {
  const state = replay([{ event: "error", data: { error: { message: "boom", type: "server_error" } } }]);
  assert.equal(state.error.message, "boom");
});

test("a poll's snapshots replace what streaming built, and later deltas still apply", () => {
  let state = replay([{ event: "thread.message.delta", data: { id: "m", delta: { content: [{ index: 0, type: "text", text: { value: "Hi" } }] } } }]);
  state = applySnapshot(state, { run: run("in_progress"), steps: [], messages: [{ id: "m", role: "assistant", status: "in_progress",
    content: [{ type: "text", text: { value: "Hi there", annotations: [] } }] }] });
  assert.equal(state.messages[0].content[0].text.value, "Hi there");
  state = applyEvent(state, { event: "thread.message.delta", data: { id: "m", delta: { content: [{ index: 0, type: "text", text: { value: "!" } }] } } });
  assert.equal(state.messages[0].content[0].text.value, "Hi there!");
  assert.equal(state.messages[0].content.length, 1);
});

test("mergeDelta replaces plain fields and leaves its inputs untouched", () => {
  const target = { status: "in_progress", output: null, nested: { value: "a" } };
  const merged = mergeDelta(target, { status: "completed", output: "42", nested: { value: "b" } });
  assert.deepEqual(merged, { status: "completed", output: "42", nested: { value: "ab" } });
  assert.deepEqual(target, { status: "in_progress", output: null, nested: { value: "a" } });
});
