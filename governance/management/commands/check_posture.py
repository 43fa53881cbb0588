"""``python manage.py check_posture [--domain ID]``: the scheduled posture check, here, with a progress bar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from domains.models import Domain
from governance import engine
from portal.models import TaskRun
from portal.progress import run_command


class Command(BaseCommand):
    help = "Evaluate the governance checks over every domain (or one), as the scheduler does, with a progress bar."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--domain", help="Only this domain (its id, d-...).")

    def handle(self, *args: Any, **options: Any) -> None:
        domain = None
        if options["domain"]:
            domain = Domain.objects.filter(domain_id=options["domain"], removed_at__isnull=True).first()
            if domain is None:
                raise CommandError(f"No domain {options['domain']} in the inventory (sync first?).")
        run, created = engine.start_posture_check(trigger=TaskRun.Trigger.COMMAND, domain=domain)
        run_command(
            self, run, created, lambda: engine.run_posture_check(run.pk, domain.pk if domain else None), queued=False
        )
