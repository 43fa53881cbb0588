"""Celery tasks of governance: the scheduled posture check, risk-acceptance expiry and the weekly digest."""

from __future__ import annotations

from celery import shared_task

from governance import engine, notify, services
from portal.models import TaskRun


@shared_task(name="governance.run_posture_check")
def run_posture_check(run_id: int, domain_pk: int | None = None) -> None:
    engine.run_posture_check(run_id, domain_pk)


@shared_task(name="governance.scheduled_posture_check")
def scheduled_posture_check() -> int | None:
    run, created = engine.start_posture_check(trigger=TaskRun.Trigger.SCHEDULE)
    if created:
        engine.run_posture_check(run.pk)
        return run.pk
    return None


@shared_task(name="governance.expire_acceptances")
def expire_acceptances() -> int:
    return services.expire_acceptances()


@shared_task(name="governance.weekly_digest")
def weekly_digest() -> int:
    return notify.weekly_digest()
