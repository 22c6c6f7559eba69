"""The events a change to a stored run step shows, asked of each call's plug-in (core.tool_plugins).

Here, not on `Tools`, because the plug-in interface imports nothing of core.run_events (which uses it).
"""

from __future__ import annotations

from typing import Any

from core.run_events.changes import step_moved
from core.run_events.payloads import Event
from core.tool_plugins import Tools


def step_change_events(tools: Tools, before: dict[str, Any], after: dict[str, Any]) -> list[Event]:
    """What a change to a stored step shows: results that appeared (as deltas), then a new status."""
    events: list[Event] = []
    if after["step_details"]["type"] == "tool_calls":
        earlier = {call["id"]: call for call in before["step_details"]["tool_calls"]}
        for index, call in enumerate(after["step_details"]["tool_calls"]):
            events += tools.of(call).result_deltas(after["id"], index, earlier.get(call["id"]), call)
    return events + step_moved(before, after)
