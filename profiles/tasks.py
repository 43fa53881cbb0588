"""Celery tasks of the inventory sync, members side."""

from __future__ import annotations

from celery import shared_task

from profiles import sync


@shared_task(
    bind=True,
    name="profiles.sync_domain_members",
    ignore_result=True,
    acks_late=True,
    max_retries=4,
    soft_time_limit=1800,
)
def sync_domain_members(self, run_id: int, domain_pk: int) -> None:  # type: ignore[no-untyped-def]
    final = self.request.retries >= self.max_retries
    try:
        sync.sync_domain_members(run_id, domain_pk, final_attempt=final)
    except Exception as exc:
        # Only retryable AWS errors reach here before the final attempt (the step records everything else).
        raise self.retry(exc=exc, countdown=min(120, 5 * 2**self.request.retries)) from exc
