"""History events in the JSON shape the Durable Functions host sends to the Python SDK."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any


class EventType(IntEnum):
    EXECUTION_STARTED = 0
    TASK_SCHEDULED = 4
    TASK_COMPLETED = 5
    TASK_FAILED = 6
    TIMER_CREATED = 10
    TIMER_FIRED = 11
    ORCHESTRATOR_STARTED = 12
    ORCHESTRATOR_COMPLETED = 13
    EVENT_RAISED = 15


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event(event_type: EventType, at: datetime, event_id: int = -1, **fields: Any) -> dict[str, Any]:
    return {"EventType": int(event_type), "EventId": event_id, "IsPlayed": False,
            "Timestamp": iso(at), **fields}


def orchestrator_started(at: datetime) -> dict[str, Any]:
    return event(EventType.ORCHESTRATOR_STARTED, at)


def orchestrator_completed(at: datetime) -> dict[str, Any]:
    return event(EventType.ORCHESTRATOR_COMPLETED, at)


def execution_started(at: datetime, name: str, input_value: Any) -> dict[str, Any]:
    input_json = None if input_value is None else json.dumps(input_value)
    return event(EventType.EXECUTION_STARTED, at, Name=name, Input=input_json, Version="")


def task_scheduled(at: datetime, sequence: int, name: str, input_json: str | None) -> dict[str, Any]:
    return event(EventType.TASK_SCHEDULED, at, sequence, Name=name, Input=input_json, Version="")


def task_completed(at: datetime, sequence: int, result_json: str | None) -> dict[str, Any]:
    return event(EventType.TASK_COMPLETED, at, TaskScheduledId=sequence, Result=result_json)


def task_failed(at: datetime, sequence: int, reason: str, details: str) -> dict[str, Any]:
    return event(EventType.TASK_FAILED, at, TaskScheduledId=sequence, Reason=reason, Details=details)


def timer_created(at: datetime, sequence: int, fire_at: str) -> dict[str, Any]:
    return event(EventType.TIMER_CREATED, at, sequence, FireAt=fire_at)


def timer_fired(at: datetime, sequence: int, fire_at: str) -> dict[str, Any]:
    return event(EventType.TIMER_FIRED, at, TimerId=sequence, FireAt=fire_at)


def event_raised(at: datetime, name: str, input_json: str | None) -> dict[str, Any]:
    return event(EventType.EVENT_RAISED, at, Name=name, Input=input_json)
