"""Checking now whether the SageMaker tags are active cost allocation tags in each payer account.

The ingestion checks them once a day; after someone activates a tag in the Billing console they want to know at once
whether it took. A check is a task run of its own (one ListCostAllocationTags request per payer, listed with the
cost ingestion runs, since it reads Cost Explorer too): it is started by a person (audited), runs in a worker, stores
each tag's status and closes with what it found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from costs.ingest import COST_INGESTION, check_cost_tags, payer_of_step, payers, store_tag_statuses, tag_note
from costs.models import CostTagStatus
from domains.models import AwsAccount
from portal import audit, runs
from portal.aws import gateway, with_retries
from portal.models import TaskRun

RUN_TASK = "costs.run_tag_check"
AUDIT_ACTIONS = {"cost_tags.check_requested": "Cost allocation tag check requested"}
SCOPE_LABEL = "cost allocation tags of every payer account"


@dataclass(frozen=True)
class TagCheckScope:
    """A tag check covers every enabled payer account; its scope is a run scope of its own, so it never joins an
    ingestion of every payer."""

    def to_json(self) -> dict[str, Any]:
        return {"cost_tags": "all"}


def start_tag_check(
    *, actor: Any, trigger: str = TaskRun.Trigger.USER, inline: bool = False, enqueue: bool = True
) -> tuple[TaskRun, bool]:
    """Start a check of every enabled payer account's tags (or join the one already running); the request is
    audited with the run it started."""
    payer_pks = payers()
    with transaction.atomic():
        person = None if isinstance(actor, str) else actor  # a command or test names itself in the audit only
        run, created = runs.start_run(COST_INGESTION.kind, TagCheckScope(), SCOPE_LABEL, trigger=trigger, actor=person)
        if created:
            audit.record(
                "cost_tags.check_requested",
                run,
                actor=actor,
                after={
                    "payers": list(AwsAccount.objects.filter(pk__in=payer_pks).values_list("account_id", flat=True))
                },
            )
            if enqueue and not inline:
                from portal.celery import app

                transaction.on_commit(lambda: app.send_task(RUN_TASK, args=[run.pk, payer_pks]))
    if created and inline:
        run_tag_check(run.pk, payer_pks)
        run.refresh_from_db()
    return run, created


def run_tag_check(run_id: int, payer_pks: list[int]) -> None:
    if not payer_pks:
        runs.fail_run(
            run_id, "No enabled payer account: mark the account that holds the bill as payer on the Accounts page."
        )
        return
    if not runs.plan(run_id, len(payer_pks), f"Checking the tags of {len(payer_pks)} payer account(s)"):
        return  # a redelivered task: the first delivery has it
    for pk in payer_pks:
        with_retries(check_payer_tags, run_id, pk)


def check_payer_tags(run_id: int, payer_pk: int, *, final_attempt: bool = True) -> None:
    """One payer: ask Cost Explorer, store each tag's status, and say what changed."""
    payer = payer_of_step(run_id, payer_pk)
    if payer is None:
        return
    scope = f"payer {payer.account_id}"
    with runs.recorded_step(run_id, scope, final_attempt=final_attempt) as calls:
        statuses = check_cost_tags(gateway().cost_explorer(account=payer.access))
        with transaction.atomic():
            before = dict(CostTagStatus.objects.filter(payer=payer).values_list("tag_key", "status"))
            store_tag_statuses(payer, statuses)
            changed = sum(1 for key, status in statuses.items() if before.get(key) != status)
            found = ", ".join(f"{key} {status.lower()}" for key, status in statuses.items())
            runs.finish_step(
                run_id,
                scope=scope,
                counts={"cost_tags": {"updated": changed, "unchanged": len(statuses) - changed}},
                calls=calls,
                message=f"{payer.account_id}: {found}",
                note=tag_note(payer, statuses) or f"In payer account {payer.account_id} all SageMaker tags are active.",
            )
