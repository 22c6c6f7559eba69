// node --test: what the page says (annotations as links, errors in words, timings) and its form decisions.
import assert from "node:assert/strict";
import { test } from "node:test";

import { baseName, describeHttpError, describeRunEnd, duration, textSegments, usageLine } from "../../playground/format.mjs";
import { assistantBody, assistantFields, forgetThread, parseFunctions, parseRecent, rememberThread, threadTitle,
  RECENT_LIMIT } from "../../playground/forms.mjs";

function annotated(value, ...annotations) {
  return { value, annotations };
}

test("a file_path inside a markdown link becomes one download named by the link", () => {
  const value = "Here it is: [squares.csv](sandbox:/mnt/data/squares.csv). Enjoy";
  const start = value.indexOf("sandbox:");
  const segments = textSegments(annotated(value, { type: "file_path", text: "sandbox:/mnt/data/squares.csv",
    start_index: start, end_index: start + "sandbox:/mnt/data/squares.csv".length, file_path: { file_id: "file-1" } }));
  assert.deepEqual(segments, [
    { kind: "text", text: "Here it is: " },
    { kind: "file", fileId: "file-1", filename: "squares.csv", label: "squares.csv" },
    { kind: "text", text: ". Enjoy" },
  ]);
});

test("a bare file path and citations are linked; bad or overlapping annotations are ignored", () => {
  const value = "Saved sandbox:/mnt/data/out.png as asked【4:0†source】【4:1†source】.";
  const path = value.indexOf("sandbox:");
  const first = value.indexOf("【");
  const second = value.indexOf("【", first + 1);
  const mark = "【4:0†source】".length;
  const segments = textSegments(annotated(value,
    { type: "file_citation", start_index: second, end_index: second + mark, file_citation: { file_id: "file-b" } },
    { type: "file_path", start_index: path, end_index: path + "sandbox:/mnt/data/out.png".length, file_path: { file_id: "file-png" } },
    { type: "file_citation", start_index: first, end_index: first + mark, file_citation: { file_id: "file-a", quote: "q" } },
    { type: "file_path", start_index: path + 2, end_index: path + 5, file_path: { file_id: "overlap" } },
    { type: "file_path", start_index: 5, end_index: 999, file_path: { file_id: "outside" } }));
  assert.deepEqual(segments.map((s) => s.kind), ["text", "file", "text", "citation", "citation", "text"]);
  assert.equal(segments[1].filename, "out.png");
  assert.deepEqual(segments.filter((s) => s.kind === "citation").map((s) => [s.number, s.fileId, s.quote]),
    [[1, "file-a", "q"], [2, "file-b", ""]]);
  assert.equal(segments.map((s) => s.text ?? "").join(""), "Saved  as asked.");
});

test("text without annotations is one segment; no text is none", () => {
  assert.deepEqual(textSegments(annotated("plain")), [{ kind: "text", text: "plain" }]);
  assert.deepEqual(textSegments(null), []);
  assert.equal(baseName("sandbox:/mnt/data/"), "download");
});

test("HTTP errors in words", () => {
  assert.match(describeHttpError(401, { error: { message: "Incorrect API key provided." } }), /did not accept your API key.*Incorrect API key/);
  assert.match(describeHttpError(429, { error: { message: "slow down" } }, "7"), /rate limiting you\. Try again in 7 s\. \(slow down\)/);
  assert.equal(describeHttpError(404, null), "Not found: it may have been deleted, or it belongs to another key.");
  assert.equal(describeHttpError(400, { error: { message: "Missing 'model'." } }), "The service refused the request: Missing 'model'.");
  assert.match(describeHttpError(503, {}), /had a problem \(HTTP 503\)\. Try again\./);
  assert.match(describeHttpError(0, { error: { message: "Failed to fetch" } }), /Could not reach the service: Failed to fetch/);
});

