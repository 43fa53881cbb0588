"""Celery tasks of the tag backfill's discovery. Thin: they take ids and call :mod:`backfill.discovery`."""

from __future__ import annotations

from celery import shared_task

from backfill import costtags, discovery, wizard
from portal.aws import retry_policy


@shared_task(name=discovery.RUN_TASK, ignore_result=True, acks_late=True, soft_time_limit=300)
def run_discovery(run_id: int) -> None:
    discovery.run_discovery(run_id)


@shared_task(bind=True, name=discovery.ACCOUNT_REGION_TASK, ignore_result=True, acks_late=True, soft_time_limit=1800)
def discover_account_region(self, run_id: int, account_pk: int, region: str) -> None:  # type: ignore[no-untyped-def]
    policy, retries = retry_policy(), self.request.retries
    try:
        discovery.discover_account_region(run_id, account_pk, region, final_attempt=policy.is_final(retries))
    except Exception as exc:
        # Only retryable AWS errors reach here before the final attempt (the step records everything else).
        raise self.retry(exc=exc, countdown=policy.delay(retries), max_retries=policy.attempts - 1) from exc


@shared_task(bind=True, name=wizard.APPLY_TASK, ignore_result=True, acks_late=True, soft_time_limit=1800)
def apply_step(self, run_id: int, plan_id: int, chunk: int) -> None:  # type: ignore[no-untyped-def]
    """One step of applying a backfill plan; acknowledged late, so a step a dead worker held is delivered again and
    does only what is still pending."""
    policy, retries = retry_policy(), self.request.retries
    try:
        wizard.apply_step(run_id, plan_id, chunk, final_attempt=policy.is_final(retries))
    except Exception as exc:
        raise self.retry(exc=exc, countdown=policy.delay(retries), max_retries=policy.attempts - 1) from exc


@shared_task(name=costtags.START_TASK, ignore_result=True, acks_late=True, soft_time_limit=300)
def start_cost_tag_backfill(backfill_id: int) -> None:
    """Ask AWS for an approved cost allocation tag backfill (what stays approved is tried again by the follower)."""
    costtags.start(backfill_id)


@shared_task(name=costtags.FOLLOW_TASK, ignore_result=True, soft_time_limit=300)
def follow_cost_tag_backfills() -> None:
    """Scheduled: start the approved cost allocation tag backfills, follow the started ones until AWS ends them."""
    costtags.follow_all()
