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
