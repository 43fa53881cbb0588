"""``python manage.py backfill_tags [--domain ID] --dry-run | --apply PLAN``: plan the tag backfill (of one domain or
every domain) and print it, or apply an approved plan with a progress bar (resuming one a dead worker left)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from backfill import wizard
from backfill.models import BackfillItem, BackfillPlan
from domains.models import Domain
from portal import progress


class Command(BaseCommand):
    help = "Plan the tag backfill (dry run), or apply an approved plan."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--domain", help="Only this domain id (d-...), with --dry-run.")
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--dry-run", action="store_true", help="Make a plan and print it; nothing is tagged.")
        what.add_argument("--apply", type=int, metavar="PLAN", help="Apply this approved plan (or resume it).")

    def handle(self, *args: Any, domain: str | None, dry_run: bool, apply: int | None, **options: Any) -> None:
        try:
            if dry_run:
                self._plan(domain)
            else:
                if domain:
                    raise CommandError("--domain goes with --dry-run: a plan's scope is set when it is made.")
                self._apply(apply)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

    def _plan(self, domain_id: str | None) -> None:
        domain = None
        if domain_id:
            domain = Domain.objects.filter(domain_id=domain_id, removed_at__isnull=True).first()
            if domain is None:
                raise CommandError(f"No domain {domain_id} in the inventory.")
        plan = wizard.do_plan("command", domain=domain)
        names = plan.counts["domain_names"]
        self.stdout.write(f"Plan #{plan.pk}: {plan.total} resource(s) to tag with sagemaker:domain-arn")
        for arn, n in plan.counts["domains"].items():
            self.stdout.write(f"  {names.get(arn, arn)}: {n}")
        for title, key in (("by type", "types"), ("by rule", "rules")):
            self.stdout.write(f"  {title}: " + ", ".join(f"{k} {v}" for k, v in plan.counts[key].items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Dry run only. Another approver of each domain approves it on /backfill/plans/{plan.pk}/, "
                f"then: manage.py backfill_tags --apply {plan.pk}"
            )
        )

    def _apply(self, plan_id: int | None) -> None:
        plan = BackfillPlan.objects.filter(pk=plan_id).first()
        if plan is None:
            raise CommandError(f"No backfill plan #{plan_id}.")
        run = wizard.do_apply("command", plan, enqueue=False)
        finished = progress.run_command(self, run, True, lambda: wizard.run_steps(run.pk, plan.pk), queued=False)
        plan.refresh_from_db()
        left = plan.items.exclude(status__in=[BackfillItem.Status.TAGGED, BackfillItem.Status.ALREADY]).count()
        self.stdout.write(f"Plan #{plan.pk}: {plan.get_status_display()}; {left} resource(s) not tagged.")
        if finished.errors:
            raise CommandError("Some steps failed; run the command again to resume.")
