"""``python manage.py ingest_costs [--account ID] [--since DATE]``: the cost ingestion, with progress."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from costs.ingest import IngestionScopeError, payers, run_cost_ingestion, start_cost_ingestion
from portal import progress
from portal.models import TaskRun


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since {value!r} is not a date in YYYY-MM-DD form.") from None


class Command(BaseCommand):
    help = "Read SageMaker spend from Cost Explorer into the portal, as the scheduler does."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--account", help="Only this payer account id.")
        parser.add_argument("--since", type=_day, help="Re-read from this day (YYYY-MM-DD), at most 13 months back.")
        parser.add_argument("--queue", action="store_true", help="Hand the run to the Celery workers and follow it.")

    def handle(self, *args: Any, account: str | None, since: date | None, queue: bool, **options: Any) -> None:
        try:
            run, created = start_cost_ingestion(
                account_id=account, since=since, trigger=TaskRun.Trigger.COMMAND, enqueue=queue
            )
        except IngestionScopeError as exc:
            raise CommandError(str(exc)) from exc
        pks = payers(account)
        progress.run_command(
            self, run, created, lambda: run_cost_ingestion(run.pk, pks, since, inline=True), queued=queue
        )
