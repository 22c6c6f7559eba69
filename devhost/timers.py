"""Timer triggers, fired on their NCRONTAB schedules as the host fires them.

Each timer function gets one loop: it sleeps until the schedule's next
occurrence (UTC), then invokes the function with a `TimerRequest` and its other
bindings (the Durable client). One invocation of a function at a time, as the
host's singleton lock gives; an occurrence missed while the previous call still
ran is fired late with `past_due`. A failing invocation is logged, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from typing import Any, Callable

from azure.functions.timer import TimerRequest
from croniter import croniter

from devhost.app_index import IndexedFunction
from devhost.invocation import log_invocation, make_context

logger = logging.getLogger("devhost")


def next_occurrence(schedule: str, after: datetime) -> datetime:
    """The first time strictly after `after` that the six-field schedule names."""
    return croniter(schedule, after, second_at_beginning=True).get_next(datetime)


class TimerScheduler:
    """Runs every timer function of the app until `close`."""

    def __init__(self, functions: list[IndexedFunction], bindings: Callable[[IndexedFunction, Any], dict[str, Any]]):
        self._functions = functions
        self._bindings = bindings
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(function)) for function in self._functions]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _loop(self, function: IndexedFunction) -> None:
        if function.run_on_startup:
            await self._invoke(function, past_due=False)
        due = next_occurrence(function.schedule, datetime.now(timezone.utc))
        while True:
            await asyncio.sleep(max(0.0, (due - datetime.now(timezone.utc)).total_seconds()))
            now = datetime.now(timezone.utc)
            await self._invoke(function, past_due=(now - due).total_seconds() > 1.0)
            due = next_occurrence(function.schedule, max(due, datetime.now(timezone.utc)))

    async def _invoke(self, function: IndexedFunction, past_due: bool) -> None:
        context = make_context(function.name)
        started = time.perf_counter()
        try:
            kwargs = {function.trigger_param: TimerRequest(past_due=past_due), **self._bindings(function, context)}
            if function.is_async:
                await function.user_function(**kwargs)
            else:
                await asyncio.to_thread(function.user_function, **kwargs)
        except Exception:
            logger.exception("timer function %s failed", function.name)
            log_invocation(function.name, context.invocation_id, started, "Failed")
            return
        log_invocation(function.name, context.invocation_id, started, "Succeeded")
