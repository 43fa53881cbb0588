"""``python manage.py review_iam [--domain ID]``: the scheduled IAM review, here, with a progress bar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from domains.models import Domain
from iamaccess import review
from portal.models import TaskRun
from portal.progress import run_command


class Command(BaseCommand):
    help = (
        "Review the execution roles of every domain (or one): read their policies, simulate the probes of the "
        "hidden tools, instance types and spaces, and evaluate the IAM checks, with a progress bar."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--domain", help="Only this domain's roles (its id, d-...).")

    def handle(self, *args: Any, **options: Any) -> None:
        domain = None
        if options["domain"]:
            domain = Domain.objects.filter(domain_id=options["domain"], removed_at__isnull=True).first()
            if domain is None:
                raise CommandError(f"No domain {options['domain']} in the inventory (sync first?).")
        run, created = review.start_review(trigger=TaskRun.Trigger.COMMAND, domain=domain, enqueue=False)
        run_command(self, run, created, lambda: review.run_review(run.pk), queued=False)
