"""Which run retrievals are held, and how often a held one re-reads storage (pure rules of api/runs.py)."""

from __future__ import annotations

import pytest

from api.runs import (
    POLL_HELPER_HEADER,
    RECHECK_SECONDS,
    RECHECK_YOUNG_SECONDS,
    YOUNG_RUN_SECONDS,
    holds_poll,
    recheck_seconds,
)
from core import run_machine


@pytest.mark.parametrize("status", sorted(run_machine.ACTIVE_STATUSES | run_machine.TERMINAL_STATUSES))
@pytest.mark.parametrize("header", [None, "true", "True", "false", ""])
def test_only_the_sdk_poll_helpers_retrievals_of_a_run_they_would_poll_again_are_held(status, header):
    headers = {} if header is None else {POLL_HELPER_HEADER: header}
    polled_again = status in (run_machine.QUEUED, run_machine.IN_PROGRESS, run_machine.CANCELLING)
    assert holds_poll(headers, status) == (header in ("true", "True") and polled_again)


@pytest.mark.parametrize("age, rechecked, expected", [
    (0, 0, RECHECK_YOUNG_SECONDS), (YOUNG_RUN_SECONDS - 1, 0, RECHECK_YOUNG_SECONDS),
    (0, 1, 2 * RECHECK_YOUNG_SECONDS), (0, 2, 4 * RECHECK_YOUNG_SECONDS), (0, 3, RECHECK_SECONDS),
    (0, 10_000, RECHECK_SECONDS), (YOUNG_RUN_SECONDS, 0, RECHECK_SECONDS), (3600, 5, RECHECK_SECONDS)])
def test_a_held_retrieval_first_rechecks_as_soon_as_the_sdk_would_poll_then_backs_off(age, rechecked, expected):
    assert recheck_seconds({"created_at": 1_000_000}, 1_000_000 + age, rechecked) == pytest.approx(expected)
    assert RECHECK_YOUNG_SECONDS < RECHECK_SECONDS < 8 * RECHECK_YOUNG_SECONDS
