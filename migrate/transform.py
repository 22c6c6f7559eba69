"""Pure decisions: what to send the target for each source object, and how to recognise it again.

Everything here maps plain JSON dicts (as the API returns them) to plain dicts,
so the copy's rules are testable without a server. `resolve(kind, old_id)`
answers the new id of an object already copied, or None.
"""

from __future__ import annotations

import json
from typing import Callable

Resolve = Callable[[str, str], "str | None"]

MAX_METADATA_KEYS = 16
MAX_METADATA_VALUE = 512
# Keys this tool adds to a copied message's metadata: the API cannot set `created_at`
# or annotations, so the originals travel here (and verification reads them back).
CREATED_AT_KEY = "migrated_created_at"
ANNOTATIONS_KEY = "migrated_annotations"
# Purposes an Assistants app uploads; others (fine-tune, batch) are not this service's business.
COPIED_PURPOSES = ("assistants", "assistants_output", "vision", "user_data")
ASSISTANT_FIELDS = ("name", "description", "instructions", "tools", "metadata", "temperature", "top_p",
                    "response_format", "reasoning_effort")


class Plan:
    """Create parameters for one object plus what could not be carried over."""

    def __init__(self, params: dict, warnings: list[str] | None = None):
        self.params = params
        self.warnings = warnings or []


def parse_model_map(text: str | None) -> dict[str, str]:
    """`old=new,old2=new2` → {"old": "new", ...}; a malformed pair is a usage error."""
    mapping: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in (text or "").split(","))):
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ValueError(f"--model-map: expected old=new, got {pair!r}")
        mapping[old.strip()] = new.strip()
    return mapping


def tool_resources(resources: dict | None, resolve: Resolve) -> tuple[dict, list[str]]:
    """Tool resources with file and vector store ids mapped; unmapped references are dropped and named."""
    result: dict = {}
    warnings: list[str] = []
    for tool, field, kind in (("code_interpreter", "file_ids", "file"),
                              ("file_search", "vector_store_ids", "vector_store")):
        old_ids = ((resources or {}).get(tool) or {}).get(field)
        if old_ids is None:
            continue
        new_ids = []
        for old in old_ids:
            new = resolve(kind, old)
            if new is None:
                warnings.append(f"{tool}.{field}: {old} was not copied; reference dropped")
            else:
                new_ids.append(new)
        result[tool] = {field: new_ids}
    return result, warnings


def assistant_plan(source: dict, resolve: Resolve, model_map: dict[str, str]) -> Plan:
    params = {field: source[field] for field in ASSISTANT_FIELDS if source.get(field) is not None}
    params["model"] = model_map.get(source["model"], source["model"])
    resources, warnings = tool_resources(source.get("tool_resources"), resolve)
    if resources:
        params["tool_resources"] = resources
    return Plan(params, warnings)


def thread_plan(source: dict, resolve: Resolve) -> Plan:
    params: dict = {"metadata": dict(source.get("metadata") or {})}
    resources, warnings = tool_resources(source.get("tool_resources"), resolve)
    if resources:
        params["tool_resources"] = resources
    return Plan(params, warnings)


def vector_store_plan(source: dict) -> Plan:
    params = {"name": source.get("name"), "metadata": dict(source.get("metadata") or {})}
    if source.get("expires_after"):
        params["expires_after"] = source["expires_after"]
    return Plan({key: value for key, value in params.items() if value is not None})


def vector_store_file_params(member: dict) -> dict:
    """What a store membership carries besides the file: its attributes and a static chunking strategy.

    A `static` strategy as the API reports it is also valid create input; `other` (files chunked
    before strategies existed) cannot be sent, so the target chunks those by its default.
    """
    params: dict = {}
    if member.get("attributes"):
        params["attributes"] = dict(member["attributes"])
    chunking = member.get("chunking_strategy") or {}
    if chunking.get("type") == "static" and chunking.get("static"):
        params["chunking_strategy"] = {"type": "static", "static": dict(chunking["static"])}
    return params


# ---- messages ------------------------------------------------------------------------------------

def annotations_of(message: dict, resolve: Resolve | None = None) -> list[list]:
    """A message's annotations, compactly: [type, text, start, end, file_id] per annotation, in order.

    With `resolve`, file ids are mapped to the target's (an unmapped one stays as it was).
    """
    found = []
    for block in message.get("content") or []:
        if block.get("type") != "text":
            continue
        for note in (block.get("text") or {}).get("annotations") or []:
            kind = note.get("type", "")
            detail = note.get(kind) or {}
            file_id = detail.get("file_id")
            if file_id and resolve:
                file_id = resolve("file", file_id) or file_id
            found.append([kind, note.get("text"), note.get("start_index"), note.get("end_index"), file_id])
    return found


def encode_annotations(annotations: list[list], free_keys: int) -> dict[str, str] | None:
    """Annotations as metadata values of ≤ 512 chars over at most `free_keys` keys; None if they do not fit."""
    if not annotations:
        return {}
    text = json.dumps(annotations, separators=(",", ":"), ensure_ascii=False)
    pieces = [text[i:i + MAX_METADATA_VALUE] for i in range(0, len(text), MAX_METADATA_VALUE)]
    if len(pieces) > free_keys:
        return None
    return {ANNOTATIONS_KEY if i == 0 else f"{ANNOTATIONS_KEY}_{i}": piece for i, piece in enumerate(pieces)}


