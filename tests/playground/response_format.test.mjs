// node --test: how the page asks a response (the assistant's settings per call) and reads items.
import assert from "node:assert/strict";
import { test } from "node:test";

import { describeResponseEnd, functionOutputs, itemLines, pendingFunctionCalls, responseBody, responseEnded,
  responseTools, responseUsageLine } from "../../playground/response_format.mjs";

const WEATHER = { type: "function", function: { name: "get_weather", description: "Weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } } } } };
const ASSISTANT = { id: "asst_1", model: "gpt-4o", instructions: "Be brief.",
  tools: [{ type: "code_interpreter" }, WEATHER, { type: "file_search" }] };

test("an assistant's functions become Responses function tools; built-in tools are named as left out", () => {
  assert.deepEqual(responseTools(ASSISTANT), {
    tools: [{ type: "function", name: "get_weather", description: "Weather in a city",
      parameters: { type: "object", properties: { city: { type: "string" } } }, strict: false }],
    left: ["code_interpreter", "file_search"],
  });
  assert.deepEqual(responseTools(null), { tools: [], left: [] });
});

test("the body carries model, instructions and tools per call, on the conversation or after a response", () => {
  const onConversation = responseBody({ assistant: ASSISTANT, input: "Hi", conversation: "thread_1", previousResponseId: "resp_0" });
  assert.equal(onConversation.model, "gpt-4o");
  assert.equal(onConversation.instructions, "Be brief.");
  assert.equal(onConversation.tools[0].name, "get_weather");
  assert.equal(onConversation.conversation, "thread_1");
  assert.equal("previous_response_id" in onConversation, false); // the API refuses both at once
  assert.equal(onConversation.background, true);
  const chained = responseBody({ assistant: { model: "m", tools: [] }, input: "Hi", conversation: "", previousResponseId: "resp_0" });
  assert.deepEqual(chained, { model: "m", input: "Hi", previous_response_id: "resp_0", background: true });
});

test("function calls of a completed response are answered as function_call_output items", () => {
  const response = { status: "completed", output: [
    { type: "function_call", id: "fc_1", call_id: "call_1", name: "get_weather", arguments: "{\"city\":\"Oslo\"}" },
    { type: "message", id: "msg_1", role: "assistant", content: [] }] };
  const calls = pendingFunctionCalls(response);
  assert.deepEqual(calls.map((call) => call.call_id), ["call_1"]);
  assert.deepEqual(pendingFunctionCalls({ ...response, status: "in_progress" }), []);
  assert.deepEqual(functionOutputs(calls, { call_1: "sunny" }),
    [{ type: "function_call_output", call_id: "call_1", output: "sunny" }]);
});

test("items read as a title, their text or arguments, and a status", () => {
  assert.deepEqual(itemLines({ type: "message", role: "assistant", status: "completed",
    content: [{ type: "output_text", text: "Hello " }, { type: "output_text", text: "there" }] }),
  { title: "Assistant message", text: "Hello there", detail: "", status: "completed" });
  const call = itemLines({ type: "function_call", name: "get_weather", call_id: "call_1", arguments: "{\"city\":\"Oslo\"}",
    status: "completed" });
  assert.equal(call.title, "Function call get_weather");
  assert.equal(call.detail, "{\n  \"city\": \"Oslo\"\n}");
  assert.equal(itemLines({ type: "function_call_output", call_id: "call_1", output: "sunny" }).text, "sunny");
  assert.equal(itemLines({ type: "reasoning", id: "rs_1" }).title, "reasoning");
});

test("usage, ends and failures in words", () => {
  assert.equal(responseUsageLine({ input_tokens: 3, output_tokens: 5, total_tokens: 8 }), "3 input + 5 output = 8 tokens");
  assert.equal(responseUsageLine(null), "");
  assert.equal(responseEnded({ status: "queued" }), false);
  assert.equal(responseEnded({ status: "cancelled" }), true);
  assert.equal(describeResponseEnd({ status: "completed" }), null);
  assert.equal(describeResponseEnd({ status: "failed", error: { code: "server_error", message: "boom" } }),
    "The response failed: boom");
  assert.equal(describeResponseEnd({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" } }),
    "The response is incomplete (max_output_tokens).");
});
