"""The demo's IAM review: the demo organisation's roles differ (full access, domain isolation, a boundary, an
instance-type deny), so the IAM findings show on the governance pages from the start."""

from __future__ import annotations

from collections.abc import Callable

from iamaccess import review
from portal.models import TaskRun
from portal.runs import summary_text


def setup_demo(log: Callable[[str], None]) -> None:
    run, _ = review.start_review(trigger=TaskRun.Trigger.COMMAND, inline=True)
    log(f"IAM review #{run.pk}: {run.get_status_display()}, {summary_text(run)}.")
