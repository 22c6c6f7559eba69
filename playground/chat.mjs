// Threads and chat: start, switch among recent threads (kept in localStorage), delete; send messages with
// attachments, follow the run (streamed or polled) into the chat and the timeline, Stop (cancel), and answer
// requires_action by typing each function's output.

import { emptyState, isLive, pendingCalls } from "./run_state.mjs";
import { describeRunEnd, endedAt } from "./format.mjs";
import { attachmentTools, forgetThread, parseRecent, rememberThread, threadTitle } from "./forms.mjs";
import { actionCalls, h, messageSignature, messageView, renderKeyed, runSummary, stepSignature, stepView } from "./views.mjs";

const $ = (id) => document.getElementById(id);
const RECENT_KEY = "playground.threads";
const now = () => Date.now() / 1000;

export class Chat {
  constructor(api, files, assistants, notify) {
    Object.assign(this, { api, files, assistants, notify });
    this.threadId = null;
    this.messages = [];
    this.runState = emptyState();
    this.following = null; // AbortController of the run being followed
    this.followedRun = null; // the run it follows, once the server has named it
    this.stopWanted = false;
    this.attachments = [];
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    $("prompt").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    $("stop").addEventListener("click", () => this.stop());
    $("new-thread").addEventListener("click", () => this.newThread());
    $("attach").addEventListener("change", () => this.attach());
    $("action-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.submitOutputs();
    });
    $("run-select").addEventListener("change", () => this.showRun($("run-select").value)
      .catch((error) => this.notify(`Could not show the run: ${error.message}`)));
    setInterval(() => isLive(this.runState) && this.runState.run && this.renderTimeline(), 1000);
  }

  get recent() {
    return parseRecent(localStorage.getItem(RECENT_KEY));
  }

  set recent(list) {
    localStorage.setItem(RECENT_KEY, JSON.stringify(list));
    this.renderThreads();
  }

  renderThreads() {
    $("thread-list").replaceChildren(...this.recent.map((thread) => h("li", { className: thread.id === this.threadId ? "current" : "" },
      h("button", { type: "button", className: "thread", "aria-current": thread.id === this.threadId ? "true" : null,
        onclick: () => this.open(thread.id) }, thread.title),
      h("button", { type: "button", className: "quiet", "aria-label": `Delete thread ${thread.title}`,
        onclick: () => this.remove(thread) }, "Delete"))));
    $("thread-label").textContent = this.threadId ? `· ${this.threadId}` : "· new thread";
  }

  newThread() {
    this.following?.abort();
    this.threadId = null;
    this.messages = [];
    this.runState = emptyState();
    $("run-select").replaceChildren();
    this.showRunError("");
    this.renderAll();
    this.renderThreads();
    $("prompt").focus();
  }

  async open(threadId) {
    this.following?.abort();
    try {
      await this.api.get(`/threads/${threadId}`);
      const [messages, runs] = await Promise.all([
        this.api.get(`/threads/${threadId}/messages`, { order: "asc", limit: 100 }),
        this.api.get(`/threads/${threadId}/runs`, { limit: 20 }),
      ]);
      this.threadId = threadId;
      this.messages = messages.data;
      const used = this.recent.find((thread) => thread.id === threadId)?.assistantId;
      if (used && used !== this.assistants.current?.id && this.assistants.list.some((a) => a.id === used)) {
        this.assistants.select(used); // the assistant this thread was talking to
      }
      this.runState = emptyState();
      this.showRunError("");
      this.renderRunChoices(runs.data);
      this.renderAll();
      this.renderThreads();
      if (runs.data.length) await this.showRun(runs.data[0].id, true);
    } catch (error) {
      if (error.status === 404) this.recent = forgetThread(this.recent, threadId);
      this.notify(`Could not open the thread: ${error.message}`);
    }
  }

  async remove(thread) {
    if (!window.confirm(`Delete the thread “${thread.title}” with its messages and runs?`)) return;
    try {
      await this.api.del(`/threads/${thread.id}`);
    } catch (error) {
      if (error.status !== 404) return this.notify(error.message);
    }
    this.recent = forgetThread(this.recent, thread.id);
    if (thread.id === this.threadId) this.newThread();
  }

  renderRunChoices(runs) {
    $("run-select").replaceChildren(...runs.map((run) =>
      h("option", { value: run.id }, `${new Date(run.created_at * 1000).toLocaleTimeString()} · ${run.status}`)));
  }

  /** Show a run in the timeline; a live one (e.g. after a reload) is followed until it ends. */
  async showRun(runId, followIfLive = false) {
    const runPath = `/threads/${this.threadId}/runs/${runId}`;
    const [run, steps] = await Promise.all([this.api.get(runPath), this.api.get(`${runPath}/steps`, { order: "asc", limit: 100 })]);
    this.runState = { ...emptyState(), run, steps: steps.data };
    this.renderAll();
    if (followIfLive && isLive(this.runState)) this.follow((update, signal) => this.api.pollRun(this.runState, update, signal));
  }

  async attach() {
    const input = $("attach");
    const chosen = [...input.files];
    input.value = "";
    for (const file of chosen) {
      try {
        $("run-status").textContent = `Uploading ${file.name}…`;
        const uploaded = await this.api.upload(file);
        const assistant = this.assistants.current;
        const search = Boolean(assistant && assistant.tools.some((tool) => tool.type === "file_search"));
        this.attachments.push({ id: uploaded.id, filename: uploaded.filename, codeInterpreter: true, fileSearch: search });
        $("run-status").textContent = `Attached ${uploaded.filename}.`;
      } catch (error) {
        $("run-status").textContent = "";
        this.notify(`Upload of ${file.name} failed: ${error.message}`);
      }
    }
    this.renderAttachments();
  }

  renderAttachments() {
    $("attachment-list").replaceChildren(...this.attachments.map((file) => h("li", {}, file.filename, " ",
      h("label", { className: "check" }, h("input", { type: "checkbox", checked: file.codeInterpreter,
        onchange: (event) => { file.codeInterpreter = event.target.checked; } }), " code"),
      h("label", { className: "check" }, h("input", { type: "checkbox", checked: file.fileSearch,
        onchange: (event) => { file.fileSearch = event.target.checked; } }), " search"),
      h("button", { type: "button", className: "quiet", "aria-label": `Remove ${file.filename}`, onclick: () => {
        this.attachments = this.attachments.filter((other) => other !== file);
        this.renderAttachments();
      } }, "×"))));
  }

  async send() {
    const text = $("prompt").value.trim();
    const assistant = this.assistants.current;
    if (!text || this.following) return;
    if (!assistant) return this.notify("Create or pick an assistant first.");
    try {
      if (!this.threadId) {
        this.threadId = (await this.api.post("/threads", {})).id;
        $("run-select").replaceChildren();
      }
      const attachments = this.attachments.map((file) => ({ file_id: file.id, tools: attachmentTools(file) }));
      const message = await this.api.post(`/threads/${this.threadId}/messages`,
        { role: "user", content: text, ...(attachments.length ? { attachments } : {}) });
      this.recent = rememberThread(this.recent, { id: this.threadId, title: this.messages.length ? undefined : threadTitle(text),
        assistantId: assistant.id, at: Math.floor(now()) });
      this.messages.push(message);
      $("prompt").value = "";
      this.attachments = [];
      this.renderAttachments();
      this.renderAll();
    } catch (error) {
      return this.notify(error.message);
    }
    await this.follow((update, signal) =>
      this.api.followRun(`/threads/${this.threadId}/runs`, { assistant_id: assistant.id }, update, signal));
  }

  async submitOutputs() {
    const run = this.runState.run;
    const outputs = [...$("action-calls").querySelectorAll("textarea")].map((area) => ({
      tool_call_id: area.dataset.callId, output: area.value }));
    $("action-form").hidden = true;
    await this.follow((update, signal) => this.api.followRun(
      `/threads/${run.thread_id}/runs/${run.id}/submit_tool_outputs`, { tool_outputs: outputs }, update, signal,
      this.runState));
  }

  /** Stop: cancel the followed run (as soon as it is known), or a run waiting for tool outputs. */
  async stop() {
    $("run-status").textContent = "Stopping…";
    const run = this.runState.run;
    if (!this.following && run && run.status === "requires_action") {
      await this.cancel(run);
      await this.follow((update, signal) => this.api.pollRun(this.runState, update, signal));
      return;
    }
    this.stopWanted = true;
    if (this.followedRun && isLive(this.runState)) await this.cancel(this.followedRun);
  }

  async cancel(run) {
    this.stopWanted = false;
    try {
      await this.api.post(`/threads/${run.thread_id}/runs/${run.id}/cancel`, {});
    } catch (error) {
      if (error.status !== 400) this.notify(`Could not stop the run: ${error.message}`); // 400: it had just ended
    }
  }

  /** Follow a run with `drive(update, signal)`, reflecting every state in the page. */
  async follow(drive) {
    const controller = new AbortController();
    this.following = controller;
    this.followedRun = null;
    this.stopWanted = false;
    this.busy(true);
    $("run-error").hidden = true;
    const update = (state) => {
      if (controller.signal.aborted) return;
      this.runState = state;
      this.followedRun = state.run;
      for (const message of state.messages) this.upsertMessage(message);
      this.renderAll();
      if (this.stopWanted && state.run && isLive(state)) this.cancel(state.run); // Stop came before the run
    };
    try {
      await drive(update, controller.signal);
    } catch (error) {
      if (error.name !== "AbortError") this.showRunError(error.message);
    } finally {
      if (this.following === controller) {
        this.following = null;
        this.busy(false);
        this.renderAll();
        if (this.runState.run) this.refreshRunChoices();
      }
    }
  }

  async refreshRunChoices() {
    try {
      const runs = await this.api.get(`/threads/${this.threadId}/runs`, { limit: 20 });
      this.renderRunChoices(runs.data);
      $("run-select").value = this.runState.run.id;
    } catch {
      /* the list is a convenience; the run itself is already shown */
    }
  }

  upsertMessage(message) {
    const at = this.messages.findIndex((existing) => existing.id === message.id);
    if (at === -1) this.messages.push(message);
    else this.messages[at] = message;
  }

  busy(on) {
    $("send").disabled = on;
    if (!on) $("run-status").textContent = this.runState.run ? `Run ${this.runState.run.status}.` : "";
  }

  showRunError(text) {
    $("run-error").textContent = text;
    $("run-error").hidden = !text;
  }

  renderAll() {
    renderKeyed($("messages"), this.messages, messageSignature, (message) => messageView(message, this.files));
    $("messages").lastElementChild?.scrollIntoView({ block: "end" });
    this.renderTimeline();
    const run = this.runState.run;
    const calls = pendingCalls(run);
    $("stop").disabled = !this.following && !calls.length; // a run waiting for tool outputs can be stopped too
    const form = $("action-form");
    if (calls.length && !this.following) {
      if (form.hidden || form.dataset.runId !== `${run.id}:${calls.map((c) => c.id).join()}`) {
        $("action-calls").replaceChildren(...actionCalls(calls));
        form.dataset.runId = `${run.id}:${calls.map((c) => c.id).join()}`;
        form.hidden = false;
      }
    } else {
      form.hidden = true;
    }
    const ended = describeRunEnd(run);
    if (ended) this.showRunError(ended);
    else if (this.runState.error) this.showRunError(`The stream reported an error: ${this.runState.error.message}`);
    if (this.following && run) $("run-status").textContent = `Run ${run.status}…`;
  }

  renderTimeline() {
    const t = now();
    $("run-summary").replaceChildren(runSummary(this.runState.run, t, this.runState.transport));
    renderKeyed($("steps"), this.runState.steps, (step) => stepSignature(step) + (endedAt(step) == null ? Math.floor(t) : ""),
      (step) => stepView(step, this.files, t));
  }
}
