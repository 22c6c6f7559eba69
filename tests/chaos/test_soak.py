"""The short soak (make chaos runs the long one): mixed runs under storage faults, model faults and a
SIGKILL of devhost; none stuck, none duplicated, every completed run answered once, failures explained."""

from __future__ import annotations

import pytest

from tests.chaos.soak import soak

pytestmark = pytest.mark.chaos


@pytest.mark.timeout(150)
def test_short_soak_ends_every_run_honestly(tmp_path):
    report = soak(runs=12, workers=3, storage_rate=0.03, kill_every=6.0, seed=2025, workdir=tmp_path,
                  settle_seconds=60)
    figures = report.figures()
    assert report.kills >= 1, figures
    assert not report.stuck, figures
    assert not report.duplicates, figures
    assert not report.unanswered, figures
    assert not report.failed_silently, figures
    assert not report.broken_streams, figures
    assert not report.lost, figures
    assert not report.duplicated_steps, figures
    assert not report.broken_logs and report.events_checked > 0, figures
    assert sum(report.faults.values()) > 0, figures
