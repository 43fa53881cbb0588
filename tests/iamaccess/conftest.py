from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from awssandbox import organisation
from portal.demo import ensure_demo_users
from portal.sandboxing import demo_inputs


@pytest.fixture
def demo(aws_sandbox: None) -> None:
    """The demo organisation in the sandbox, synced into the inventory (no IAM review yet)."""
    from domains import demo as domains_demo

    organisation.seed(demo_inputs(), date.today(), with_costs=False)
    ensure_demo_users()
    domains_demo.setup_demo(lambda message: None)


@pytest.fixture
def reviewed(demo: None) -> Any:
    """The demo organisation after a full IAM review (which also evaluated the governance checks)."""
    from iamaccess import review
    from portal.models import TaskRun

    run, _ = review.start_review(trigger=TaskRun.Trigger.COMMAND, inline=True)
    assert run.status == TaskRun.Status.SUCCEEDED, run.errors
    return run


def role_arn(key: str) -> str:
    return next(p for p in organisation.DOMAINS if p.key == key).user_settings["ExecutionRole"]
