"""Celery tasks of onboarding. Thin: they take ids and call :mod:`onboarding.provision`.

``acks_late`` with ``reject_on_worker_lost``: a task whose worker dies is delivered again, and the functions are
safe to run twice.
"""

from __future__ import annotations

from celery import shared_task

from onboarding import provision

RELIABLE = {"ignore_result": True, "acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="onboarding.provision_profile", soft_time_limit=1800, **RELIABLE)
def provision_profile(request_pk: int) -> None:
    provision.provision_profile(request_pk)


@shared_task(name="onboarding.provision_space", soft_time_limit=1800, **RELIABLE)
def provision_space(request_pk: int) -> None:
    provision.provision_space(request_pk)


@shared_task(name="onboarding.delete_space", soft_time_limit=1800, **RELIABLE)
def delete_space(request_pk: int) -> None:
    provision.delete_space(request_pk)


@shared_task(name="onboarding.run_offboarding", soft_time_limit=3600, **RELIABLE)
def run_offboarding(offboarding_pk: int) -> None:
    provision.run_offboarding(offboarding_pk)


@shared_task(name="onboarding.check_space_expiry", ignore_result=True)
def check_space_expiry() -> None:
    provision.check_space_expiry()


@shared_task(name="onboarding.resume_stalled", ignore_result=True)
def resume_stalled() -> None:
    """Hand work whose worker died to a worker again (the broker redelivers too; this is the safety net)."""
    for task_name, pk in provision.stalled():
        globals()[task_name].delay(pk)
