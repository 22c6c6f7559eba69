// Rendering: messages, the run timeline and pending function calls, as DOM built from API objects.
// Elements are keyed by object id and rebuilt only when their object changed, so streamed deltas do not
// redraw the whole page (and images are not re-fetched: Files caches them).

import { clock, duration, endedAt, prettyJson, textSegments, usageLine } from "./format.mjs";

/** A DOM element: h("p", {className: "x"}, "text", child, ...). */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else if (name in element && !name.includes("-")) element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Keep `container`'s children in step with `items`, rebuilding only items whose signature changed. */
export function renderKeyed(container, items, signature, build) {
  const existing = new Map([...container.children].map((child) => [child.dataset.key, child]));
  let previous = null;
  for (const item of items) {
    const sig = signature(item);
    let element = existing.get(item.id);
    if (!element || element.dataset.sig !== sig) {
      const fresh = build(item);
      fresh.dataset.key = item.id;
      fresh.dataset.sig = sig;
      if (element) element.replaceWith(fresh);
      element = fresh;
    }
    existing.delete(item.id);
    const expected = previous ? previous.nextSibling : container.firstChild;
    if (element !== expected) container.insertBefore(element, expected);
    previous = element;
  }
  for (const stale of existing.values()) stale.remove();
}

function textPart(text, files) {
  const p = h("div", { className: "text" });
  for (const segment of textSegments(text)) {
    if (segment.kind === "text") p.append(segment.text);
    else if (segment.kind === "file") p.append(files.link(segment.fileId, segment.filename, segment.label));
    else {
      const link = files.link(segment.fileId, segment.fileId, `[${segment.number}]`, "citation");
      link.setAttribute("aria-label", `Source ${segment.number}`);
      if (segment.quote) link.title = segment.quote;
      files.name(segment.fileId).then((name) => {
        link.download = name;
        link.setAttribute("aria-label", `Source ${segment.number}: ${name}`);
        link.title = segment.quote ? `${name}: “${segment.quote}”` : name;
      }, () => {});
      p.append(h("sup", {}, link));
    }
  }
  return p;
}

/** One message of the conversation. */
export function messageView(message, files) {
  const role = message.role === "user" ? "You" : "Assistant";
  const body = h("div", { className: "body" });
  for (const part of message.content || []) {
    if (part.type === "text") body.append(textPart(part.text, files));
    else if (part.type === "image_file") {
      body.append(files.image(part.image_file.file_id, `Image from the ${role.toLowerCase()} (${part.image_file.file_id})`));
    } else if (part.type === "image_url") {
      body.append(h("a", { href: part.image_url.url, rel: "noreferrer noopener", target: "_blank" }, "Image (link)"));
    }
  }
  const attached = (message.attachments || []).map((attachment) =>
    h("li", {}, files.link(attachment.file_id, attachment.file_id, attachment.file_id)));
  for (const [index, attachment] of (message.attachments || []).entries()) {
    files.name(attachment.file_id).then((name) => {
      const link = attached[index].firstChild;
      link.textContent = name;
      link.download = name;
    }, () => {});
  }
  return h("article", { className: `message ${message.role}`, "aria-label": `${role} said` },
    h("h3", { className: "who" }, role, message.status === "in_progress" ? h("span", { className: "typing" }, " writing…") : null),
    body,
    attached.length ? h("ul", { className: "chips", "aria-label": "Attached files" }, attached) : null);
}

export function messageSignature(message) {
  return JSON.stringify([message.status, message.content, message.attachments]);
}

