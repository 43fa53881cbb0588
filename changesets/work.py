"""Which Celery task applies a change set in each state a task works in (filled by :mod:`changesets.tasks`), so
that the services hand work out without importing the tasks module."""

from __future__ import annotations

from typing import Any

WORK_TASKS: dict[str, Any] = {}


def task_for(change_set: Any) -> Any:
    return WORK_TASKS[change_set.status]
