// node --test: where the page finds the API, and when it falls back from streaming to polling.
import assert from "node:assert/strict";
import { test } from "node:test";

import { apiBase, refusesStreaming } from "../../playground/api.mjs";

test("the API is <root>/v1 wherever the page is served", () => {
  assert.equal(apiBase(new URL("http://127.0.0.1:7071/playground/")), "http://127.0.0.1:7071/v1");
  assert.equal(apiBase(new URL("https://app.example/playground/index.html")), "https://app.example/v1");
  assert.equal(apiBase(new URL("http://127.0.0.1:7071/v1/playground/")), "http://127.0.0.1:7071/v1");
  assert.equal(apiBase(new URL("https://host/base/playground/")), "https://host/base/v1");
});

test("only a 400 about `stream` makes the page poll", () => {
  assert.equal(refusesStreaming(400, { error: { param: "stream", message: "Input should be False" } }), true);
  assert.equal(refusesStreaming(400, { error: { param: null, message: "Streaming (stream: true) is not supported." } }), true);
  assert.equal(refusesStreaming(400, { error: { param: "assistant_id", message: "No assistant found" } }), false);
  assert.equal(refusesStreaming(500, { error: { param: "stream" } }), false);
  assert.equal(refusesStreaming(400, null), false);
});

// A stand-in for the server at the fetch() boundary: answers by method and path, records what was asked.
function server(routes) {
  const asked = [];
  globalThis.fetch = async (url, init = {}) => {
    const { pathname } = new URL(url);
    const body = init.body ? JSON.parse(init.body) : null;
    asked.push({ method: init.method, path: pathname, body, auth: init.headers.Authorization });
    const answer = routes(init.method, pathname, body, asked);
    if (answer instanceof Response) return answer;
    return new Response(JSON.stringify(answer.json), { status: answer.status || 200, headers: { "content-type": "application/json" } });
  };
  return asked;
}

const RUN = { id: "run_1", thread_id: "thread_1", object: "thread.run" };
const list = (data) => ({ json: { object: "list", data, first_id: null, last_id: null, has_more: false } });

test("a 400 for `stream` makes the client poll, and it never asks to stream again", async () => {
  let retrievals = 0;
  const asked = server((method, path, body) => {
    if (method === "POST" && body.stream) return { status: 400, json: { error: { message: "Invalid type for 'stream'", param: "stream", type: "invalid_request_error", code: null } } };
    if (method === "POST") return { json: { ...RUN, status: "queued" } };
    if (path.endsWith("/runs/run_1")) return { json: { ...RUN, status: ++retrievals > 1 ? "completed" : "in_progress" } };
    if (path.endsWith("/steps")) return list([{ id: "step_1", status: "completed", step_details: { type: "message_creation" } }]);
    return list([{ id: "msg_1", role: "assistant", content: [{ type: "text", text: { value: "Hi", annotations: [] } }] }]);
  });
  const { Api } = await import("../../playground/api.mjs");
  const api = new Api("http://h/v1", () => "sk-test");
  const seen = [];
  const state = await api.followRun("/threads/thread_1/runs", { assistant_id: "asst_1" }, (s) => seen.push(s.run?.status));
  assert.equal(state.run.status, "completed");
  assert.equal(state.transport, "polled");
  assert.equal(state.messages[0].content[0].text.value, "Hi");
  assert.equal(api.streams, false);
  assert.deepEqual(asked.filter((a) => a.method === "POST").map((a) => Boolean(a.body.stream)), [true, false]);
  assert.ok(asked.every((a) => a.auth === "Bearer sk-test"));
  await api.followRun("/threads/thread_1/runs", { assistant_id: "asst_1" }, () => {});
  assert.equal(asked.filter((a) => a.method === "POST" && a.body.stream).length, 1);
  assert.deepEqual(seen.slice(0, 1), ["queued"]);
});

test("another 400 is an error in words, not a fallback", async () => {
  server(() => ({ status: 400, json: { error: { message: "No assistant found with id 'asst_x'.", param: "assistant_id", type: "invalid_request_error", code: null } } }));
  const { Api } = await import("../../playground/api.mjs");
  await assert.rejects(new Api("http://h/v1", () => "").followRun("/threads/t/runs", { assistant_id: "asst_x" }, () => {}),
    { message: "The service refused the request: No assistant found with id 'asst_x'." });
});

test("a streamed run is read from its events; a stream cut short is finished by polling", async () => {
  const sse = (text) => new Response(text, { headers: { "content-type": "text/event-stream" } });
  const asked = server((method, path) => {
    if (method === "POST") {
      return sse(`event: thread.run.created\ndata: ${JSON.stringify({ ...RUN, status: "queued" })}\n\n` +
        `event: thread.message.delta\ndata: {"id":"msg_1","delta":{"content":[{"index":0,"type":"text","text":{"value":"Hel"}}]}}\n\n`);
    }
    if (path.endsWith("/runs/run_1")) return { json: { ...RUN, status: "completed" } };
    if (path.endsWith("/steps")) return list([]);
    return list([{ id: "msg_1", role: "assistant", content: [{ type: "text", text: { value: "Hello", annotations: [] } }] }]);
  });
  const { Api } = await import("../../playground/api.mjs");
  const texts = [];
  const state = await new Api("http://h/v1", () => "").followRun("/threads/thread_1/runs", {}, (s) =>
    texts.push(s.messages[0]?.content[0]?.text.value));
  assert.equal(state.transport, "streamed");
  assert.ok(texts.includes("Hel"));
  assert.equal(state.messages[0].content[0].text.value, "Hello");
  assert.equal(state.run.status, "completed");
  assert.equal(asked[0].auth, undefined); // no key: no Authorization header at all
});
