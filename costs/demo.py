"""Demo data of the costs app: the first ingestion of the demo bill (13 months)."""

from __future__ import annotations

from collections.abc import Callable

from costs.ingest import start_cost_ingestion
from portal.models import TaskRun
from portal.runs import summary_text


def setup_demo(log: Callable[[str], None]) -> None:
    run, _ = start_cost_ingestion(trigger=TaskRun.Trigger.COMMAND, inline=True)
    log(f"Cost ingestion #{run.pk}: {run.get_status_display()}, {summary_text(run)}.")
