"""The run sweeper: a timer trigger that ends runs no orchestration will move (see core.run_sweep)."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from typing import Literal

import azure.durable_functions as df
import azure.functions as func

from core import run_ending, run_sweep, settings
from core.errors import ApiError
from core.repositories.shared import run_requests, runs
from core.run_protocol import FinishRequest

bp = df.Blueprint()
logger = logging.getLogger(__name__)


class _Unknown(enum.Enum):
    UNKNOWN = "unknown"


UNKNOWN = _Unknown.UNKNOWN  # the orchestration's state could not be read this time


async def orchestration_status(client: df.DurableOrchestrationClient, instance_id: str) -> str | None | Literal[_Unknown.UNKNOWN]:
    """The instance's runtime status name, None when it does not exist, UNKNOWN when that cannot be told."""
    try:
        status = await client.get_status(instance_id)
    except TypeError:  # the SDK cannot read the empty body of a 404: no such instance
        return None
    except Exception:
        logger.warning("the status of orchestration %s could not be read; left for the next sweep", instance_id)
        return UNKNOWN
    return status.runtime_status.value if status.runtime_status else None


async def sweep(client: df.DurableOrchestrationClient, now: int, grace: int) -> list[tuple[str, str]]:
    """End every active run the decision names; returns (run id, status it ended as)."""
    ended = []
    for principal, thread_id, run_id in await asyncio.to_thread(lambda: list(runs().threads.with_active_runs())):
        try:
            run = await asyncio.to_thread(runs().get, principal, thread_id, run_id)
        except ApiError:
            continue  # deleted meanwhile
        orchestration = await orchestration_status(client, run_id)
        if orchestration is UNKNOWN:
            continue
        ending = run_sweep.ending_for(run, orchestration, now, grace)
        if ending is None:
            continue
        status, last_error = ending
        finished = await asyncio.to_thread(run_ending.end_run, FinishRequest(
            principal=principal, thread_id=thread_id, run_id=run_id, status=status, last_error=last_error))
        if finished is None:
            continue
        logger.warning("run %s on thread %s was %s with orchestration %s: ended as %s",
                       run_id, thread_id, run["status"], orchestration or "missing", finished)
        if orchestration in run_sweep.LIVE_ORCHESTRATION:
            try:
                await client.terminate(run_id, "ended by the run sweeper")
            except Exception:
                logger.warning("orchestration %s could not be terminated", run_id)
        ended.append((run_id, finished))
    return ended


def forget_requests(now: int, retry_window: int) -> int:
    """Delete create_and_run's records for retries whose window is over; how many (0 when storage failed)."""
    try:
        return run_requests().forget_before(run_sweep.forget_requests_before(now, retry_window))
    except Exception:
        logger.warning("past run requests could not be deleted; left for the next sweep", exc_info=True)
        return 0


@bp.timer_trigger(schedule=settings.get("RUN_SWEEP_SCHEDULE"), arg_name="timer", run_on_startup=False)
@bp.durable_client_input(client_name="client")
async def sweep_runs(timer: func.TimerRequest, client) -> None:
    now = int(time.time())
    await sweep(client, now, int(settings.get_str("RUN_SWEEP_GRACE_SECONDS")))
    await asyncio.to_thread(forget_requests, now, int(settings.get_str("RUN_RETRY_WINDOW_SECONDS")))
