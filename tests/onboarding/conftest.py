from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.onboarding.world import World, build_world


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Celery tasks run in the calling process (after the commit that enqueues them)."""
    from portal.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture
def world(aws_sandbox: None, eager_tasks: None, settings: Any) -> World:
    settings.PROVISION_POLL_SECONDS = 0
    return build_world()
