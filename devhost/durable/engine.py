"""The local orchestration engine: instances, their inboxes, activity workers and timers.

Every instance is processed under its own lock, one message per episode
(see replay.py). State is persisted after each batch of episodes and before any
new work starts, so a devhost killed at any point resumes from storage: pending
activities are started again (at-least-once, as on the real host), timers are
re-armed and undelivered messages replayed. A completed activity is in history
and never runs again.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import Any

from azure.functions import meta
from azure.functions.durable_functions import ActivityTriggerConverter

from devhost.app_index import FunctionIndex
from devhost.durable import history as h
from devhost.durable.replay import Work, run_episode
from devhost.durable.state import InstanceState, InstanceStore
from devhost.invocation import log_invocation, make_context

logger = logging.getLogger("devhost.durable")


class InstanceNotFound(Exception):
    pass


class InstanceGone(Exception):
    """The instance exists but is no longer running."""


class DurableEngine:
    def __init__(self, index: FunctionIndex, store: InstanceStore, activity_workers: int = 64):
        self._index = index
        self._store = store
        self._pool = ThreadPoolExecutor(max_workers=activity_workers, thread_name_prefix="activity")
        self._io_pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="durable-io")
        self._active: dict[str, InstanceState] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Task] = set()
        # Set once the instances stored as running are resumed: from then on `_active` knows every one.
        self._resumed = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------

    async def resume_in_flight(self) -> int:
        """Pick up every instance that was running when devhost last stopped."""
        try:
            return await self._resume()
        finally:
            self._resumed.set()

    async def _resume(self) -> int:
        ids = await self._io(self._store.active_instance_ids)
        for instance_id in ids:
            state = await self._io(self._store.load, instance_id)
            if state is None or not state.is_active:
                continue
            self._active[instance_id] = state
            for sequence, pending in state.pending_activities.items():
                self._start_work(state, Work("activity", int(sequence), pending["name"], pending["input"]))
            for sequence, fire_at in state.pending_timers.items():
                self._start_work(state, Work("timer", int(sequence), fire_at=fire_at))
            if state.inbox:
                self._spawn(self._drain_locked(instance_id))
        return len(ids)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._io_pool.shutdown(wait=False, cancel_futures=True)

    # -- client operations (the Durable HTTP API) ------------------------------

    async def start_new(self, name: str, instance_id: str | None, input_value: Any) -> str:
        """Start an instance: its first episode runs at once, and its first work starts while the
        episode is stored (the instances running are all known once those stored are resumed)."""
        if self._index.orchestrator(name) is None:
            raise LookupError(f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function.")
        instance_id = instance_id or uuid.uuid4().hex
        await self._resumed.wait()
        async with self._lock(instance_id):
            if instance_id in self._active:
                raise InstanceGone(f"An instance with ID '{instance_id}' already exists and is running.")
            now = h.iso(h.utc_now())
            execution_id = uuid.uuid4().hex
            state = InstanceState(
                instance_id=instance_id, name=self._index.orchestrator(name).name, execution_id=execution_id,
                input=input_value, created_time=now, last_updated_time=now,
                inbox=[{"kind": "start", "execution_id": execution_id}])
            self._active[instance_id] = state
            await self._drain(state)
        return instance_id

    async def raise_event(self, instance_id: str, name: str, input_json: str | None) -> None:
        async with self._lock(instance_id):
            state = await self._require_active(instance_id)
            state.inbox.append({"kind": "event", "name": name, "input": input_json})
            await self._drain(state)

    async def terminate(self, instance_id: str, reason: str) -> None:
        async with self._lock(instance_id):
            state = await self._require_active(instance_id)
            state.status = "Terminated"
            state.output = reason
            state.inbox.clear()
            state.pending_activities.clear()
            state.pending_timers.clear()
            state.retry_chains.clear()
            await self._save(state)
            self._active.pop(instance_id, None)

    async def get_state(self, instance_id: str) -> InstanceState | None:
        state = self._active.get(instance_id)
        if state is not None:
            return state
        return await self._io(self._store.load, instance_id)

    async def list_states(self) -> list[InstanceState]:
        ids = await self._io(self._store.active_instance_ids)
        return [s for s in [await self.get_state(i) for i in ids] if s is not None]

    async def purge(self, instance_id: str) -> bool:
        async with self._lock(instance_id):
            self._active.pop(instance_id, None)
            return await self._io(self._store.delete, instance_id)

    # -- the work loop ---------------------------------------------------------

    async def _require_active(self, instance_id: str) -> InstanceState:
        state = self._active.get(instance_id)
        if state is not None:
            return state
        stored = await self._io(self._store.load, instance_id)
        if stored is None:
            raise InstanceNotFound(instance_id)
        raise InstanceGone(instance_id)

    async def _deliver(self, instance_id: str, message: dict[str, Any]) -> None:
        async with self._lock(instance_id):
            state = self._active.get(instance_id)
            if state is None or message.get("execution_id") != state.execution_id:
                return  # the instance finished, was terminated or continued as new meanwhile
            state.inbox.append(message)
            await self._drain(state)

    async def _drain_locked(self, instance_id: str) -> None:
        async with self._lock(instance_id):
            state = self._active.get(instance_id)
            if state is not None:
                await self._drain(state)

    async def _drain(self, state: InstanceState) -> None:
        """Replay every inbox message, start the work decided, and persist once.

        The work starts before the write completes: the instance's lock, held until then, keeps its
        results waiting; after a crash in between, the replay of the last stored state decides the
        same work again (activities run at least once, as on the host)."""
        orchestrator = self._index.orchestrator(state.name)
        work: list[Work] = []
        cancelled: list[int] = []
        while state.inbox and state.is_active:
            message = state.inbox.pop(0)
            if message["kind"] != "event" and message.get("execution_id") != state.execution_id:
                continue
            started = time.perf_counter()
            result = run_episode(state, message, orchestrator.user_function, orchestrator.trigger_param,
                                 h.utc_now())
            log_invocation(orchestrator.name, state.instance_id, started,
                           "Failed" if state.status == "Failed" else "Succeeded")
            if state.status == "Failed":
                logger.warning("orchestration %s failed: %s", state.instance_id, state.output)
            work.extend(result.work)
            cancelled.extend(result.cancelled_timers)
        state.last_updated_time = h.iso(h.utc_now())
        data = state.to_bytes()  # serialised under the instance lock, uploaded off the loop
        if not state.is_active:
            self._active.pop(state.instance_id, None)
        else:
            for item in work:
                if item.sequence not in cancelled:
                    self._start_work(state, item)
        await self._io(self._store.save, state, data)

    def _start_work(self, state: InstanceState, work: Work) -> None:
        if work.kind == "activity":
            self._spawn(self._run_activity(state.instance_id, state.execution_id, work))
        else:
            self._spawn(self._fire_timer(state.instance_id, state.execution_id, work))

    async def _run_activity(self, instance_id: str, execution_id: str, work: Work) -> None:
        started = time.perf_counter()
        activity = self._index.activity(work.name)
        message: dict[str, Any] = {"execution_id": execution_id, "sequence": work.sequence}
        try:
            if activity is None:
                raise LookupError(f"The activity function '{work.name}' doesn't exist.")
            value = ActivityTriggerConverter.decode(meta.Datum(work.input, "json"), trigger_metadata=None)
            kwargs: dict[str, Any] = {activity.trigger_param: value}
            if activity.wants_context:
                kwargs["context"] = make_context(activity.name)
            if activity.is_async:
                output = await activity.user_function(**kwargs)
            else:
                output = await asyncio.get_running_loop().run_in_executor(
                    self._pool, partial(activity.user_function, **kwargs))
            result = ActivityTriggerConverter.encode(output, expected_type=None).value
            message.update(kind="activity_completed", result=result)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # an activity's exception becomes TaskFailed, as on the host
            message.update(kind="activity_failed", reason=str(error) or type(error).__name__,
                           details=traceback.format_exc())
            logger.warning("activity %s of %s raised:\n%s", work.name, instance_id, message["details"])
        log_invocation(work.name, f"{instance_id}:{work.sequence}", started,
                       "Succeeded" if message["kind"] == "activity_completed" else "Failed")
        await self._deliver(instance_id, message)

    async def _fire_timer(self, instance_id: str, execution_id: str, work: Work) -> None:
        fire_at = datetime.fromisoformat(work.fire_at.replace("Z", "+00:00"))
        delay = (fire_at - h.utc_now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        await self._deliver(instance_id, {"kind": "timer_fired", "execution_id": execution_id,
                                          "sequence": work.sequence})

    # -- helpers ---------------------------------------------------------------

    def _lock(self, instance_id: str) -> asyncio.Lock:
        return self._locks.setdefault(instance_id, asyncio.Lock())

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _save(self, state: InstanceState) -> None:
        data = state.to_bytes()  # serialised under the instance lock, uploaded off the loop
        await self._io(self._store.save, state, data)

    async def _io(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._io_pool, partial(function, *args))
