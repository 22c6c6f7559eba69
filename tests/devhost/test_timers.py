"""Timer triggers: devhost indexes and fires them as the host does (devhost/timers.py)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import pytest

from devhost.app_index import AppIndexError, timer_schedule
from devhost.timers import next_occurrence
from tests.devhost.conftest import SAMPLE_APP, SampleHost
from tests.support.devhost_proc import DevhostProcess

UTC = timezone.utc


@pytest.mark.parametrize("schedule, after, expected", [
    ("*/2 * * * * *", datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC), datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)),
    ("0 */1 * * * *", datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC), datetime(2026, 1, 1, 0, 1, 0, tzinfo=UTC)),
    ("0 */5 * * * *", datetime(2026, 1, 1, 0, 5, 0, tzinfo=UTC), datetime(2026, 1, 1, 0, 10, 0, tzinfo=UTC)),
    ("30 15 3 * * 1-5", datetime(2026, 12, 5, 12, 0, 0, tzinfo=UTC), datetime(2026, 12, 7, 3, 15, 30, tzinfo=UTC)),
])
def test_next_occurrence_reads_six_fields_seconds_first(schedule, after, expected):
    assert next_occurrence(schedule, after) == expected


def test_schedules_resolve_settings_and_must_have_six_fields(monkeypatch):
    monkeypatch.setenv("SWEEP_EVERY", "0 */1 * * * *")
    assert timer_schedule("f", "%SWEEP_EVERY%") == "0 */1 * * * *"
    for bad in ("*/5 * * * *", "00:05:00", "not a schedule", "61 * * * * *", "%UNSET_SCHEDULE_SETTING%"):
        with pytest.raises(AppIndexError):
            timer_schedule("f", bad)


def test_a_timer_fires_on_schedule_with_its_durable_client(azurite, tmp_path):
    activity_log = tmp_path / "activities.jsonl"
    process = DevhostProcess(SAMPLE_APP, {
        "AzureWebJobsStorage": azurite.connection_string, "SAMPLE_HUB": f"hub{uuid.uuid4().hex[:8]}",
        "ACTIVITY_LOG": str(activity_log), "SAMPLE_TIMER_SCHEDULE": "* * * * * *", "SAMPLE_TIMER_ON_STARTUP": "true",
    }, tmp_path / "devhost.log", route_prefix="api").start()
    host = SampleHost(process, activity_log)
    try:
        deadline = time.monotonic() + 15
        while len(host.activity_calls("tick")) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        ticks = host.activity_calls("tick")
        assert len(ticks) >= 3, process.log()[-2000:]
        assert all(isinstance(tick["instances"], int) for tick in ticks)  # the client reached the Durable API
        assert "Executed 'Functions.tick' (Succeeded" in process.log()
    finally:
        process.stop()
