// The Responses API beside the Assistants one: a conversation's items (a thread's id works: a conversation
// is a thread here), a response asked on it with the selected assistant's model, instructions and functions,
// and the response's timeline — its status, output items and token usage — polled until it ends.
// Function calls in its output are answered with function_call_output items in the next response.

import { describeResponseEnd, functionOutputs, itemLines, pendingFunctionCalls, responseBody, responseEnded,
  responseTools, responseUsageLine } from "./response_format.mjs";
import { h } from "./views.mjs";

const $ = (id) => document.getElementById(id);
const POLL_INTERVAL_MS = 300;

function itemView(item) {
  const lines = itemLines(item);
  return h("li", { className: `step item ${item.type} ${lines.status}`, dataset: { itemId: item.id || "" } },
    h("div", { className: "step-head" }, h("strong", {}, lines.title), " ",
      lines.status ? h("span", { className: `badge ${lines.status}` }, lines.status) : null,
      h("span", { className: "hint mono" }, ` ${item.id || ""}`)),
    lines.text ? h("div", { className: "text" }, lines.text) : null,
    lines.callId ? h("p", { className: "hint mono" }, `call_id ${lines.callId}`) : null,
    lines.detail ? h("pre", { className: "arguments" }, lines.detail) : null);
}

function responseSummary(response) {
  if (!response) return h("p", { className: "hint" }, "No response yet: ask one, or show one by its id.");
  const usage = responseUsageLine(response.usage);
  return h("dl", {},
    h("dt", {}, "Status"), h("dd", {}, h("span", { className: `badge ${response.status}`, id: "response-badge" }, response.status)),
    h("dt", {}, "Response"), h("dd", { className: "mono" }, response.id),
    h("dt", {}, "Model"), h("dd", {}, response.model || ""),
    response.conversation ? [h("dt", {}, "Conversation"), h("dd", { className: "mono" }, response.conversation.id)] : null,
    response.previous_response_id ? [h("dt", {}, "After"), h("dd", { className: "mono" }, response.previous_response_id)] : null,
    usage ? [h("dt", {}, "Tokens"), h("dd", { className: "usage", id: "response-usage" }, usage)] : null);
}

export class ResponsesPanel {
  constructor(api, assistants, chat, notify) {
    Object.assign(this, { api, assistants, chat, notify });
    this.response = null;
    this.busy = false;
    $("conversation-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.showItems();
    });
    $("use-thread").addEventListener("click", () => {
      if (!this.chat.threadId) return this.notify("Start a thread in the chat first (or paste a conversation id).");
      $("conversation-id").value = this.chat.threadId;
      this.showItems();
    });
    $("respond-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.ask();
    });
    $("response-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.show($("response-id").value.trim());
    });
    $("response-calls-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.answerCalls();
    });
    this.render();
  }

  get conversationId() {
    return $("conversation-id").value.trim();
  }

  async showItems() {
    const id = this.conversationId;
    if (!id) return this.notify("Enter a conversation id (conv_…) or a thread id (thread_…).");
    try {
      const items = await this.api.get(`/conversations/${encodeURIComponent(id)}/items`, { order: "asc", limit: 100 });
      $("conversation-items").replaceChildren(...items.data.map(itemView));
      $("conversation-label").textContent = `· ${id} · ${items.data.length} item${items.data.length === 1 ? "" : "s"}`;
    } catch (error) {
      this.notify(`Could not read the conversation: ${error.message}`);
    }
  }

  async ask() {
    const text = $("respond-input").value.trim();
    const assistant = this.assistants.current;
    if (!text || this.busy) return;
    if (!assistant) return this.notify("Create or pick an assistant first: its model, instructions and functions go with the response.");
    const { left } = responseTools(assistant);
    if (left.length) this.notify(`Not offered to the response (not served in responses yet): ${left.join(", ")}.`, "info");
    await this.run(responseBody({ assistant, input: text, conversation: this.conversationId }));
    $("respond-input").value = "";
  }

  async answerCalls() {
    const calls = pendingFunctionCalls(this.response);
    const outputs = Object.fromEntries([...$("response-calls").querySelectorAll("textarea")]
      .map((area) => [area.dataset.callId, area.value]));
    const conversation = this.response.conversation ? this.response.conversation.id : "";
    await this.run(responseBody({ assistant: this.assistants.current, input: functionOutputs(calls, outputs),
      conversation, previousResponseId: conversation ? null : this.response.id }));
  }

  /** Create a background response and poll it until it ends, showing every state. */
  async run(body) {
    this.busy = true;
    this.render();
    try {
      this.response = await this.api.post("/responses", body);
      this.render();
      while (!responseEnded(this.response)) {
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
        this.response = await this.api.get(`/responses/${this.response.id}`);
        this.render();
      }
      await this.refreshHistories(this.response.conversation && this.response.conversation.id);
    } catch (error) {
      this.notify(`The response could not be made: ${error.message}`);
    } finally {
      this.busy = false;
      this.render();
    }
  }

  /** The conversation's items and, when it is the chat's thread, the chat: one history, both views. */
  async refreshHistories(conversationId) {
    if (!conversationId) return;
    if (this.conversationId === conversationId) await this.showItems();
    if (this.chat.threadId === conversationId) await this.chat.open(conversationId);
  }

  async show(responseId) {
    if (!responseId) return;
    try {
      this.response = await this.api.get(`/responses/${encodeURIComponent(responseId)}`);
      this.render();
    } catch (error) {
      this.notify(`Could not show the response: ${error.message}`);
    }
  }

  render() {
    const response = this.response;
    $("response-summary").replaceChildren(responseSummary(response));
    $("response-output").replaceChildren(...((response && response.output) || []).map(itemView));
    if (response) $("response-id").value = response.id;
    const ended = describeResponseEnd(response);
    $("response-error").textContent = ended || "";
    $("response-error").hidden = !ended;
    $("respond-send").disabled = this.busy;
    const calls = this.busy ? [] : pendingFunctionCalls(response);
    const form = $("response-calls-form");
    if (calls.length && form.dataset.responseId !== response.id) {
      $("response-calls").replaceChildren(...calls.map((call, index) => h("div", {},
        h("label", { htmlFor: `response-output-${index}` }, `Output of ${call.name} (${call.call_id})`),
        h("textarea", { id: `response-output-${index}`, rows: 2, dataset: { callId: call.call_id }, required: true }))));
      form.dataset.responseId = response.id;
    }
    form.hidden = !calls.length;
  }
}
