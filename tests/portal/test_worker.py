"""A real Celery worker process on the configured broker (Redis in CI) runs a task against the test database."""

import time

import pytest

from portal.models import WorkerHeartbeat
from portal.tasks import heartbeat
from tests.conftest import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.timeout(120)]


def _wait_for(predicate, worker: WorkerProcess, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        assert worker.process.poll() is None, f"the worker exited:\n{worker.output()}"
        time.sleep(0.2)
    raise AssertionError(f"nothing happened within {timeout} s; worker output:\n{worker.output()}")


def test_a_real_worker_runs_the_heartbeat_task(celery_worker_process: WorkerProcess) -> None:
    heartbeat.delay()
    heartbeat.delay()
    _wait_for(lambda: WorkerHeartbeat.objects.filter(beats__gte=3).exists(), celery_worker_process)
    beat = WorkerHeartbeat.objects.get()
    assert beat.hostname == celery_worker_process.hostname
    assert beat.beats == 3  # the two sent here and the one a worker sends when it starts
