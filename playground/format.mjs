// Words and pieces the page shows, decided by pure functions (node's test runner checks them):
// message text split around its annotations, errors as people read them, step timings.

/** The file name a `sandbox:/mnt/data/...` path (or any path) ends in. */
export function baseName(path) {
  const clean = String(path || "").split(/[?#]/)[0];
  const name = clean.slice(clean.lastIndexOf("/") + 1);
  return name || "download";
}

/**
 * A text content part split into segments to render: {kind: "text", text}, {kind: "file", fileId, label,
 * filename} for `file_path` annotations (downloads) and {kind: "citation", fileId, number, quote} for
 * `file_citation` ones. A file path written as a markdown link, `[label](sandbox:/mnt/data/x.csv)`,
 * becomes one link named `label`. Annotations that overlap or point outside the text are ignored.
 */
export function textSegments(text) {
  const value = (text && text.value) || "";
  const annotations = ((text && text.annotations) || [])
    .filter((a) => Number.isInteger(a.start_index) && Number.isInteger(a.end_index) &&
      a.start_index >= 0 && a.end_index <= value.length && a.start_index < a.end_index)
    .sort((a, b) => a.start_index - b.start_index);
  const segments = [];
  let cursor = 0;
  let citations = 0;
  for (const annotation of annotations) {
    let start = annotation.start_index;
    let end = annotation.end_index;
    if (start < cursor) continue;
    let label = null;
    if (annotation.type === "file_path") {
      const before = value.slice(cursor, start).match(/\[([^\]\n]*)\]\($/);
      if (before && value[end] === ")") {
        label = before[1];
        start -= before[0].length;
        end += 1;
      }
    }
    if (start > cursor) segments.push({ kind: "text", text: value.slice(cursor, start) });
    const shown = value.slice(annotation.start_index, annotation.end_index);
    if (annotation.type === "file_path" && annotation.file_path) {
      const filename = baseName(shown);
      segments.push({ kind: "file", fileId: annotation.file_path.file_id, filename, label: label || filename });
    } else if (annotation.type === "file_citation" && annotation.file_citation) {
      citations += 1;
      segments.push({ kind: "citation", fileId: annotation.file_citation.file_id, number: citations,
        quote: annotation.file_citation.quote || "" });
    } else {
      segments.push({ kind: "text", text: value.slice(start, end) });
    }
    cursor = end;
  }
  if (cursor < value.length) segments.push({ kind: "text", text: value.slice(cursor) });
  return segments;
}

const HTTP_WORDS = {
  400: "The service refused the request",
  401: "The service did not accept your API key. Enter a key issued for this deployment in the API key field " +
    "(its operator can issue one), or sign in.",
  403: "You are signed in, but this deployment does not let your account use it.",
  404: "Not found: it may have been deleted, or it belongs to another key.",
  405: "The service does not offer this operation.",
  409: "That conflicts with the current state",
  413: "Too large for this service",
  429: "Too many requests: the service is rate limiting you.",
};

/** An HTTP failure of the API as a sentence: status, the server's own message, and what to do. */
export function describeHttpError(status, envelope, retryAfterSeconds) {
  const error = (envelope && envelope.error) || {};
  const serverSays = typeof error.message === "string" ? error.message : "";
  if (status === 0) return `Could not reach the service${serverSays ? `: ${serverSays}` : ""}. Is it running?`;
  if (status === 401 || status === 403) return HTTP_WORDS[status] + (serverSays ? ` (${serverSays})` : "");
  if (status === 429) {
    const wait = Number(retryAfterSeconds) > 0 ? ` Try again in ${Math.ceil(Number(retryAfterSeconds))} s.` : "";
    return HTTP_WORDS[429] + wait + (serverSays ? ` (${serverSays})` : "");
  }
  if (status >= 500) return `The service had a problem (HTTP ${status})${serverSays ? `: ${serverSays}` : ""}. Try again.`;
  const lead = HTTP_WORDS[status] || `The request failed (HTTP ${status})`;
  return serverSays ? `${lead.replace(/\.$/, "")}: ${serverSays}` : lead;
}

const RUN_ERROR_WORDS = {
  rate_limit_exceeded: "The run failed: the model stayed rate limited although the service waited and retried",
  server_error: "The run failed because the model service returned an error",
  invalid_prompt: "The run failed: the model refused the prompt",
};

/** Why a run ended without a normal answer, in words; null for a completed (or still running) run. */
export function describeRunEnd(run) {
  if (!run) return null;
  if (run.status === "failed") {
    const error = run.last_error || {};
    const lead = RUN_ERROR_WORDS[error.code] || "The run failed";
    return `${lead}${error.message ? `: ${error.message}` : "."}`;
  }
  if (run.status === "expired") {
    return "The run expired: nobody submitted the tool outputs it was waiting for before " +
      `${clock(run.expires_at)}. Send the message again to start a new run.`;
  }
  if (run.status === "cancelled") return "Stopped: the run was cancelled.";
  if (run.status === "incomplete") {
    const reason = (run.incomplete_details && run.incomplete_details.reason) || "unknown";
    const words = { max_completion_tokens: "it reached its completion token limit",
      max_prompt_tokens: "the conversation exceeded its prompt token limit",
      content_filter: "the content filter stopped it" };
    return `The answer is incomplete: ${words[reason] || reason}.`;
  }
  return null;
}

/** A unix-seconds time as the reader's local clock time (HH:MM:SS). */
export function clock(unixSeconds) {
  if (!Number.isFinite(unixSeconds)) return "an unknown time";
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour12: false });
}

/** How long something took, from unix-second timestamps (to `now` while it is still going). */
export function duration(startSeconds, endSeconds, nowSeconds) {
  if (!Number.isFinite(startSeconds)) return "";
  const end = Number.isFinite(endSeconds) ? endSeconds : nowSeconds;
  if (!Number.isFinite(end)) return "";
  const seconds = Math.max(0, end - startSeconds);
  if (seconds < 1) return "< 1 s";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

/** When a step or run ended, whichever way it ended. */
export function endedAt(object) {
  return object.completed_at ?? object.failed_at ?? object.cancelled_at ?? object.expired_at ?? null;
}

/** Token usage as one short line, or "" when there is none. */
export function usageLine(usage) {
  if (!usage) return "";
  return `${usage.prompt_tokens ?? 0} prompt + ${usage.completion_tokens ?? 0} completion = ` +
    `${usage.total_tokens ?? 0} tokens`;
}

/** A tool call's arguments pretty-printed when they are JSON, as sent otherwise. */
export function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text ?? "");
  }
}
