"""Celery tasks of the IAM review: the scheduled review and a queued one."""

from __future__ import annotations

from celery import shared_task

from iamaccess import review
from portal.models import TaskRun


@shared_task(name="iamaccess.run_review", acks_late=True)
def run_review(run_id: int) -> None:
    review.run_review(run_id)


@shared_task(name="iamaccess.scheduled_review")
def scheduled_review() -> int | None:
    run, created = review.start_review(trigger=TaskRun.Trigger.SCHEDULE, enqueue=False)
    if created:
        review.run_review(run.pk)
        return run.pk
    return None
