// node --test: the SSE parser against the event-stream rules OpenAI's streams rely on.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createParser, decodeData, readEvents } from "../../playground/sse.mjs";

function parse(...chunks) {
  const events = [];
  const parser = createParser((event) => events.push(event));
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return events;
}

test("an OpenAI event: name, JSON data, blank line", () => {
  const events = parse('event: thread.run.created\ndata: {"id":"run_1"}\n\n');
  assert.deepEqual(events, [{ event: "thread.run.created", data: '{"id":"run_1"}', id: "" }]);
});

test("events split anywhere across chunks, even inside a CRLF", () => {
  const text = 'event: thread.message.delta\r\ndata: {"a":1}\r\n\r\nevent: done\r\ndata: [DONE]\r\n\r\n';
  for (let cut = 0; cut <= text.length; cut++) {
    const events = parse(text.slice(0, cut), text.slice(cut));
    assert.deepEqual(events.map((e) => [e.event, e.data]), [["thread.message.delta", '{"a":1}'], ["done", "[DONE]"]], `cut at ${cut}`);
  }
  const oneByOne = parse(...text.split(""));
  assert.equal(oneByOne.length, 2);
});

test("CR alone ends lines too", () => {
  assert.deepEqual(parse("event: x\rdata: 1\r\r").map((e) => [e.event, e.data]), [["x", "1"]]);
});

test("comments (keep-alives) are skipped and several data lines join with newlines", () => {
  const events = parse(": keep-alive\n\ndata: first\ndata:second\n\n");
  assert.deepEqual(events.map((e) => [e.event, e.data]), [["message", "first\nsecond"]]);
});

test("ids are kept for resuming; an unterminated last event is dropped", () => {
  const events = parse("id: 7\nevent: a\ndata: 1\n\nevent: b\ndata: 2");
  assert.deepEqual(events.map((e) => [e.event, e.id]), [["a", "7"]]);
});

test("a field without a value and an event without data dispatch nothing", () => {
  assert.deepEqual(parse("event: lonely\n\ndata\n\n").map((e) => e.data), [""]);
});

test("decodeData: JSON, the [DONE] sentinel, and malformed data flagged rather than thrown", () => {
  assert.deepEqual(decodeData({ event: "x", data: '{"a":[1]}', id: "" }).data, { a: [1] });
  assert.equal(decodeData({ event: "done", data: "[DONE]", id: "" }).data, null);
  const bad = decodeData({ event: "x", data: "{nope", id: "" });
  assert.equal(bad.malformed, true);
  assert.equal(bad.data, "{nope");
});

test("readEvents decodes UTF-8 split across byte chunks", async () => {
  const bytes = new TextEncoder().encode('event: thread.message.delta\ndata: {"v":"héllo ✓"}\n\nevent: done\ndata: [DONE]\n\n');
  const body = new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 3) controller.enqueue(bytes.slice(i, i + 3));
      controller.close();
    },
  });
  const events = [];
  for await (const event of readEvents(body)) events.push(event);
  assert.deepEqual(events.map((e) => [e.event, e.data]), [["thread.message.delta", { v: "héllo ✓" }], ["done", null]]);
});

test("readEvents cancels the body when the reader stops early", async () => {
  let cancelled = false;
  const body = new ReadableStream({
    pull(controller) {
      controller.enqueue(new TextEncoder().encode("data: {}\n\n"));
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const _ of readEvents(body)) break;
  assert.equal(cancelled, true);
});
