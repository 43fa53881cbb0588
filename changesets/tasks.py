"""Celery tasks of change sets. Thin: they take ids (and the hand-out token) and call :mod:`changesets.apply`.

``acks_late`` with ``reject_on_worker_lost``: a task whose worker dies is delivered again, and a turn is safe to
run twice. A waiting change set re-enqueues itself with a countdown; the sweep hands out again what stopped beating.
"""

from __future__ import annotations

from celery import shared_task

from changesets import apply, services
from changesets.models import ChangeSet
from changesets.work import WORK_TASKS

RELIABLE = {"ignore_result": True, "acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="changesets.apply_change_set", soft_time_limit=900, **RELIABLE)
def apply_change_set(change_set_pk: int, token: str | None = None) -> None:
    countdown = apply.apply_turn(change_set_pk, token)
    if countdown is not None:
        apply_change_set.apply_async((change_set_pk, token), countdown=countdown)


WORK_TASKS.update({status: apply_change_set for status in ChangeSet.WORKING})


@shared_task(name="changesets.resume_stalled", ignore_result=True, soft_time_limit=120)
def resume_stalled() -> None:
    """The sweep beat runs every PROVISION_SWEEP_SECONDS: change sets whose task stopped go to a worker again."""
    for cs in apply.stalled():
        services.do_hand_out_again(cs, actor=services.SWEEP_ACTOR)
