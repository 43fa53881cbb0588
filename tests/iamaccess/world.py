"""The demo organisation for the IAM tests: seeded in the sandbox, synced, and reviewed."""

from __future__ import annotations

from datetime import date

from awssandbox import organisation
from portal.demo import ensure_demo_users
from portal.models import TaskRun
from portal.sandboxing import demo_inputs


def seed_demo() -> None:
    """The demo organisation in the sandbox, synced into the inventory (no IAM review yet)."""
    from domains import demo as domains_demo

    organisation.seed(demo_inputs(), date.today(), with_costs=False)
    ensure_demo_users()
    domains_demo.setup_demo(lambda message: None)


def review_all() -> TaskRun:
    """A full IAM review, run here (it also evaluates the governance checks)."""
    from iamaccess import review

    run, _ = review.start_review(trigger=TaskRun.Trigger.COMMAND, inline=True)
    assert run.status == TaskRun.Status.SUCCEEDED, run.errors
    return run


def role_arn(key: str) -> str:
    return next(p for p in organisation.DOMAINS if p.key == key).user_settings["ExecutionRole"]
