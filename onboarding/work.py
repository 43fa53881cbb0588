"""Which Celery task carries out a piece of approved work in each state a task works in.

:mod:`onboarding.tasks` fills :data:`WORK_TASKS` when it is imported (by the app's ``ready()`` and by the worker);
the services hand work out through :func:`task_for`, never by task name, and without importing the tasks module
(which imports the services for its sweep).
"""

from __future__ import annotations

from celery.app.task import Task

from onboarding.models import ApprovedWork

WORK_TASKS: dict[tuple[type[ApprovedWork], str], Task] = {}


def task_for(work: ApprovedWork) -> Task:
    return WORK_TASKS[(type(work), work.status)]  # type: ignore[attr-defined]
