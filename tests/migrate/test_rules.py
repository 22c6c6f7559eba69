"""The migration's pure rules: plans, annotations in metadata, resume alignment, adoption, retries, journal."""

from __future__ import annotations

import json

import openai
import pytest

from migrate import transform
from migrate.cli import read_thread_ids
from migrate.endpoints import UsageError
from migrate.journal import Journal, JournalMismatch
from migrate.service import create_once, retry_delay
from migrate.verify import message_view, vector_store_view

MAPPED = {("file", "file-old"): "file-new", ("vector_store", "vs_old"): "vs_new"}


def resolve(kind, old):
    return MAPPED.get((kind, old))


def text_message(text="hi", annotations=(), metadata=None, **extra):
    return {"id": "msg_1", "role": "assistant", "created_at": 1700000000, "metadata": metadata or {},
            "content": [{"type": "text", "text": {"value": text, "annotations": list(annotations)}}], **extra}


def test_a_store_membership_carries_attributes_and_only_a_static_chunking_strategy():
    static = {"type": "static", "static": {"max_chunk_size_tokens": 300, "chunk_overlap_tokens": 0}}
    member = {"id": "file-old", "attributes": {"k": "v"}, "chunking_strategy": static, "status": "completed"}
    assert transform.vector_store_file_params(member) == {"attributes": {"k": "v"}, "chunking_strategy": static}
    assert transform.vector_store_file_params({"id": "f", "attributes": {}, "chunking_strategy": {"type": "other"}}) == {}
    assert transform.vector_store_file_params({"id": "f"}) == {}  # an archive from before memberships kept them


def test_a_store_view_ignores_chunking_only_where_the_source_had_none_to_send():
    static = {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}}
    source = [{"id": "file-old", "attributes": {"k": "v"}, "chunking_strategy": {"type": "other"}}]
    target = [{"id": "file-new", "attributes": {"k": "v"}, "chunking_strategy": static}]
    expected = vector_store_view({"name": "s"}, source, resolve)
    assert expected["files"] == {"file-new": {"attributes": {"k": "v"}, "chunking_strategy": None}}
    assert vector_store_view({"name": "s"}, target, unchunked=frozenset({"file-new"})) == expected
    assert vector_store_view({"name": "s"}, [{**target[0], "attributes": {}}], unchunked=frozenset({"file-new"})) != expected
    assert vector_store_view({"name": "s"}, target) != expected


def test_model_map_parses_pairs_and_refuses_garbage():
    assert transform.parse_model_map(" gpt-4o=gpt-4.1 , a=b") == {"gpt-4o": "gpt-4.1", "a": "b"}
    assert transform.parse_model_map(None) == {}
    with pytest.raises(ValueError):
        transform.parse_model_map("gpt-4o")


def test_assistant_plan_maps_model_and_references_and_names_what_it_drops():
    plan = transform.assistant_plan({"model": "gpt-4o", "name": "A", "description": None, "tools": [],
                                     "tool_resources": {"code_interpreter": {"file_ids": ["file-old", "file-gone"]},
                                                        "file_search": {"vector_store_ids": ["vs_old"]}}},
                                    resolve, {"gpt-4o": "gpt-4.1"})
    assert plan.params == {"model": "gpt-4.1", "name": "A", "tools": [],
                           "tool_resources": {"code_interpreter": {"file_ids": ["file-new"]},
                                              "file_search": {"vector_store_ids": ["vs_new"]}}}
    assert plan.warnings == ["code_interpreter.file_ids: file-gone was not copied; reference dropped"]


def test_message_plan_keeps_created_at_and_annotations_in_metadata_and_views_read_them_back():
    note = {"type": "file_citation", "text": "【4:0†source】", "start_index": 2, "end_index": 14,
            "file_citation": {"file_id": "file-old"}}
    source = text_message("a 【4:0†source】", [note], {"k": "v"},
                          attachments=[{"file_id": "file-old", "tools": [{"type": "file_search"}]}])
    plan = transform.message_plan(source, resolve)
    assert plan.params["content"] == [{"type": "text", "text": "a 【4:0†source】"}]
    assert plan.params["attachments"] == [{"file_id": "file-new", "tools": [{"type": "file_search"}]}]
    assert plan.params["metadata"]["k"] == "v" and plan.params["metadata"]["migrated_created_at"] == "1700000000"
    copy = text_message("a 【4:0†source】", metadata=plan.params["metadata"], attachments=plan.params["attachments"])
    copy["created_at"] = 1800000000
    assert message_view(copy) == message_view(source, resolve)