test("how runs ended, in words", () => {
  assert.equal(describeRunEnd({ status: "completed" }), null);
  assert.equal(describeRunEnd({ status: "failed", last_error: { code: "server_error", message: "boom" } }),
    "The run failed because the model service returned an error: boom");
  assert.match(describeRunEnd({ status: "failed", last_error: { code: "rate_limit_exceeded", message: "429" } }), /stayed rate limited/);
  assert.match(describeRunEnd({ status: "expired", expires_at: 1700000000 }), /^The run expired: nobody submitted the tool outputs/);
  assert.equal(describeRunEnd({ status: "cancelled" }), "Stopped: the run was cancelled.");
  assert.equal(describeRunEnd({ status: "incomplete", incomplete_details: { reason: "max_completion_tokens" } }),
    "The answer is incomplete: it reached its completion token limit.");
});

test("durations and usage", () => {
  assert.equal(duration(100, 100.4), "< 1 s");
  assert.equal(duration(100, 112), "12 s");
  assert.equal(duration(100, null, 230), "2 min 10 s");
  assert.equal(duration(null, 5), "");
  assert.equal(usageLine({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }), "3 prompt + 4 completion = 7 tokens");
  assert.equal(usageLine(null), "");
});

test("the assistant editor's fields become a body and back", () => {
  const fields = { name: " Analyst ", model: "gpt-4o", instructions: "Be brief.", codeInterpreter: true, fileSearch: true,
    functions: '{"name": "get_weather", "parameters": {"type": "object", "properties": {}}}', codeFileIds: ["file-1"],
    vectorStoreIds: "vs_1, ," };
  const { body } = assistantBody(fields);
  assert.deepEqual(body.tools.map((t) => t.type), ["code_interpreter", "file_search", "function"]);
  assert.equal(body.name, "Analyst");
  assert.deepEqual(body.tool_resources, { code_interpreter: { file_ids: ["file-1"] }, file_search: { vector_store_ids: ["vs_1"] } });
  const back = assistantFields({ ...body, tool_resources: body.tool_resources });
  assert.equal(back.codeInterpreter && back.fileSearch, true);
  assert.deepEqual(JSON.parse(back.functions)[0].name, "get_weather");
  assert.equal(back.vectorStoreIds, "vs_1");
});

test("the editor names the field to fix", () => {
  assert.deepEqual(assistantBody({ model: " " }).field, "model");
  assert.match(assistantBody({ model: "m", functions: "{oops" }).error, /^Functions must be JSON/);
  assert.match(parseFunctions('[{"description": "no name"}]').error, /needs a "name"/);
  assert.match(parseFunctions('{"name": "f", "parameters": []}').error, /JSON schema object/);
  assert.deepEqual(parseFunctions('[{"type": "function", "function": {"name": "f"}}]').tools, [{ type: "function", function: { name: "f" } }]);
  assert.deepEqual(parseFunctions("  ").tools, []);
});

test("recent threads: newest first, once each, bounded, robust to junk in storage", () => {
  let list = [];
  for (let i = 0; i < RECENT_LIMIT + 5; i++) list = rememberThread(list, { id: `thread_${i}`, title: `t${i}` });
  assert.equal(list.length, RECENT_LIMIT);
  assert.equal(list[0].id, `thread_${RECENT_LIMIT + 4}`);
  list = rememberThread(list, { id: "thread_10", title: undefined });
  assert.deepEqual([list[0].id, list[0].title], ["thread_10", "t10"]);
  assert.equal(list.filter((t) => t.id === "thread_10").length, 1);
  assert.equal(forgetThread(list, "thread_10").some((t) => t.id === "thread_10"), false);
  assert.deepEqual(parseRecent("{not json"), []);
  assert.deepEqual(parseRecent('[{"id": 3}, {"id": "thread_a"}, null]'), [{ id: "thread_a" }]);
  assert.equal(threadTitle("  Plot\nthe   sales  "), "Plot the sales");
  assert.equal(threadTitle("x".repeat(100)).length, 48);
});
