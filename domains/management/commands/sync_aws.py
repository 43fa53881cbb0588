"""``python manage.py sync_aws [--account ID] [--region R] [--domain ID]``: the inventory sync, with progress."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from domains.sync import SyncScopeError, run_inventory_sync, start_inventory_sync
from portal import progress
from portal.models import TaskRun


class Command(BaseCommand):
    help = "Sync the inventory (domains, user profiles, spaces, apps) from AWS, as the scheduler does."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--account", help="Only this AWS account id.")
        parser.add_argument("--region", help="Only this region (with --account).")
        parser.add_argument("--domain", help="Only this domain id (d-...), already in the inventory.")
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Hand the run to the Celery workers and follow it, instead of doing the work in this process.",
        )

    def handle(
        self, *args: Any, account: str | None, region: str | None, domain: str | None, queue: bool, **options: Any
    ) -> None:
        try:
            run, created = start_inventory_sync(
                account_id=account, region=region, domain_id=domain, trigger=TaskRun.Trigger.COMMAND, enqueue=queue
            )
        except SyncScopeError as exc:
            raise CommandError(str(exc)) from exc
        progress.run_command(self, run, created, lambda: run_inventory_sync(run.pk, inline=True), queued=queue)
