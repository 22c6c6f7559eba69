"""The pure rules of the Containers wire: status at read time, object shapes, ids — no storage."""

from __future__ import annotations

import itertools
import re

import pytest
from openai.types import ContainerCreateResponse, ContainerRetrieveResponse
from openai.types.containers import FileRetrieveResponse

from core import ids
from core.wire.containers import (
    DEFAULT_EXPIRY_MINUTES,
    MAX_EXPIRY_MINUTES,
    container_file_object,
    container_object,
    container_record,
    container_status,
)


def _record(last_active_at: int, minutes: int | None) -> dict:
    record = container_record("cntr_" + "0" * 48, name="n", created_at=last_active_at,
                              expires_after_minutes=minutes or DEFAULT_EXPIRY_MINUTES, memory_limit="1g")
    if minutes is None:
        del record["expires_after"]  # an old or hand-made record: the default applies
    return record


@pytest.mark.parametrize("minutes", [1, 2, 19, 20, 21, 59, 60, 61, 719, 1439, MAX_EXPIRY_MINUTES, None])
def test_running_through_the_last_idle_second_then_expired(minutes):
    span = (minutes or DEFAULT_EXPIRY_MINUTES) * 60
    for last_active_at, offset in itertools.product((0, 1, 1_700_000_000, 2**31 + 5), range(-3, 4)):
        record = _record(last_active_at, minutes)
        now = last_active_at + span + offset
        assert container_status(record, now) == ("expired" if offset > 0 else "running"), (minutes, offset)
    record = _record(1000, minutes)
    assert container_status(record, 1000) == "running"  # just used
    assert container_status(record, 0) == "running"  # a clock behind the record never expires it
    assert container_status(record, 1000 + span + 10**9) == "expired"


def test_status_follows_last_active_at_not_created_at():
    record = {**_record(100, 20), "last_active_at": 100 + 3600}
    assert container_status(record, 100 + 20 * 60 + 1) == "running"
    assert container_status(record, 100 + 3600 + 20 * 60 + 1) == "expired"


def test_objects_validate_strictly_as_the_sdk_reads_them():
    record = _record(1_700_000_000, 5)
    running = container_object(record, 1_700_000_000)
    assert set(running) == {"id", "object", "created_at", "status", "expires_after", "last_active_at", "name",
                            "memory_limit"}
    assert running["status"] == "running" and running["expires_after"] == {"anchor": "last_active_at", "minutes": 5}
    assert container_object(record, 1_700_000_000 + 301)["status"] == "expired"
    for model in (ContainerCreateResponse, ContainerRetrieveResponse):
        assert model.model_validate(running).model_dump(exclude_unset=True) == running
    file = container_file_object(ids.new_id("container_file"), container_id=record["id"], name="a b.csv", size=3,
                                 source="assistant", created_at=5)
    assert file["path"] == "/mnt/data/a b.csv" and file["object"] == "container.file"
    assert FileRetrieveResponse.model_validate(file).model_dump() == file
    with pytest.raises(ValueError):
        container_file_object("cfile_x", container_id="c", name="n", size=1, source="robot", created_at=1)


def test_container_ids_are_hex_and_sort_by_creation():
    made = [ids.new_id("container") for _ in range(500)] + [ids.new_id("container_file") for _ in range(500)]
    assert all(re.fullmatch(r"(cntr|cfile)_[0-9a-f]{48}", value) for value in made)
    containers, files = made[:500], made[500:]
    assert containers == sorted(containers) and files == sorted(files)
    assert all(ids.is_id("container", value) for value in containers)
    assert not any(ids.is_id("container", value) for value in files)
    keys = [ids.descending(ids.body(value)) for value in containers]
    assert keys == sorted(keys, reverse=True)
    for bad in ("cntr_", "cntr_" + "0" * 47, "cntr_" + "G" * 48, "cntr_" + "A" * 48, containers[0] + "0",
                ids.new_id("file")):
        assert not ids.is_id("container", bad), bad
