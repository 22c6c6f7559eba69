// Pure decisions behind the page's forms and lists: the assistant editor's fields as an API body (and back),
// and the list of recent threads kept in the browser. No DOM here, so node's test runner checks them.

export const RECENT_LIMIT = 20;

/** The recent-threads list with `entry` ({id, title, assistantId, at}) first, once, at most RECENT_LIMIT long. */
export function rememberThread(list, entry) {
  const others = (list || []).filter((item) => item && item.id !== entry.id);
  const previous = (list || []).find((item) => item && item.id === entry.id);
  const merged = { ...previous, ...entry, title: entry.title || (previous && previous.title) || "New thread" };
  return [merged, ...others].slice(0, RECENT_LIMIT);
}

export function forgetThread(list, id) {
  return (list || []).filter((item) => item && item.id !== id);
}

/** What localStorage held, as a list of threads; anything unreadable counts as no list. */
export function parseRecent(text) {
  try {
    const list = JSON.parse(text || "[]");
    return Array.isArray(list) ? list.filter((item) => item && typeof item.id === "string") : [];
  } catch {
    return [];
  }
}

/** A thread's title: the start of its first message, on one line. */
export function threadTitle(text, max = 48) {
  const line = String(text || "").replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line || "New thread";
}

/**
 * The editor's fields as an assistants create/update body, or {error, field} naming the field to fix.
 * `fields`: {name, model, instructions, codeInterpreter, fileSearch, functions (JSON text: one function
 * definition or an array of them, each {name, description?, parameters?, strict?} or {type:"function",
 * function:{...}}), codeFileIds (array), vectorStoreIds (comma-separated text)}.
 */
export function assistantBody(fields) {
  const model = String(fields.model || "").trim();
  if (!model) return { error: "Enter the model (the deployment name) the assistant uses.", field: "model" };
  const functions = parseFunctions(fields.functions);
  if (functions.error) return { error: functions.error, field: "functions" };
  const tools = [];
  if (fields.codeInterpreter) tools.push({ type: "code_interpreter" });
  if (fields.fileSearch) tools.push({ type: "file_search" });
  tools.push(...functions.tools);
  const vectorStoreIds = String(fields.vectorStoreIds || "").split(",").map((id) => id.trim()).filter(Boolean);
  const body = {
    model,
    name: String(fields.name || "").trim() || null,
    instructions: String(fields.instructions || "").trim() || null,
    tools,
    tool_resources: {
      code_interpreter: { file_ids: fields.codeInterpreter ? [...(fields.codeFileIds || [])] : [] },
      file_search: { vector_store_ids: fields.fileSearch ? vectorStoreIds : [] },
    },
  };
  return { body };
}

/** Function tools from the editor's JSON text ("" means none). */
export function parseFunctions(text) {
  const source = String(text || "").trim();
  if (!source) return { tools: [] };
  let parsed;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    return { error: `Functions must be JSON: ${error.message}` };
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const tools = [];
  for (const [index, item] of list.entries()) {
    const definition = item && item.type === "function" ? item.function : item;
    if (!definition || typeof definition !== "object" || typeof definition.name !== "string" || !definition.name) {
      return { error: `Function ${index + 1} needs a "name" (and usually "description" and "parameters").` };
    }
    if (definition.parameters !== undefined &&
        (typeof definition.parameters !== "object" || definition.parameters === null || Array.isArray(definition.parameters))) {
      return { error: `Function "${definition.name}": "parameters" must be a JSON schema object.` };
    }
    tools.push({ type: "function", function: definition });
  }
  return { tools };
}

/** The editor's fields for an existing assistant (the inverse of assistantBody). */
export function assistantFields(assistant) {
  const tools = assistant.tools || [];
  const functions = tools.filter((tool) => tool.type === "function").map((tool) => tool.function);
  const resources = assistant.tool_resources || {};
  return {
    name: assistant.name || "",
    model: assistant.model || "",
    instructions: assistant.instructions || "",
    codeInterpreter: tools.some((tool) => tool.type === "code_interpreter"),
    fileSearch: tools.some((tool) => tool.type === "file_search"),
    functions: functions.length ? JSON.stringify(functions, null, 2) : "",
    codeFileIds: [...((resources.code_interpreter || {}).file_ids || [])],
    vectorStoreIds: ((resources.file_search || {}).vector_store_ids || []).join(", "),
  };
}

/** The tools an attached file is used with, as message attachments name them. */
export function attachmentTools({ codeInterpreter, fileSearch }) {
  const tools = [];
  if (codeInterpreter) tools.push({ type: "code_interpreter" });
  if (fileSearch) tools.push({ type: "file_search" });
  return tools;
}
