"""Celery tasks of onboarding. Thin: they take ids (and the hand-out token) and call :mod:`onboarding.provision`.

``acks_late`` with ``reject_on_worker_lost``: a task whose worker dies is delivered again, and the functions are
safe to run twice. No task waits for AWS: provisioning re-enqueues itself with a countdown until the resource is
InService, and space deletion and offboarding until AWS finished deleting. :data:`onboarding.work.WORK_TASKS`
(filled here) says which task carries out a piece of work in each state; services and the sweep hand work out
through it, never by task name.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from onboarding import provision, services
from onboarding.models import Offboarding, ProfileRequest, Request, SpaceRequest
from onboarding.work import WORK_TASKS

RELIABLE = {"ignore_result": True, "acks_late": True, "reject_on_worker_lost": True}


def _again(task: Any, pk: int, token: str | None, countdown: float | None) -> None:
    """The next turn of the same work, after ``countdown`` seconds (None: there is none)."""
    if countdown is not None:
        task.apply_async((pk, token), countdown=countdown)


@shared_task(name="onboarding.provision_profile", soft_time_limit=300, **RELIABLE)
def provision_profile(request_pk: int, token: str | None = None) -> None:
    _again(provision_profile, request_pk, token, provision.provision_profile(request_pk, token))


@shared_task(name="onboarding.provision_space", soft_time_limit=300, **RELIABLE)
def provision_space(request_pk: int, token: str | None = None) -> None:
    _again(provision_space, request_pk, token, provision.provision_space(request_pk, token))


@shared_task(name="onboarding.delete_space", soft_time_limit=300, **RELIABLE)
def delete_space(request_pk: int, token: str | None = None) -> None:
    _again(delete_space, request_pk, token, provision.delete_space(request_pk, token))


@shared_task(name="onboarding.run_offboarding", soft_time_limit=1800, **RELIABLE)
def run_offboarding(offboarding_pk: int, token: str | None = None) -> None:
    _again(run_offboarding, offboarding_pk, token, provision.run_offboarding(offboarding_pk, token))


# The task that carries out each kind of work in each state a task works in.
WORK_TASKS.update(
    {
        (ProfileRequest, Request.Status.APPROVED): provision_profile,
        (ProfileRequest, Request.Status.PROVISIONING): provision_profile,
        (SpaceRequest, Request.Status.APPROVED): provision_space,
        (SpaceRequest, Request.Status.PROVISIONING): provision_space,
        (SpaceRequest, Request.Status.DELETING): delete_space,
        (Offboarding, Offboarding.Status.APPROVED): run_offboarding,
        (Offboarding, Offboarding.Status.RUNNING): run_offboarding,
    }
)


@shared_task(name="onboarding.check_space_expiry", ignore_result=True)
def check_space_expiry() -> None:
    provision.check_space_expiry()


@shared_task(name="onboarding.resume_stalled", ignore_result=True, soft_time_limit=120)
def resume_stalled() -> None:
    """The sweep beat runs every PROVISION_SWEEP_SECONDS: work whose heartbeat stopped goes to a worker again."""
    for work in provision.stalled():
        services.do_hand_out_again(work, actor=services.SWEEP_ACTOR)
