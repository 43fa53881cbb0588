"""``python manage.py sync_directory [--queue]``: the people directory sync (Identity Center users and groups,
portal logins, the people behind profiles), with progress."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from domains.people import run_directory_sync, start_directory_sync
from portal import progress
from portal.models import TaskRun


class Command(BaseCommand):
    help = "Sync the people directory from IAM Identity Center and match people, as the scheduler does."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Hand the run to the Celery workers and follow it, instead of doing the work in this process.",
        )

    def handle(self, *args: Any, queue: bool, **options: Any) -> None:
        run, created = start_directory_sync(trigger=TaskRun.Trigger.COMMAND, enqueue=queue)
        progress.run_command(self, run, created, lambda: run_directory_sync(run.pk), queued=queue)
