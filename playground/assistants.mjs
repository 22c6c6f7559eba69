// The assistant panel: list, pick, create, edit (tools, functions as JSON schema, files) and delete.

import { assistantBody, assistantFields } from "./forms.mjs";
import { h } from "./views.mjs";

const $ = (id) => document.getElementById(id);

export class AssistantsPanel {
  constructor(api, notify) {
    this.api = api;
    this.notify = notify;
    this.list = [];
    this.codeFiles = []; // [{id, filename}] given to code interpreter through tool_resources
    this.onChange = () => {};
    $("assistant-select").addEventListener("change", () => this.select($("assistant-select").value));
    $("new-assistant").addEventListener("click", () => this.startNew());
    $("assistant-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    $("delete-assistant").addEventListener("click", () => this.remove());
    $("assistant-files").addEventListener("change", () => this.uploadFiles());
  }

  get current() {
    return this.list.find((assistant) => assistant.id === $("assistant-select").value) || null;
  }

  async load(preferredId) {
    const page = await this.api.get("/assistants", { limit: 100 });
    this.list = page.data;
    const select = $("assistant-select");
    select.replaceChildren(...this.list.map((assistant) =>
      h("option", { value: assistant.id }, `${assistant.name || "(unnamed)"} · ${assistant.model}`)));
    if (!this.list.length) {
      select.append(h("option", { value: "" }, "No assistants yet"));
      this.startNew();
      return;
    }
    const wanted = this.list.some((a) => a.id === preferredId) ? preferredId : this.list[0].id;
    this.select(wanted);
  }

  select(id) {
    $("assistant-select").value = id;
    const assistant = this.current;
    if (assistant) this.fill(assistantFields(assistant), assistant.id);
    this.onChange(assistant);
  }

  startNew() {
    this.fill({ name: "", model: $("assistant-model").value || "gpt-4o", instructions: "", codeInterpreter: true,
      fileSearch: false, functions: "", codeFileIds: [], vectorStoreIds: "" }, "");
    $("assistant-details").open = true;
    $("assistant-name").focus();
  }

  fill(fields, id) {
    this.editing = id;
    $("assistant-name").value = fields.name;
    $("assistant-model").value = fields.model;
    $("assistant-instructions").value = fields.instructions;
    $("tool-code").checked = fields.codeInterpreter;
    $("tool-search").checked = fields.fileSearch;
    $("assistant-functions").value = fields.functions;
    $("assistant-stores").value = fields.vectorStoreIds;
    $("assistant-error").textContent = "";
    $("save-assistant").textContent = id ? "Save changes" : "Create assistant";
    $("delete-assistant").hidden = !id;
    this.codeFiles = fields.codeFileIds.map((fileId) => ({ id: fileId, filename: fileId }));
    this.renderFiles();
    for (const file of this.codeFiles) {
      this.api.get(`/files/${encodeURIComponent(file.id)}`).then((found) => {
        file.filename = found.filename;
        this.renderFiles();
      }, () => {});
    }
  }

  renderFiles() {
    $("assistant-file-list").replaceChildren(...this.codeFiles.map((file) => h("li", {}, file.filename, " ",
      h("button", { type: "button", className: "quiet", "aria-label": `Remove ${file.filename}`,
        onclick: () => {
          this.codeFiles = this.codeFiles.filter((other) => other !== file);
          this.renderFiles();
        } }, "×"))));
  }

  async uploadFiles() {
    const input = $("assistant-files");
    try {
      for (const file of input.files) {
        const uploaded = await this.api.upload(file);
        this.codeFiles.push({ id: uploaded.id, filename: uploaded.filename });
        this.renderFiles();
      }
    } catch (error) {
      $("assistant-error").textContent = `Upload failed: ${error.message}`;
    } finally {
      input.value = "";
    }
  }

  async save() {
    const result = assistantBody({
      name: $("assistant-name").value, model: $("assistant-model").value,
      instructions: $("assistant-instructions").value, codeInterpreter: $("tool-code").checked,
      fileSearch: $("tool-search").checked, functions: $("assistant-functions").value,
      codeFileIds: this.codeFiles.map((file) => file.id), vectorStoreIds: $("assistant-stores").value,
    });
    if (result.error) {
      $("assistant-error").textContent = result.error;
      $(result.field === "model" ? "assistant-model" : "assistant-functions").focus();
      return;
    }
    try {
      const saved = this.editing
        ? await this.api.post(`/assistants/${this.editing}`, result.body)
        : await this.api.post("/assistants", result.body);
      await this.load(saved.id);
      this.notify(`Saved assistant ${saved.name || saved.id}.`, "info");
    } catch (error) {
      $("assistant-error").textContent = error.message;
    }
  }

  async remove() {
    const assistant = this.current;
    if (!assistant || !window.confirm(`Delete the assistant ${assistant.name || assistant.id}?`)) return;
    try {
      await this.api.del(`/assistants/${assistant.id}`);
      await this.load();
    } catch (error) {
      this.notify(error.message);
    }
  }
}