def decode_annotations(metadata: dict) -> list[list] | None:
    """The annotations `encode_annotations` stored, or None when the metadata holds none."""
    if ANNOTATIONS_KEY not in metadata:
        return None
    pieces, index = [metadata[ANNOTATIONS_KEY]], 1
    while f"{ANNOTATIONS_KEY}_{index}" in metadata:
        pieces.append(metadata[f"{ANNOTATIONS_KEY}_{index}"])
        index += 1
    return json.loads("".join(pieces))


def user_metadata(metadata: dict | None) -> dict:
    """Metadata without the keys this tool adds."""
    return {key: value for key, value in (metadata or {}).items()
            if key != CREATED_AT_KEY and not key.startswith(ANNOTATIONS_KEY)}


def message_content(source: dict, resolve: Resolve) -> tuple[list[dict], list[str]]:
    """Output content blocks as input content parts (text values keep their citation markers)."""
    parts, warnings = [], []
    for block in source.get("content") or []:
        kind = block.get("type")
        if kind == "text":
            value = (block.get("text") or {}).get("value") or ""
            if value:
                parts.append({"type": "text", "text": value})
        elif kind == "image_file":
            image = dict(block["image_file"])
            new = resolve("file", image["file_id"])
            if new is None:
                warnings.append(f"image_file {image['file_id']} was not copied; content part dropped")
                continue
            image["file_id"] = new
            parts.append({"type": "image_file", "image_file": image})
        elif kind == "image_url":
            parts.append({"type": "image_url", "image_url": dict(block["image_url"])})
        else:
            warnings.append(f"content part of type {kind!r} cannot be created through the API; dropped")
    return parts, warnings


def message_plan(source: dict, resolve: Resolve) -> Plan | None:
    """Create parameters for a message, or None when nothing of it can be created (e.g. no content left).

    Whether a message is copyable depends only on it and the mapping, so a rerun decides the same.
    """
    content, warnings = message_content(source, resolve)
    if not content:
        return None
    attachments = []
    for attachment in source.get("attachments") or []:
        new = resolve("file", attachment["file_id"])
        if new is None:
            warnings.append(f"attachment {attachment['file_id']} was not copied; dropped")
        else:
            attachments.append({"file_id": new, "tools": [{"type": tool["type"]} for tool in attachment.get("tools") or []]})
    metadata = dict(source.get("metadata") or {})
    free = MAX_METADATA_KEYS - len(metadata)
    if free > 0:
        metadata[CREATED_AT_KEY] = str(source["created_at"])
        free -= 1
    else:
        warnings.append("no free metadata key to record the original created_at")
    annotations = encode_annotations(annotations_of(source, resolve), free)
    if annotations is None:
        warnings.append("annotations do not fit in the free metadata keys; not kept on the target")
    else:
        metadata.update(annotations)
    params = {"role": source["role"], "content": content, "metadata": metadata}
    if attachments:
        params["attachments"] = attachments
    return Plan(params, warnings)


def message_fingerprint(message: dict) -> tuple:
    """What identifies a message's content on both sides: role and text values, in order."""
    texts = tuple((block.get("text") or {}).get("value") for block in message.get("content") or []
                  if block.get("type") == "text" and (block.get("text") or {}).get("value"))
    return message.get("role"), texts


def align_messages(pending_source: list[dict], unrecorded_target: list[dict]) -> list[tuple[str, str]]:
    """Pair target messages the journal does not know with the source messages they copy.

    Messages are created one at a time, in order, each recorded as soon as the
    target answers, so an interruption leaves at most the newest target message
    unrecorded; it must copy the first pending source message. Anything else
    means someone else wrote to the thread, and resuming would misorder it.
    """
    if len(unrecorded_target) > len(pending_source):
        raise ValueError(f"target thread holds {len(unrecorded_target)} message(s) this migration did not record")
    pairs = []
    for source, target in zip(pending_source, unrecorded_target):
        if message_fingerprint(source) != message_fingerprint(target):
            raise ValueError(f"target message {target['id']} does not match source message {source['id']}; "
                             "the target thread was changed outside this migration")
        pairs.append((source["id"], target["id"]))
    return pairs


# ---- recognising an object created just before an interruption ----------------------------------

CLOCK_SKEW_SECONDS = 300


def _created_since(candidate: dict, since: float) -> bool:
    return (candidate.get("created_at") or 0) >= since - CLOCK_SKEW_SECONDS


def adoptable(kind: str, plan_or_source: dict, candidates: list[dict], since: float, taken: set[str]) -> str | None:
    """The id of a target object that this migration created for `plan_or_source` but never recorded.

    Only objects created after the migration began creating it (minus clock skew),
    not already mapped to another source object, and equal in every field sent count.
    """
    for candidate in candidates:
        if candidate["id"] in taken or not _created_since(candidate, since):
            continue
        if kind == "file":
            same = (candidate.get("filename") == plan_or_source.get("filename")
                    and candidate.get("bytes") == plan_or_source.get("bytes")
                    and candidate.get("purpose") == plan_or_source.get("purpose"))
        else:
            same = all(candidate.get(field) == value for field, value in plan_or_source.items()
                       if field not in ("tools", "tool_resources", "expires_after"))
        if same:
            return candidate["id"]
    return None
