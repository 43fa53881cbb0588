"""Celery tasks of the cost ingestion. Thin: they take ids and call :mod:`costs.ingest`."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from costs import ingest, tag_check
from portal.aws import retry_policy
from portal.models import TaskRun


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@shared_task(name=ingest.RUN_TASK, ignore_result=True, acks_late=True, soft_time_limit=300)
def run_cost_ingestion(run_id: int, payer_pks: list[int], since: str | None) -> None:
    ingest.run_cost_ingestion(run_id, payer_pks, _day(since))


@shared_task(bind=True, name=ingest.PAYER_TASK, ignore_result=True, acks_late=True, soft_time_limit=1800)
def ingest_payer(self, run_id: int, payer_pk: int, since: str | None) -> None:  # type: ignore[no-untyped-def]
    policy, retries = retry_policy(), self.request.retries
    try:
        ingest.ingest_payer(run_id, payer_pk, _day(since), final_attempt=policy.is_final(retries))
    except Exception as exc:
        # Only retryable AWS errors (LimitExceededException, 5xx) reach here before the final attempt.
        raise self.retry(exc=exc, countdown=policy.delay(retries), max_retries=policy.attempts - 1) from exc


@shared_task(name="costs.scheduled_cost_ingestion", ignore_result=True)
def scheduled_cost_ingestion() -> None:
    """What beat runs: the trailing window of every payer account (joins one already running)."""
    ingest.start_cost_ingestion(trigger=TaskRun.Trigger.SCHEDULE)


@shared_task(name=tag_check.RUN_TASK, ignore_result=True, acks_late=True, soft_time_limit=300)
def run_tag_check(run_id: int, payer_pks: list[int]) -> None:
    """Check the cost allocation tags now (a person asked); safe twice: a planned run is not planned again."""
    tag_check.run_tag_check(run_id, payer_pks)
