"""What HTTP asks of a run's orchestration: whether it exists, a status change through the run's state
machine, delivering that change as an external event, and ending a run no orchestration will move.
Used by the run and response handlers alike."""

from __future__ import annotations

import asyncio
import logging

from core import run_ending, run_machine
from core.repositories.runs import RunChange, StoredRun
from core.run_protocol import ORCHESTRATOR, RunRef
from usecases import services

logger = logging.getLogger(__name__)


async def orchestration_exists(client, instance_id: str) -> bool:
    try:
        status = await client.get_status(instance_id)
    except TypeError:  # the SDK cannot read the empty body of a 404: no such instance
        return False
    return bool(status and status.runtime_status)


async def started_after_all(client, instance_id: str) -> bool:
    try:
        return await orchestration_exists(client, instance_id)
    except Exception:  # noqa: BLE001 - the engine unreachable: not known to be started
        return False


def fail_unstarted(principal: str, run: dict) -> None:
    """The run could not be started: it must not hold the thread or look queued forever."""
    apply(principal, run["thread_id"], run["id"], run_machine.Finish(run_machine.FAILED, last_error={
        "code": "server_error", "message": "The run could not be started."}))


SIGNAL_ATTEMPTS = 3


async def signal(client, principal: str, thread_id: str, run_id: str, event: str, data: dict, *,
                  lost_as: str) -> dict | None:
    """Deliver a status change HTTP stored to the run's orchestration. If it cannot be delivered (the
    orchestration is gone, or unreachable past a few attempts), no orchestration will act on the
    change, so the run is ended as `lost_as` instead of being left active forever; returns it then."""
    for attempt in range(SIGNAL_ATTEMPTS):
        try:
            await client.raise_event(run_id, event, data)
            return None
        except Exception as error:  # the SDK raises bare Exceptions, worded by status
            gone = "No instance with ID" in str(error) or "is gone" in str(error)
            logger.warning("signalling %s to run %s failed (attempt %d): %s", event, run_id, attempt + 1, error)
            if gone:
                break
            await asyncio.sleep(0.2 * (attempt + 1))
    return await asyncio.to_thread(run_ending.end_orphaned_run, principal, thread_id, run_id, lost_as)


def apply(principal: str, thread_id: str, run_id: str, event: run_machine.Event) -> run_machine.Transition:
    """A status change HTTP may request, through the run's state machine; returns what it did."""
    done: list[run_machine.Transition] = []

    def change(current: StoredRun) -> RunChange:
        moved = run_machine.transition(current.record, event, services.now())
        done[:] = [moved]
        return RunChange(moved.run, release_thread=moved.release_thread)

    services.runs().update(principal, thread_id, run_id, change)
    return done[0]


async def start(client, principal: str, run: dict, ref: RunRef, *, resumed: bool = False) -> None:
    """Start the run's orchestration (instance id = run id). `resumed`: an earlier attempt of this request
    stored the run and may have started it. A refused start whose orchestration exists after all (another
    attempt started it meanwhile) is fine; otherwise the run is failed, never left queued, and this raises."""
    try:
        if resumed and await orchestration_exists(client, run["id"]):
            return
        await client.start_new(ORCHESTRATOR, run["id"], ref.wire())
    except Exception:
        if await started_after_all(client, run["id"]):
            return
        logger.exception("starting the orchestration of %s failed", run["id"])
        await asyncio.to_thread(fail_unstarted, principal, run)
        raise


async def cancel(client, principal: str, thread_id: str, run_id: str) -> dict:
    """Request the run's cancellation and tell its orchestration; the run as it is now (ended, if no
    orchestration was there to hear it)."""
    moved = await asyncio.to_thread(apply, principal, thread_id, run_id, run_machine.Cancel())
    assert moved.signal is not None  # a cancel the machine allows always signals (it raises otherwise)
    ended = await signal(client, principal, thread_id, run_id, moved.signal, moved.signal_data,
                         lost_as=run_machine.CANCELLED)
    return ended or moved.run
