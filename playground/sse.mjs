// Server-sent events as OpenAI streams them (`event: thread.message.delta` / `data: {...}` / blank line),
// read from a fetch() body. EventSource cannot send a POST with an Authorization header, so the page reads
// the stream itself. The parser is pure (text in, events out) so node's test runner checks it line by line
// against the WHATWG event-stream rules: CR, LF and CRLF line ends split anywhere across chunks, comments,
// multi-line data, ids, and a final event only when it was terminated by a blank line.

/** A parser: feed() text as it arrives; each complete event is passed to onEvent({event, data, id}). */
export function createParser(onEvent) {
  let buffer = "";
  let data = [];
  let eventType = "";
  let lastId = "";
  let pendingCR = false; // the previous chunk ended in "\r": a "\n" starting the next one belongs to it

  function dispatch() {
    if (data.length) onEvent({ event: eventType || "message", data: data.join("\n"), id: lastId });
    data = [];
    eventType = "";
  }

  function line(text) {
    if (text === "") return dispatch();
    if (text.startsWith(":")) return; // a comment, e.g. a keep-alive
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") eventType = value;
    else if (field === "id" && !value.includes("\0")) lastId = value;
  }

  return {
    feed(chunk) {
      if (pendingCR && chunk.startsWith("\n")) chunk = chunk.slice(1);
      pendingCR = false;
      buffer += chunk;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c !== "\n" && c !== "\r") continue;
        line(buffer.slice(start, i));
        if (c === "\r") {
          if (i + 1 === buffer.length) pendingCR = true;
          else if (buffer[i + 1] === "\n") i++;
        }
        start = i + 1;
      }
      buffer = buffer.slice(start);
    },
    /** The stream ended: an unterminated event is discarded, as the standard says. */
    end() {
      buffer = "";
      data = [];
      eventType = "";
    },
    get lastEventId() {
      return lastId;
    },
  };
}

/** An event's data as OpenAI means it: JSON, except the `[DONE]` sentinel of the `done` event. */
export function decodeData(event) {
  if (event.data === "[DONE]") return { ...event, data: null };
  try {
    return { ...event, data: JSON.parse(event.data) };
  } catch {
    return { ...event, data: event.data, malformed: true };
  }
}

/** Every event of a fetch() response body (a ReadableStream of bytes), decoded, as an async iterator. */
export async function* readEvents(body) {
  const queue = [];
  const parser = createParser((event) => queue.push(decodeData(event)));
  const decoder = new TextDecoder("utf-8");
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        finished = true;
        break;
      }
      parser.feed(decoder.decode(value, { stream: true }));
      while (queue.length) yield queue.shift();
    }
    parser.feed(decoder.decode());
    parser.end();
    while (queue.length) yield queue.shift();
  } finally {
    if (!finished) await reader.cancel().catch(() => {}); // the reader stopped early: close the connection
    reader.releaseLock();
  }
}
