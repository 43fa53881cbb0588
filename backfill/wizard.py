"""The backfill wizard: a dry run freezes a plan (what to tag, with which domain, decided by which rule); another
approver of every domain involved approves it; applying tags with ``TagResources`` and verifies.

Applying is a run (kind ``backfill_apply``) of steps of up to 100 resources of one account, region and domain.
A step first re-reads the resources' tags (``GetResources``, the 100 ARNs in one call), so that it never overwrites
a different value already there (a conflict, left as is), skips what is already right and leaves out what already
holds 50 tags; then it tags the rest 20 ARNs a call. An ARN that ``FailedResourcesMap`` reports as
``InternalServiceException`` (throttled or a transient failure) is retried alone, with a wait that doubles on
throttling and shrinks again after each clean call (with jitter); others fail with AWS's message. Each call's
outcome is written at once and audited, so a run a dead worker left resumes with only what is still pending.
The step ends by re-reading the tags it wrote (verify) and updating the resources' coverage.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backfill.models import DOMAIN_TAG, BackfillApproval, BackfillItem, BackfillPlan, LegacyResource
from domains.models import AwsAccount, Domain
from portal import audit, runs
from portal.aws import gateway, is_throttling, with_retries
from portal.models import TaskRun
from portal.registry import RunKind
from portal.scoping import grants_for, is_system_actor

BACKFILL_APPLY = RunKind("backfill_apply", "Tag backfill", url_prefix="backfill:apply")
APPLY_TASK = "backfill.apply_step"
CHUNK = 100  # GetResources reads up to 100 ARNs a call: one read per step
TAG_BATCH = 20  # TagResources takes up to 20 ARNs a call
MAX_TAGS = 50  # a SageMaker resource holds at most 50 tags
MAX_ATTEMPTS = 8
THROTTLED_OUT = "Still throttled after"
AUDIT_ACTIONS = {
    "backfill_plan.created": "Backfill plan made (dry run)",
    "backfill_plan.approved": "Backfill plan approved for a domain",
    "backfill_plan.cancelled": "Backfill plan cancelled",
    "backfill_plan.applying": "Backfill plan applying",
    "backfill_batch.applied": "Backfill batch tagged",
}
SAMPLE = 25


@dataclass(frozen=True)
class ApplyScope:
    plan_id: int

    def to_json(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id}


def _fail(message: str, field: str | None = None) -> ValidationError:
    return ValidationError({field: message} if field else message)


# -- dry run ------------------------------------------------------------------------------------------------------
def do_plan(actor: Any, *, domain: Domain | None = None) -> BackfillPlan:
    """Freeze what the backfill would tag now: every untagged, attributed, not excepted resource (of ``domain``)."""
    if not is_system_actor(actor) and not grants_for(actor).is_admin:
        raise _fail("Only platform admins plan a backfill.")
    rows = LegacyResource.objects.filter(coverage=LegacyResource.Coverage.ATTRIBUTABLE, removed_at__isnull=True)
    if domain is not None:
        rows = rows.filter(domain_arn=domain.arn)
    rows = list(rows.order_by("account_id", "region", "domain_arn", "resource_type", "name", "pk"))
    if not rows:
        where = f" in {domain.name}" if domain else ""
        raise _fail(f"Nothing to tag{where}: every attributed resource is tagged or excepted. Discover again first?")
    by_domain: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    items = []
    chunk, in_chunk, group = 0, 0, None
    for row in rows:
        key = (row.account_id, row.region, row.domain_arn)
        if key != group or in_chunk == CHUNK:
            chunk, in_chunk, group = chunk + 1, 0, key
        in_chunk += 1
        by_domain[row.domain_arn] += 1
        by_type[row.resource_type] += 1
        by_rule[row.rule] += 1
        items.append(
            BackfillItem(
                resource=row,
                arn=row.arn,
                resource_type=row.resource_type,
                name=row.name,
                account_id=row.account_id,
                region=row.region,
                domain_arn=row.domain_arn,
                rule=row.rule,
                chunk=chunk,
            )
        )
    names = dict(Domain.objects.filter(arn__in=list(by_domain)).values_list("arn", "name"))
    counts = {
        "domains": dict(sorted(by_domain.items())),
        "domain_names": names,
        "types": dict(sorted(by_type.items())),
        "rules": dict(sorted(by_rule.items())),
        "chunks": chunk,
    }
    with transaction.atomic():
        plan = BackfillPlan.objects.create(
            scope_domain=domain,
            domain_arns=sorted(by_domain),
            counts=counts,
            created_by=None if is_system_actor(actor) else actor,
        )
        for item in items:
            item.plan = plan
        BackfillItem.objects.bulk_create(items, batch_size=500)
        audit.record(
            "backfill_plan.created",
            plan,
            actor=actor,
            domain_arn=domain.arn if domain else "",
            after={"resources": len(items), "domains": counts["domains"]},
        )
    return plan


def approvals_needed(plan: BackfillPlan) -> list[str]:
    done = set(plan.approvals.values_list("domain_arn", flat=True))
    return [arn for arn in plan.domain_arns if arn not in done]


def approvable_by(plan: BackfillPlan, user: Any) -> list[str]:
    """The domains of the plan this person may still approve (an approver there, not the plan's author)."""
    if plan.status != BackfillPlan.Status.PLANNED or plan.created_by_id == getattr(user, "pk", None):
        return []
    grants = grants_for(user)
    return [arn for arn in approvals_needed(plan) if grants.allows("approve", arn)]


def do_approve(actor: Any, plan: BackfillPlan, *, domain_arns: list[str] | None = None) -> BackfillPlan:
    """Approve the plan for the domains ``actor`` approves (all of them unless narrowed)."""
    with transaction.atomic():
        plan = BackfillPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != BackfillPlan.Status.PLANNED:
            raise _fail(f"This plan is {plan.get_status_display().lower()}: there is nothing to approve.")
        if plan.created_by_id == getattr(actor, "pk", None):
            raise _fail("Another approver approves a plan, not its author.")
        mine = approvable_by(plan, actor)
        if domain_arns is not None:
            mine = [arn for arn in mine if arn in domain_arns]
        if not mine:
            raise _fail("You approve none of the domains this plan still waits for.")
        for arn in mine:
            BackfillApproval.objects.create(plan=plan, domain_arn=arn, approver=actor)
            audit.record("backfill_plan.approved", plan, actor=actor, domain_arn=arn, after={"domain": arn})
        if not approvals_needed(plan):
            plan.status = BackfillPlan.Status.APPROVED
            plan.save(update_fields=["status"])
    return plan


def do_cancel(actor: Any, plan: BackfillPlan) -> BackfillPlan:
    if not grants_for(actor).is_admin:
        raise _fail("Only platform admins cancel a backfill plan.")
    with transaction.atomic():
        plan = BackfillPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status not in (BackfillPlan.Status.PLANNED, BackfillPlan.Status.APPROVED):
            raise _fail(f"A plan that is {plan.get_status_display().lower()} cannot be cancelled.")
        plan.status = BackfillPlan.Status.CANCELLED
        plan.save(update_fields=["status"])
        audit.record("backfill_plan.cancelled", plan, actor=actor)
    return plan


# -- apply --------------------------------------------------------------------------------------------------------
def do_apply(actor: Any, plan: BackfillPlan, *, inline: bool = False, enqueue: bool = True) -> TaskRun:
    """Start applying an approved plan (or resume one a dead worker left): a run of one step per chunk, done here
    (``inline``), by the workers, or by the caller (``enqueue=False``: :func:`run_steps`)."""
    if not is_system_actor(actor) and not grants_for(actor).is_admin:
        raise _fail("Only platform admins apply a backfill plan.")
    with transaction.atomic():
        plan = BackfillPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status == BackfillPlan.Status.PLANNED:
            raise _fail(f"The plan waits for approval in {len(approvals_needed(plan))} domain(s).")
        if plan.status not in (BackfillPlan.Status.APPROVED, BackfillPlan.Status.APPLYING, BackfillPlan.Status.PARTIAL):
            raise _fail(f"This plan is {plan.get_status_display().lower()}: there is nothing to apply.")
        if plan.status == BackfillPlan.Status.PARTIAL:
            # Applied before: try again what AWS kept throttling; conflicts and refusals stay as they are.
            retried = plan.items.filter(status=BackfillItem.Status.FAILED, detail__startswith=THROTTLED_OUT)
            if not retried.update(status=BackfillItem.Status.PENDING, detail=""):
                raise _fail("Nothing to retry: what is left are conflicts and resources AWS refused (see the CSV).")
            plan.status, plan.finished_at = BackfillPlan.Status.APPLYING, None
            plan.save(update_fields=["status", "finished_at"])
        run, created = runs.start_run(
            BACKFILL_APPLY.kind,
            ApplyScope(plan.pk),
            f"plan #{plan.pk}",
            trigger=TaskRun.Trigger.COMMAND if is_system_actor(actor) else TaskRun.Trigger.USER,
            actor=None if is_system_actor(actor) else actor,
            domain_arns=list(plan.domain_arns),
        )
        if plan.status == BackfillPlan.Status.APPROVED:
            plan.status = BackfillPlan.Status.APPLYING
            audit.record("backfill_plan.applying", plan, actor=actor, after={"run": run.pk})
        plan.run = run
        plan.save(update_fields=["status", "run"])
    if created:
        chunks = pending_chunks(run, plan.pk)
        runs.plan(run.pk, max(len(chunks), 1), f"Tagging {plan.total} resource(s) in {len(chunks)} step(s)")
        if not chunks:
            runs.finish_step(run.pk, scope="nothing pending", message="Nothing was pending.")
            _close(plan.pk)
    if inline:
        run_steps(run.pk, plan.pk)
    elif enqueue:
        from portal.celery import app

        # Resuming a run a dead worker left sends only the steps it did not finish (each does only what is pending).
        for number in pending_chunks(run, plan.pk):
            transaction.on_commit(lambda n=number: app.send_task(APPLY_TASK, args=[run.pk, plan.pk, n]))
    run.refresh_from_db()
    return run


def pending_chunks(run: TaskRun, plan_id: int) -> list[int]:
    pending = BackfillItem.objects.filter(plan_id=plan_id, status=BackfillItem.Status.PENDING)
    return [n for n in sorted(set(pending.values_list("chunk", flat=True))) if f"step {n}" not in run.finished_steps]


def run_steps(run_id: int, plan_id: int) -> None:
    """Every step still to do, in this process."""
    run = TaskRun.objects.get(pk=run_id)
    for number in pending_chunks(run, plan_id):
        with_retries(apply_step, run_id, plan_id, number)


class Pacer:
    """Waits between TagResources calls: doubling (from 50 ms, at most 20 s) after throttling, halving after a
    clean call, with jitter."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self.delay = 0.0
        self.sleep = sleep

    def wait(self) -> None:
        if self.delay:
            self.sleep(self.delay / 2 + random.uniform(0, self.delay / 2))  # noqa: S311 - jitter

    def throttled(self) -> None:
        self.delay = min(20.0, max(0.05, self.delay * 2))

    def ok(self) -> None:
        self.delay = self.delay / 2 if self.delay > 0.05 else 0.0


pacer = Pacer()


def _read_tags(client: Any, arns: list[str]) -> dict[str, dict[str, str]]:
    """Current tags of up to 100 ARNs in one call; an ARN missing from the answer has none."""
    answer = client.get_resources(ResourceARNList=arns)
    return {
        item["ResourceARN"]: {t["Key"]: t.get("Value", "") for t in item.get("Tags", [])}
        for item in answer.get("ResourceTagMappingList", [])
    }


def _save(items: list[BackfillItem]) -> None:
    """Write the items' outcomes: one plain UPDATE per distinct outcome (a batch is mostly one: tagged, first
    attempt), in one transaction, rather than a CASE per row and field."""
    outcomes: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for item in items:
        outcomes[(item.status, item.detail, item.attempts)].append(item.pk)
    with transaction.atomic():
        for (status, detail, attempts), pks in outcomes.items():
            BackfillItem.objects.filter(pk__in=pks).update(status=status, detail=detail, attempts=attempts)


def apply_step(run_id: int, plan_id: int, chunk: int, *, final_attempt: bool = True) -> None:
    scope = f"step {chunk}"
    run = TaskRun.objects.filter(pk=run_id).first()
    if run is None or not run.is_active or scope in run.finished_steps:
        return
    with runs.recorded_step(run_id, scope, final_attempt=final_attempt) as calls:
        items = list(BackfillItem.objects.filter(plan_id=plan_id, chunk=chunk).order_by("pk"))
        outcome = _apply_chunk(plan_id, items)
        done = runs.finish_step(
            run_id,
            scope=scope,
            counts={"resources": outcome},
            calls=calls,
            message=f"Step {chunk}: {outcome.get('updated', 0)} tagged",
        )
        if not done.is_active:
            _close(plan_id)


def _apply_chunk(plan_id: int, items: list[BackfillItem]) -> dict[str, int]:
    if not items:
        return {}
    first = items[0]
    account = AwsAccount.objects.get(account_id=first.account_id)
    client = gateway().client("resourcegroupstaggingapi", region=first.region, account=account.access)
    pending = [i for i in items if i.status == BackfillItem.Status.PENDING]
    if pending:
        current = _read_tags(client, [i.arn for i in pending])
        ready = []
        for item in pending:
            tags = current.get(item.arn, {})
            if DOMAIN_TAG in tags:
                same = tags[DOMAIN_TAG] == item.domain_arn
                item.status = BackfillItem.Status.ALREADY if same else BackfillItem.Status.CONFLICT
                item.detail = "" if same else f"Tagged {tags[DOMAIN_TAG]} in AWS; left as is."
            elif len(tags) >= MAX_TAGS:
                item.status, item.detail = BackfillItem.Status.TOO_MANY_TAGS, f"Holds {len(tags)} tags already."
            else:
                ready.append(item)
        chosen = {i.pk for i in ready}
        _save([i for i in pending if i.pk not in chosen])
        for start in range(0, len(ready), TAG_BATCH):
            _tag_batch(plan_id, client, ready[start : start + TAG_BATCH])
        # Verify re-reads what this step wrote; a step that wrote nothing (all already right, conflicts, refusals)
        # keeps the tags it has just read, rather than asking AWS the same question twice.
        wrote = any(i.status == BackfillItem.Status.TAGGED for i in ready)
        _verify(client, items, None if wrote or len(pending) < len(items) else current)
    statuses = Counter(i.status for i in pending)  # what this step did, not what an earlier run did
    return {
        "updated": statuses[BackfillItem.Status.TAGGED],
        "unchanged": statuses[BackfillItem.Status.ALREADY],
        "conflicts": statuses[BackfillItem.Status.CONFLICT],
        "failed": statuses[BackfillItem.Status.FAILED] + statuses[BackfillItem.Status.TOO_MANY_TAGS],
    }


def _tag_batch(plan_id: int, client: Any, batch: list[BackfillItem]) -> None:
    domain_arn = batch[0].domain_arn
    waiting = {i.arn: i for i in batch}
    throttled = 0
    for _attempt in range(MAX_ATTEMPTS):
        if not waiting:
            break
        pacer.wait()
        try:
            answer = client.tag_resources(ResourceARNList=list(waiting), Tags={DOMAIN_TAG: domain_arn})
        except ClientError as exc:
            if not is_throttling(exc):
                raise
            pacer.throttled()
            throttled += len(waiting)
            continue
        failed = answer.get("FailedResourcesMap") or {}
        retry = {}
        for arn, item in waiting.items():
            item.attempts += 1
            failure = failed.get(arn)
            if failure is None:
                item.status, item.detail = BackfillItem.Status.TAGGED, ""
            elif failure.get("ErrorCode") == "InternalServiceException":
                retry[arn] = item
            else:
                item.status = BackfillItem.Status.FAILED
                item.detail = f"{failure.get('ErrorCode')}: {failure.get('ErrorMessage', '')}"[:500]
        if retry:
            pacer.throttled()
            throttled += len(retry)
        else:
            pacer.ok()
        waiting = retry
    for item in waiting.values():
        item.status, item.detail = BackfillItem.Status.FAILED, f"{THROTTLED_OUT} {MAX_ATTEMPTS} attempts."
    _save(batch)
    audit.record(
        "backfill_batch.applied",
        object_type="backfill.BackfillPlan",
        object_id=str(plan_id),
        object_repr=f"Backfill plan #{plan_id}",
        actor="backfill",
        domain_arn=domain_arn,
        after={
            "arns": [i.arn for i in batch],
            "tagged": sum(1 for i in batch if i.status == BackfillItem.Status.TAGGED),
            "failed": {i.arn: i.detail for i in batch if i.status == BackfillItem.Status.FAILED},
            "retried_arns": throttled,
        },
    )


def _verify(client: Any, items: list[BackfillItem], known: dict[str, dict[str, str]] | None = None) -> None:
    """Re-read the tags of the chunk (or take ``known``, read after the last write) and record them on the
    resources, with their coverage. A resource found tagged with another domain (a conflict) now belongs to that
    domain, as the tag says."""
    tags = known if known is not None else _read_tags(client, [i.arn for i in items])
    resources = {r.pk: r for r in LegacyResource.objects.filter(pk__in=[i.resource_id for i in items])}
    others = {t.get(DOMAIN_TAG) for t in tags.values()} - {i.domain_arn for i in items} - {None}
    domains = {d.arn: d for d in Domain.objects.filter(arn__in=others)} if others else {}
    moved: list[LegacyResource] = []
    same_tags: dict[tuple[str, str], list[int]] = defaultdict(list)  # most of a chunk reads back alike
    for item in items:
        resource = resources.get(item.resource_id)
        if resource is None:
            continue
        now_tags = tags.get(item.arn, {})
        if item.status == BackfillItem.Status.TAGGED and now_tags.get(DOMAIN_TAG) != item.domain_arn:
            item.status, item.detail = BackfillItem.Status.FAILED, "The tag was not there when read back."
        tagged = now_tags.get(DOMAIN_TAG)
        resource.tags = now_tags
        if tagged and tagged != resource.domain_arn:
            resource.domain_arn, resource.domain = tagged, domains.get(tagged)
            resource.rule = LegacyResource.Rule.DOMAIN_TAG
            resource.evidence = [{"field": f"Tags.{DOMAIN_TAG}", "value": tagged, "source": "tags"}]
            resource.coverage = resource.coverage_of()
            moved.append(resource)
            continue
        resource.coverage = resource.coverage_of()
        same_tags[(json.dumps(now_tags, sort_keys=True), resource.coverage)].append(resource.pk)
    with transaction.atomic():
        for (text, coverage), pks in same_tags.items():
            LegacyResource.objects.filter(pk__in=pks).update(tags=json.loads(text), coverage=coverage)
        fields = ["tags", "coverage", "domain_arn", "domain", "rule", "evidence"]
        LegacyResource.objects.bulk_update(moved, fields, batch_size=500)
        _save(items)


def _close(plan_id: int) -> None:
    with transaction.atomic():
        plan = BackfillPlan.objects.select_for_update().get(pk=plan_id)
        if plan.status != BackfillPlan.Status.APPLYING:
            return
        left = plan.items.exclude(status__in=[BackfillItem.Status.TAGGED, BackfillItem.Status.ALREADY]).exists()
        plan.status = BackfillPlan.Status.PARTIAL if left else BackfillPlan.Status.APPLIED
        plan.finished_at = timezone.now()
        plan.save(update_fields=["status", "finished_at"])
    from backfill.discovery import coverage_changed

    coverage_changed(list(plan.domain_arns))