def test_many_annotations_spread_over_free_keys_or_are_reported():
    notes = [["file_citation", f"【{i}†source】", i, i + 9, f"file-{i:030d}"] for i in range(30)]
    encoded = transform.encode_annotations(notes, free_keys=15)
    assert len(encoded) > 1 and all(len(value) <= 512 for value in encoded.values())
    assert transform.decode_annotations(encoded) == notes
    assert transform.encode_annotations(notes, free_keys=1) is None
    full = {f"k{i}": "v" for i in range(16)}
    plan = transform.message_plan(text_message(metadata=full), resolve)
    assert plan.params["metadata"] == full and "created_at" in plan.warnings[0]


def test_a_message_with_nothing_creatable_has_no_plan():
    image_only = {"id": "m", "role": "user", "created_at": 1, "metadata": {},
                  "content": [{"type": "image_file", "image_file": {"file_id": "file-gone"}}]}
    assert transform.message_plan(image_only, resolve) is None


def test_alignment_pairs_the_unrecorded_tail_and_refuses_foreign_messages():
    pending = [text_message("one") | {"id": "s1"}, text_message("two") | {"id": "s2"}]
    assert transform.align_messages(pending, [text_message("one") | {"id": "t1"}]) == [("s1", "t1")]
    assert transform.align_messages(pending, []) == []
    with pytest.raises(ValueError, match="does not match"):
        transform.align_messages(pending, [text_message("other") | {"id": "t9"}])
    with pytest.raises(ValueError, match="did not record"):
        transform.align_messages(pending[:1], [text_message("one") | {"id": "a"}, text_message("x") | {"id": "b"}])


def test_adoption_needs_equal_fields_a_recent_creation_and_a_free_candidate():
    plan = {"model": "m", "name": "A", "metadata": {}}
    candidate = {"id": "asst_1", "created_at": 1000, "model": "m", "name": "A", "metadata": {}}
    assert transform.adoptable("assistant", plan, [candidate], since=1000, taken=set()) == "asst_1"
    assert transform.adoptable("assistant", plan, [candidate], since=1000, taken={"asst_1"}) is None
    assert transform.adoptable("assistant", plan, [candidate], since=5000, taken=set()) is None
    assert transform.adoptable("assistant", {**plan, "name": "B"}, [candidate], since=1000, taken=set()) is None


def test_retry_delay_honours_retry_after_within_reason():
    assert retry_delay(0, "3") == 3.0
    assert retry_delay(2, None) == 2.0
    assert retry_delay(20, "9999") == 30.0
    assert retry_delay(0, "soon") == 0.5


def _status_error(cls, status, headers=None):
    import httpx2
    request = httpx2.Request("POST", "http://x")
    return cls("boom", response=httpx2.Response(status, headers=headers or {}, request=request), body=None)


def test_create_once_retries_throttling_and_looks_before_repeating_a_lost_create():
    waits, calls = [], []

    def create():
        calls.append(1)
        if len(calls) == 1:
            raise _status_error(openai.RateLimitError, 429, {"retry-after": "1"})
        raise openai.APIConnectionError(request=None)

    assert create_once(create, find=lambda: "asst_found", sleep=waits.append) == "asst_found"
    assert waits[0] == 1.0 and len(calls) == 2


def test_journal_drops_a_torn_line_and_refuses_another_migration(tmp_path):
    path = tmp_path / "map.jsonl"
    journal = Journal(path, {"source": "a", "target": "b"})
    journal.mark_pending("file", "f1")
    journal.record("file", "f1", "f9")
    journal.close()
    with open(path, "ab") as file:
        file.write(b'{"kind":"file","old":"f2","ne')
    again = Journal(path, {"source": "a", "target": "b"})
    assert again.new_id("file", "f1") == "f9" and again.pending_since("file", "f1") is None
    again.record("file", "f2", "f8")
    again.close()
    assert all(json.loads(line) for line in path.read_text().splitlines())
    with pytest.raises(JournalMismatch):
        Journal(path, {"source": "a", "target": "elsewhere"})


def test_thread_id_file_ignores_comments_and_refuses_junk(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("# mine\nthread_a\n\nthread_b  # note\nthread_a\n")
    assert read_thread_ids(path) == ["thread_a", "thread_b"]
    path.write_text("thread_a thread_b\n")
    with pytest.raises(UsageError):
        read_thread_ids(path)
