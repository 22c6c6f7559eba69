// What the page knows about one run: the run object, its steps and the messages it wrote.
// Two sources feed it and must end in the same picture: streamed events (snapshots plus deltas, applied one
// at a time) and polling (whole snapshots). Both are pure functions returning a new state, so node's test
// runner checks that deltas add up to what the snapshots say.

export const LIVE = ["queued", "in_progress", "cancelling"];
export const TERMINAL = ["completed", "failed", "cancelled", "expired", "incomplete"];

// Delta fields that arrive in pieces and are concatenated; every other field replaces what was there.
const ACCUMULATING = new Set(["value", "input", "arguments", "logs"]);

export function emptyState() {
  return { run: null, steps: [], messages: [], error: null, done: false, transport: null };
}

/** Whether the run is still moving without the user (as opposed to finished or waiting for tool outputs). */
export function isLive(state) {
  return !state.run || LIVE.includes(state.run.status);
}

function upsert(list, item) {
  const at = list.findIndex((existing) => existing.id === item.id);
  if (at === -1) return [...list, item];
  const copy = list.slice();
  copy[at] = item;
  return copy;
}

function byId(list, id) {
  return list.find((item) => item.id === id);
}

/** `target` with `delta` merged in: pieces of text appended, arrays of `index`ed parts merged by index. */
export function mergeDelta(target, delta) {
  if (Array.isArray(delta)) return mergeIndexed(Array.isArray(target) ? target : [], delta);
  if (delta === null || typeof delta !== "object") return delta;
  const merged = target && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(delta)) {
    if (ACCUMULATING.has(key) && typeof value === "string" && typeof merged[key] === "string") {
      merged[key] += value;
    } else {
      merged[key] = mergeDelta(merged[key], value);
    }
  }
  return merged;
}

function mergeIndexed(target, delta) {
  const result = target.slice();
  for (const part of delta) {
    if (part && typeof part === "object" && Number.isInteger(part.index)) {
      const at = result.findIndex((existing) => existing && existing.index === part.index);
      if (at === -1) result.push(mergeDelta({}, part));
      else result[at] = mergeDelta(result[at], part);
    } else {
      result.push(part);
    }
  }
  return result;
}

/** Snapshots carry no `index` on content parts and tool calls; give them one so later deltas find them. */
function indexed(object, key) {
  if (!object || !Array.isArray(object[key])) return object;
  return { ...object, [key]: object[key].map((part, index) => ({ index, ...part })) };
}

function messageSnapshot(message) {
  return indexed(message, "content");
}

function stepSnapshot(step) {
  if (!step || !step.step_details || step.step_details.type !== "tool_calls") return step;
  return { ...step, step_details: indexed(step.step_details, "tool_calls") };
}

/** The state after one streamed event ({event, data} with data already decoded from JSON). */
export function applyEvent(state, { event, data }) {
  if (event === "done") return { ...state, done: true };
  if (event === "error") return { ...state, error: (data && data.error) || data || { message: "Stream error" } };
  if (event === "thread.created") return state;
  if (!data || typeof data !== "object") return state;
  if (event.startsWith("thread.run.step.")) {
    if (event === "thread.run.step.delta") {
      const step = byId(state.steps, data.id) || { id: data.id, object: "thread.run.step", status: "in_progress" };
      return { ...state, steps: upsert(state.steps, mergeDelta(step, data.delta || {})) };
    }
    return { ...state, steps: upsert(state.steps, stepSnapshot(data)) };
  }
  if (event.startsWith("thread.run.")) return { ...state, run: data };
  if (event === "thread.message.delta") {
    const message = byId(state.messages, data.id) ||
      { id: data.id, object: "thread.message", role: "assistant", status: "in_progress", content: [] };
    return { ...state, messages: upsert(state.messages, mergeDelta(message, data.delta || {})) };
  }
  if (event.startsWith("thread.message.")) return { ...state, messages: upsert(state.messages, messageSnapshot(data)) };
  return state;
}

/** The state after a poll: whatever the server says now replaces what streaming or earlier polls built. */
export function applySnapshot(state, { run, steps, messages }) {
  let next = { ...state };
  if (run) next.run = run;
  for (const step of steps || []) next = { ...next, steps: upsert(next.steps, stepSnapshot(step)) };
  for (const message of messages || []) next = { ...next, messages: upsert(next.messages, messageSnapshot(message)) };
  return next;
}

/** Pending function calls of a run waiting in requires_action ([] otherwise). */
export function pendingCalls(run) {
  if (!run || run.status !== "requires_action" || !run.required_action) return [];
  return (run.required_action.submit_tool_outputs || {}).tool_calls || [];
}
