// The playground's entry point: the API key field (session storage only), the notice line, and the panels.
// Everything the page does goes through the public API at <root>/v1, as users' code does.

import { Api, apiBase } from "./api.mjs";
import { AssistantsPanel } from "./assistants.mjs";
import { Chat } from "./chat.mjs";
import { Files } from "./files.mjs";
import { ResponsesPanel } from "./responses.mjs";

const KEY = "playground.apiKey";
const $ = (id) => document.getElementById(id);

function notify(text, kind = "error") {
  const notice = $("notice");
  notice.textContent = text;
  notice.className = `notice ${kind}`;
  notice.setAttribute("role", kind === "error" ? "alert" : "status");
  notice.hidden = !text;
  if (kind === "info") setTimeout(() => notice.textContent === text && (notice.hidden = true), 5000);
}

const api = new Api(apiBase(window.location), () => sessionStorage.getItem(KEY) || "");
const files = new Files(api);
const assistants = new AssistantsPanel(api, notify);
const chat = new Chat(api, files, assistants, notify);
new ResponsesPanel(api, assistants, chat, notify);

async function start() {
  notify("");
  try {
    await assistants.load();
  } catch (error) {
    notify(error.message);
    if (error.status === 401) $("api-key").focus();
    return;
  }
  chat.renderThreads();
  const last = chat.recent[0];
  if (last) await chat.open(last.id);
  else chat.newThread();
}

$("api-key").value = sessionStorage.getItem(KEY) || "";
$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
  start();
});
$("forget-key").addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  $("api-key").value = "";
  notify("The key is forgotten in this tab.", "info");
});

start().finally(() => {
  document.documentElement.dataset.ready = "true"; // the first load is over (tests wait for this)
});
