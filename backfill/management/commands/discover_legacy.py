"""``python manage.py discover_legacy [--queue]``: discover and attribute the legacy SageMaker resources of every
account and region, with a progress bar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from backfill.discovery import run_discovery, start_discovery
from portal import progress
from portal.models import TaskRun


class Command(BaseCommand):
    help = "Discover the SageMaker resources of every account and region and attribute each to its domain."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Hand the run to the Celery workers and follow it, instead of doing the work in this process.",
        )

    def handle(self, *args: Any, queue: bool, **options: Any) -> None:
        run, created = start_discovery(trigger=TaskRun.Trigger.COMMAND, enqueue=queue)
        progress.run_command(self, run, created, lambda: run_discovery(run.pk, inline=True), queued=queue)
