// The page's client of the public API (the same /v1 routes users' code calls), and how it follows a run:
// streamed when the server streams, polled when it answers a `stream: true` request with a 400.

import { describeHttpError } from "./format.mjs";
import { applyEvent, applySnapshot, emptyState, isLive } from "./run_state.mjs";
import { readEvents } from "./sse.mjs";

const POLL_INTERVAL_MS = 400;

/** An API failure with the sentence to show (`message`), the HTTP status and OpenAI's error envelope. */
export class ApiError extends Error {
  constructor(status, envelope, retryAfter) {
    super(describeHttpError(status, envelope, retryAfter));
    this.status = status;
    this.envelope = envelope;
  }
}

/** Where the API is, seen from the page: `<root>/v1`, whether the page is at /playground/ or /v1/playground/. */
export function apiBase(location) {
  const root = location.pathname.replace(/\/playground(\/.*)?$/, "");
  return `${location.origin}${root.endsWith("/v1") ? root : `${root}/v1`}`;
}

/** Whether a 400 says the server does not stream (so the page polls instead). */
export function refusesStreaming(status, envelope) {
  const error = (envelope && envelope.error) || {};
  return status === 400 && (error.param === "stream" || /\bstream/i.test(error.message || ""));
}

export class Api {
  /** `getKey()` answers the API key to send as a Bearer token, or "" to send none (loopback, or platform sign-in). */
  constructor(base, getKey) {
    this.base = base;
    this.getKey = getKey;
    this.streams = true; // until the server refuses a stream once
  }

  headers(extra = {}) {
    const key = this.getKey();
    return { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...extra };
  }

  async send(method, path, { json, form, query, accept, signal } = {}) {
    const url = new URL(this.base + path);
    for (const [name, value] of Object.entries(query || {})) if (value != null) url.searchParams.set(name, value);
    const headers = this.headers(json !== undefined ? { "Content-Type": "application/json" } : {});
    if (accept) headers.Accept = accept;
    let response;
    try {
      response = await fetch(url, { method, headers, signal, credentials: "same-origin",
        body: json !== undefined ? JSON.stringify(json) : form });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(0, { error: { message: error.message } });
    }
    return response;
  }

  /** A JSON call; throws ApiError with readable words when the answer is not 2xx. */
  async request(method, path, options = {}) {
    const response = await this.send(method, path, options);
    if (!response.ok) throw await errorOf(response);
    return response.json();
  }

  get(path, query) {
    return this.request("GET", path, { query });
  }

  post(path, json) {
    return this.request("POST", path, { json });
  }

  del(path) {
    return this.request("DELETE", path);
  }

  /** Upload a file for assistants (multipart, as client.files.create sends it). */
  upload(file) {
    const form = new FormData();
    form.append("purpose", "assistants");
    form.append("file", file, file.name);
    return this.request("POST", "/files", { form });
  }

  /** A file's bytes, as a Blob (images and downloads need the Authorization header, so no plain links). */
  async blob(fileId) {
    const response = await this.send("GET", `/files/${encodeURIComponent(fileId)}/content`);
    if (!response.ok) throw await errorOf(response);
    return response.blob();
  }

  /**
   * Start a run (POST `path` with `body`) and follow it until it ends or waits for tool outputs, calling
   * onState(state) on every change. Streams when the server does; polls otherwise. `signal` stops following
   * (it cancels nothing: the Stop button cancels the run through the API). `initial` is what is known of the
   * run already (a submit_tool_outputs continues a run whose earlier steps stay in view).
   */
  async followRun(path, body, onState, signal, initial = emptyState()) {
    let state = { ...initial, done: false, error: null, transport: this.streams ? "streamed" : "polled" };
    const update = (next) => {
      state = next;
      onState(state);
    };
    if (this.streams) {
      const response = await this.send("POST", path, { json: { ...body, stream: true }, accept: "text/event-stream", signal });
      if (response.ok && (response.headers.get("content-type") || "").startsWith("text/event-stream")) {
        for await (const event of readEvents(response.body)) {
          update(applyEvent(state, event));
          if (state.done) break;
        }
        if (state.error && !state.run) throw new ApiError(500, { error: state.error });
        if (!state.run || !isLive(state)) return state;
        return this.pollRun(state, update, signal); // the stream ended early: finish by polling
      }
      if (response.ok) {
        update(applySnapshot({ ...state, transport: "polled" }, { run: await response.json() })); // it ignored `stream`
        return this.pollRun(state, update, signal);
      }
      const error = await errorOf(response);
      if (!refusesStreaming(response.status, error.envelope)) throw error;
      this.streams = false;
      state = { ...state, transport: "polled" };
    }
    update(applySnapshot(state, { run: await this.request("POST", path, { json: body, signal }) }));
    return this.pollRun(state, update, signal);
  }

  /** Poll the run, its steps and its messages until it is no longer queued, in progress or cancelling. */
  async pollRun(state, update, signal) {
    const { id, thread_id: threadId } = state.run;
    const runPath = `/threads/${threadId}/runs/${id}`;
    for (;;) {
      const [run, steps, messages] = await Promise.all([
        this.request("GET", runPath, { signal }),
        this.request("GET", `${runPath}/steps`, { query: { order: "asc", limit: 100 }, signal }),
        this.request("GET", `/threads/${threadId}/messages`, { query: { order: "asc", limit: 100, run_id: id }, signal }),
      ]);
      state = applySnapshot(state, { run, steps: steps.data, messages: messages.data });
      update(state);
      if (!isLive(state)) return state;
      await sleep(POLL_INTERVAL_MS, signal);
    }
  }
}

async function errorOf(response) {
  let envelope = null;
  try {
    envelope = await response.json();
  } catch {
    envelope = null;
  }
  return new ApiError(response.status, envelope, response.headers.get("retry-after"));
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new DOMException("Aborted", "AbortError"));
    }, { once: true });
  });
}
