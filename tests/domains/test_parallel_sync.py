"""The sync's account-regions and domains run side by side on real workers and end where a serial sync ends."""

from __future__ import annotations

import time
from typing import Any

from domains.models import Domain
from domains.sync import start_inventory_sync
from portal.models import TaskRun
from tests.conftest import WorkerProcess
from tests.domains.test_sync import inventory_state
from tests.inventory import build_org, make_account


def wait_for_run(run: TaskRun, workers: list[WorkerProcess], timeout: float = 120.0) -> TaskRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if not run.is_active:
            return run
        for worker in workers:
            assert worker.process.poll() is None, f"a worker exited:\n{worker.output()}"
        time.sleep(0.3)
    raise AssertionError(f"the run did not finish in {timeout} s:\n" + "\n".join(w.output() for w in workers))


def test_two_workers_syncing_in_parallel_store_the_same_inventory_as_a_serial_sync(
    sandbox_server: str, start_worker: Any
) -> None:
    build_org(domains=3, profiles=3, spaces=2)
    build_org(domains=2, profiles=2, spaces=1, region="eu-west-1")
    make_account(regions=["us-east-1", "eu-west-1"])
    serial, _ = start_inventory_sync(inline=True)
    assert serial.status == TaskRun.Status.SUCCEEDED, serial.errors
    expected = inventory_state()

    Domain.objects.all().delete()  # the members go with their domains
    workers = [start_worker(), start_worker()]
    run, _ = start_inventory_sync()  # queued on commit, as a Celery group per level
    run = wait_for_run(run, workers)

    assert run.status == TaskRun.Status.SUCCEEDED, run.errors
    assert inventory_state() == expected
    assert run.steps_done == run.steps_total == 2 + 5  # two account-regions, then five domains
    assert run.counts == serial.counts
    assert sum(run.aws_calls.values()) == sum(serial.aws_calls.values())
    # Both workers took part: each logs the tasks it received.
    assert all("sync_domain_members" in w.output() or "sync_account_region" in w.output() for w in workers)
