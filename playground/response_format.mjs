// The Responses side of the page, decided by pure functions (node's test runner checks them): what a
// response is asked with (the selected assistant's model, instructions and functions, per call), and how
// its output items and a conversation's items read.

const TERMINAL = new Set(["completed", "incomplete", "failed", "cancelled"]);

/** Whether a response has ended (the page stops polling it then). */
export function responseEnded(response) {
  return Boolean(response) && TERMINAL.has(response.status);
}

/** An assistant's function tools in the Responses shape (the function's fields at the top level). Built-in
 * tools are not offered to responses by this service yet: they are returned in `left` to say so. */
export function responseTools(assistant) {
  const tools = [];
  const left = [];
  for (const tool of (assistant && assistant.tools) || []) {
    if (tool.type === "function" && tool.function) {
      const { name, description, parameters, strict } = tool.function;
      tools.push({ type: "function", name, ...(description ? { description } : {}),
        ...(parameters ? { parameters } : {}), strict: Boolean(strict) });
    } else {
      left.push(tool.type);
    }
  }
  return { tools, left };
}

/**
 * The body of POST /responses: the assistant's model, instructions and functions go with each call (the
 * Responses API has no assistant object). `input` is a string or input items; `conversation` a conv_ or
 * thread_ id (the same history either way); without one, `previousResponseId` chains to an earlier response.
 */
export function responseBody({ assistant, input, conversation, previousResponseId, background = true }) {
  const { tools } = responseTools(assistant);
  return {
    model: (assistant && assistant.model) || "",
    ...(assistant && assistant.instructions ? { instructions: assistant.instructions } : {}),
    ...(tools.length ? { tools } : {}),
    input,
    ...(conversation ? { conversation } : previousResponseId ? { previous_response_id: previousResponseId } : {}),
    background,
  };
}

/** The function_call_output items answering `calls` with the outputs typed for them (by call_id). */
export function functionOutputs(calls, outputs) {
  return calls.map((call) => ({ type: "function_call_output", call_id: call.call_id, output: outputs[call.call_id] ?? "" }));
}

/** The function calls of a response that the next response must answer. */
export function pendingFunctionCalls(response) {
  if (!response || response.status !== "completed") return [];
  return (response.output || []).filter((item) => item.type === "function_call");
}

/** An item (a response's output or input, or a conversation's) as {title, text, detail, status} to show. */
export function itemLines(item) {
  if (item.type === "message") {
    const text = (item.content || []).map((part) => part.text ?? part.refusal ?? "").join("");
    const who = { user: "User", assistant: "Assistant", system: "System", developer: "Developer" }[item.role] || item.role;
    return { title: `${who} message`, text, detail: "", status: item.status || "" };
  }
  if (item.type === "function_call") {
    return { title: `Function call ${item.name}`, text: "", detail: prettyArguments(item.arguments),
      status: item.status || "", callId: item.call_id };
  }
  if (item.type === "function_call_output") {
    return { title: "Function output", text: String(item.output ?? ""), detail: "", status: item.status || "",
      callId: item.call_id };
  }
  return { title: item.type, text: "", detail: JSON.stringify(item, null, 2), status: item.status || "" };
}

/** A response's token usage as one short line, or "" when it has none (yet). */
export function responseUsageLine(usage) {
  if (!usage) return "";
  return `${usage.input_tokens ?? 0} input + ${usage.output_tokens ?? 0} output = ${usage.total_tokens ?? 0} tokens`;
}

/** Why a response ended without an answer, in words; null for a completed (or still running) one. */
export function describeResponseEnd(response) {
  if (!response) return null;
  if (response.status === "failed") {
    return `The response failed${response.error && response.error.message ? `: ${response.error.message}` : "."}`;
  }
  if (response.status === "cancelled") return "The response was cancelled.";
  if (response.status === "incomplete") {
    const reason = (response.incomplete_details && response.incomplete_details.reason) || "unknown";
    return `The response is incomplete (${reason}).`;
  }
  return null;
}

function prettyArguments(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text ?? "");
  }
}