function callView(call, files) {
  if (call.type === "code_interpreter") {
    const ci = call.code_interpreter || {};
    const outputs = (ci.outputs || []).map((output) => output.type === "logs"
      ? h("pre", { className: "logs", "aria-label": "Output" }, output.logs)
      : output.type === "image" && output.image
        ? files.image(output.image.file_id, `Chart or image the code made (${output.image.file_id})`)
        : null);
    return h("div", { className: "call code" }, h("h4", {}, "Code interpreter"),
      h("pre", { className: "code-input", "aria-label": "Code" }, ci.input || ""), outputs);
  }
  if (call.type === "function") {
    const fn = call.function || {};
    return h("div", { className: "call function" }, h("h4", {}, `Function ${fn.name || ""}`),
      h("p", { className: "label" }, "Arguments"), h("pre", { className: "arguments" }, prettyJson(fn.arguments || "")),
      h("p", { className: "label" }, "Output"),
      h("pre", { className: "output" }, fn.output == null ? "(waiting for your output)" : fn.output));
  }
  if (call.type === "file_search") {
    const search = call.file_search || {};
    const results = (search.results || []).map((result) => h("li", {},
      h("strong", {}, result.file_name || result.file_id), ` (score ${Number(result.score ?? 0).toFixed(2)})`,
      (result.content || []).map((part) => h("blockquote", {}, part.text || ""))));
    const ranking = search.ranking_options;
    return h("div", { className: "call search" }, h("h4", {}, "File search"),
      ranking ? h("p", {}, `Ranker ${ranking.ranker}, threshold ${ranking.score_threshold}`) : null,
      results.length ? h("ol", { className: "results" }, results) : h("p", { className: "hint" }, "No results listed."));
  }
  return h("div", { className: "call" }, h("pre", {}, JSON.stringify(call, null, 2)));
}

/** One step of the run timeline: what it did, its status and how long it took. */
export function stepView(step, files, nowSeconds) {
  const details = step.step_details || {};
  const title = details.type === "message_creation" ? "Wrote a message" : "Called tools";
  const took = duration(step.created_at, endedAt(step), nowSeconds);
  const calls = details.type === "tool_calls" ? (details.tool_calls || []).map((call) => callView(call, files)) : [];
  return h("li", { className: `step ${step.status}` },
    h("div", { className: "step-head" }, h("strong", {}, title), " ",
      h("span", { className: `badge ${step.status}` }, step.status || ""),
      took ? h("span", { className: "hint" }, ` ${took}`) : null,
      Number.isFinite(step.created_at) ? h("span", { className: "hint" }, ` at ${clock(step.created_at)}`) : null),
    calls, step.last_error ? h("p", { className: "run-error" }, step.last_error.message) : null,
    step.usage ? h("p", { className: "hint usage" }, usageLine(step.usage)) : null);
}

export function stepSignature(step) {
  return JSON.stringify([step.status, step.step_details, step.usage, step.last_error, endedAt(step) == null]);
}

/** The run at the top of the timeline: status, model, timing and token usage. */
export function runSummary(run, nowSeconds, transport) {
  if (!run) return h("p", { className: "hint" }, "No run yet: send a message.");
  const took = duration(run.started_at ?? run.created_at, endedAt(run), nowSeconds);
  return h("dl", {},
    h("dt", {}, "Status"), h("dd", {}, h("span", { className: `badge ${run.status}`, id: "run-badge" }, run.status)),
    h("dt", {}, "Run"), h("dd", { className: "mono" }, run.id),
    h("dt", {}, "Model"), h("dd", {}, run.model || ""),
    took ? [h("dt", {}, "Time"), h("dd", {}, took)] : null,
    run.usage ? [h("dt", {}, "Tokens"), h("dd", { className: "usage" }, usageLine(run.usage))] : null,
    transport ? [h("dt", {}, "Updates"), h("dd", { id: "run-transport" },
      transport === "streamed" ? "streamed (server-sent events)" : "polled (this server does not stream)")] : null);
}

/** A field for each pending function call, labelled with its name and arguments. */
export function actionCalls(calls) {
  return calls.map((call, index) => h("fieldset", { className: "pending-call" },
    h("legend", {}, `${call.function.name}`),
    h("pre", { className: "arguments", "aria-label": `Arguments of ${call.function.name}` }, prettyJson(call.function.arguments)),
    h("label", { htmlFor: `output-${index}` }, `Output of ${call.function.name} (${call.id})`),
    h("textarea", { id: `output-${index}`, rows: 2, dataset: { callId: call.id }, required: true })));
}
