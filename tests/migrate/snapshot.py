"""An id-free picture of a deployment, so source and target can be compared independently of the tool.

References to files are replaced by the files' names (unique in the test data), ids are dropped, and the
metadata keys the migration adds are set apart.
"""

from __future__ import annotations

import hashlib
import json

import openai

ADDED = ("migrated_created_at", "migrated_annotations")


def _names(client: openai.OpenAI) -> dict[str, str]:
    return {f.id: f.filename for f in client.files.list()}


def _resources(resources, names) -> dict:
    data = resources.to_dict() if resources else {}
    ci = (data.get("code_interpreter") or {}).get("file_ids")
    return {"code_interpreter": sorted(names.get(i, i) for i in ci)} if ci else {}


def snapshot(client: openai.OpenAI, thread_ids: list[str], model_map: dict | None = None) -> dict:
    names = _names(client)
    files = sorted((f.filename, f.purpose, f.bytes, hashlib.sha256(client.files.content(f.id).read()).hexdigest())
                   for f in client.files.list())
    assistants = sorted(json.dumps({
        "name": a.name, "model": (model_map or {}).get(a.model, a.model), "instructions": a.instructions,
        "description": a.description, "metadata": a.metadata, "temperature": a.temperature,
        "tools": [t.to_dict() for t in a.tools], "tool_resources": _resources(a.tool_resources, names)},
        sort_keys=True) for a in client.beta.assistants.list(limit=100))
    threads = []
    for thread_id in thread_ids:
        thread = client.beta.threads.retrieve(thread_id)
        messages = []
        for m in client.beta.threads.messages.list(thread_id, order="asc", limit=100):
            parts = [p.text.value if p.type == "text" else names.get(p.image_file.file_id) for p in m.content]
            metadata = {k: v for k, v in (m.metadata or {}).items() if not k.startswith(ADDED)}
            messages.append({"role": m.role, "parts": parts, "metadata": metadata,
                             "attachments": [names.get(a.file_id) for a in m.attachments or []]})
        threads.append({"metadata": thread.metadata, "tool_resources": _resources(thread.tool_resources, names),
                        "messages": messages})
    return {"files": files, "assistants": assistants, "threads": threads}


def mapping(path) -> dict[tuple[str, str], str]:
    """(kind, old id) → new id, read straight from the mapping file."""
    found = {}
    for line in open(path, encoding="utf-8"):
        if line.endswith("\n"):
            record = json.loads(line)
            if "new" in record:
                found[(record["kind"], record["old"])] = record["new"]
    return found
