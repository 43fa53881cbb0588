"""Celery tasks of the inventory sync, domains side. Thin: they take ids and call :mod:`domains.sync`."""

from __future__ import annotations

from celery import shared_task

from domains import people, sync
from portal.aws import retry_policy
from portal.models import TaskRun


@shared_task(name=sync.RUN_TASK, ignore_result=True, acks_late=True, soft_time_limit=300)
def run_inventory_sync(run_id: int) -> None:
    sync.run_inventory_sync(run_id)


@shared_task(bind=True, name=sync.ACCOUNT_REGION_TASK, ignore_result=True, acks_late=True, soft_time_limit=900)
def sync_account_region(self, run_id: int, account_pk: int, region: str) -> None:  # type: ignore[no-untyped-def]
    policy, retries = retry_policy(), self.request.retries
    try:
        sync.sync_account_region(run_id, account_pk, region, final_attempt=policy.is_final(retries))
    except Exception as exc:
        # Only retryable AWS errors reach here before the final attempt (the step records everything else).
        raise self.retry(exc=exc, countdown=policy.delay(retries), max_retries=policy.attempts - 1) from exc


@shared_task(name="domains.scheduled_inventory_sync", ignore_result=True)
def scheduled_inventory_sync() -> None:
    """What beat runs: a sync of every enabled account and region (joins one already running)."""
    sync.start_inventory_sync(trigger=TaskRun.Trigger.SCHEDULE)


@shared_task(name=people.RUN_TASK, ignore_result=True, acks_late=True, soft_time_limit=900)
def run_directory_sync(run_id: int) -> None:
    people.run_directory_sync(run_id)


@shared_task(name="domains.scheduled_directory_sync", ignore_result=True)
def scheduled_directory_sync() -> None:
    """What beat runs: a directory sync (joins one already running)."""
    people.start_directory_sync(trigger=TaskRun.Trigger.SCHEDULE)
