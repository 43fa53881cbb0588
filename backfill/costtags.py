"""Spend follows the tags: the cost allocation tag backfill (StartCostAllocationTagBackfill), a separate, approved
step after a tag backfill.

Cost Explorer applies a cost allocation tag to spend from the day the resource carries it: the spend of resources the
backfill tagged stays untagged in the past months until someone asks AWS to re-apply the tags to them. Rules:

- Platform admins and finance (of every domain) request it, for one payer account, from the first day of one of the
  last 12 months (AWS's limit), with a reason; the date is checked before anything reaches AWS.
- Another person who may request it approves or rejects it, never the requester. Every step is audited.
- On approval a worker calls StartCostAllocationTagBackfill. Throttling keeps the request approved with the error
  shown and the scheduler tries again; AWS's refusal (one backfill every 24 hours, a bad date) marks it failed with
  AWS's reason. Then the scheduler follows ListCostAllocationTagBackfillHistory until AWS ends it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from backfill.models import (
    DOMAIN_TAG,
    BackfillItem,
    BackfillPlan,
    CostTagBackfill,
    LegacyResource,
    may_backfill_costs,
)
from changesets.models import Change
from domains.models import AwsAccount
from portal import audit
from portal.aws import call_with_retries, describe_error, error_code, gateway, is_retryable
from portal.scoping import grants_for, is_system_actor

START_TASK = "backfill.start_cost_tag_backfill"
FOLLOW_TASK = "backfill.follow_cost_tag_backfills"
BACKFILL_MONTHS = 12  # StartCostAllocationTagBackfill: "Dates can't precede the previous twelve months"
AWS_DONE = {"SUCCEEDED": CostTagBackfill.Status.SUCCEEDED, "FAILED": CostTagBackfill.Status.FAILED}

_VERBS = {
    "requested": "requested",
    "approved": "approved",
    "rejected": "rejected",
    "started": "started in AWS",
    "succeeded": "succeeded",
    "failed": "failed",
}
AUDIT_ACTIONS = {f"cost_tag_backfill.{verb}": f"Cost allocation tag backfill {label}" for verb, label in _VERBS.items()}


# -- the dates AWS accepts ------------------------------------------------------------------------------------------
def month_choices(today: date | None = None) -> list[date]:
    """The first day of this month and of each of the 12 before it, newest first."""
    today = today or timezone.now().date()
    months = today.year * 12 + today.month - 1
    return [date((m // 12), m % 12 + 1, 1) for m in range(months, months - BACKFILL_MONTHS - 1, -1)]


def check_backfill_from(value: date, today: date | None = None) -> None:
    choices = month_choices(today)
    if value.day != 1:
        raise ValidationError({"backfill_from": f"{value} is not the first day of a month, as AWS requires."})
    if value > choices[0]:
        raise ValidationError({"backfill_from": f"{value} is in the future."})
    if value < choices[-1]:
        raise ValidationError(
            {
                "backfill_from": f"{value} is more than {BACKFILL_MONTHS} months back: AWS re-applies tags from "
                f"{choices[-1]} at the earliest."
            }
        )


# -- request, approve, reject ---------------------------------------------------------------------------------------
def check_may_act(actor: Any) -> None:
    if not is_system_actor(actor) and not may_backfill_costs(grants_for(actor)):
        raise ValidationError("Only platform admins and finance ask for and approve cost allocation tag backfills.")


def do_request(actor: Any, *, payer: AwsAccount, backfill_from: date, reason: str) -> CostTagBackfill:
    check_may_act(actor)
    if not payer.is_payer or not payer.enabled:
        raise ValidationError({"payer": f"Account {payer.account_id} is not an enabled payer account."})
    check_backfill_from(backfill_from)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why: the approver reads it."})
    with transaction.atomic():
        open_one = CostTagBackfill.objects.filter(payer=payer, status__in=CostTagBackfill.OPEN).first()
        if open_one is not None:
            raise ValidationError(
                f"{open_one} is still {open_one.get_status_display().lower()}: AWS runs one backfill at a time."
            )
        backfill = CostTagBackfill.objects.create(
            payer=payer,
            backfill_from=backfill_from,
            reason=reason,
            requested_by=None if is_system_actor(actor) else actor,
        )
        audit.record("cost_tag_backfill.requested", backfill, actor=actor, after=_snapshot(backfill))
    return backfill


def _decide(actor: Any, backfill: CostTagBackfill, status: str, note: str) -> CostTagBackfill:
    check_may_act(actor)
    with transaction.atomic():
        backfill = CostTagBackfill.objects.select_for_update().get(pk=backfill.pk)
        if backfill.status != CostTagBackfill.Status.PROPOSED:
            raise ValidationError(f"{backfill} is {backfill.get_status_display().lower()}; nothing to decide.")
        if not is_system_actor(actor) and backfill.requested_by_id == actor.pk:
            raise ValidationError("Another person approves or rejects a request, not the one who made it.")
        backfill.status = status
        backfill.decided_by = None if is_system_actor(actor) else actor
        backfill.decided_at = timezone.now()
        backfill.decision_note = (note or "").strip()[:500]
        backfill.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        verb = "approved" if status == CostTagBackfill.Status.APPROVED else "rejected"
        audit.record(f"cost_tag_backfill.{verb}", backfill, actor=actor, after=_snapshot(backfill))
        if status == CostTagBackfill.Status.APPROVED:
            from portal.celery import app

            transaction.on_commit(lambda: app.send_task(START_TASK, args=[backfill.pk]))
    return backfill


def do_approve(actor: Any, backfill: CostTagBackfill, note: str = "") -> CostTagBackfill:
    return _decide(actor, backfill, CostTagBackfill.Status.APPROVED, note)


def do_reject(actor: Any, backfill: CostTagBackfill, note: str = "") -> CostTagBackfill:
    return _decide(actor, backfill, CostTagBackfill.Status.REJECTED, note)


def _snapshot(backfill: CostTagBackfill) -> dict[str, Any]:
    return {
        "payer": backfill.payer.account_id,
        "backfill_from": backfill.backfill_from.isoformat(),
        "status": backfill.status,
        "reason": backfill.reason,
        "aws_status": backfill.aws_status,
        "last_error": backfill.last_error,
    }


# -- AWS: start, then follow ----------------------------------------------------------------------------------------
def _store_answer(backfill: CostTagBackfill, answer: dict[str, Any]) -> None:
    backfill.aws_status = answer.get("BackfillStatus", "")
    backfill.aws_requested_at = answer.get("RequestedAt", "")
    backfill.aws_completed_at = answer.get("CompletedAt", "")
    backfill.aws_updated_at = answer.get("LastUpdatedAt", "")


def start(backfill_pk: int) -> CostTagBackfill | None:
    """Call StartCostAllocationTagBackfill for an approved request. Throttling (after the retries) leaves it approved
    with the error, for the scheduler to try again; any other refusal marks it failed with AWS's reason."""
    backfill = CostTagBackfill.objects.select_related("payer").filter(pk=backfill_pk).first()
    if backfill is None or backfill.status != CostTagBackfill.Status.APPROVED:
        return backfill
    backfill.attempts += 1
    since = datetime(backfill.backfill_from.year, backfill.backfill_from.month, 1)
    try:
        client = gateway().cost_explorer(account=backfill.payer.access)
        answer = call_with_retries(
            client.start_cost_allocation_tag_backfill, BackfillFrom=since.strftime("%Y-%m-%dT00:00:00Z")
        )["BackfillRequest"]
    except (ClientError, BotoCoreError) as exc:
        backfill.last_error = describe_error(exc)[:1000]
        if is_retryable(exc):
            backfill.save(update_fields=["attempts", "last_error"])
            return backfill
        backfill.status = CostTagBackfill.Status.FAILED
        backfill.save(update_fields=["attempts", "last_error", "status"])
        audit.record(
            "cost_tag_backfill.failed",
            backfill,
            actor="cost tag backfill",
            after={**_snapshot(backfill), "code": error_code(exc) or ""},
        )
        return backfill
    _store_answer(backfill, answer)
    backfill.last_error = ""
    backfill.status = CostTagBackfill.Status.STARTED
    backfill.save()
    audit.record("cost_tag_backfill.started", backfill, actor="cost tag backfill", after=_snapshot(backfill))
    follow(backfill)
    return backfill


def follow(backfill: CostTagBackfill) -> CostTagBackfill:
    """Read ListCostAllocationTagBackfillHistory for a started request; when AWS has ended it, close it."""
    if backfill.status != CostTagBackfill.Status.STARTED:
        return backfill
    try:
        client = gateway().cost_explorer(account=backfill.payer.access)
        history: list[dict[str, Any]] = []
        token = None
        while True:
            page = call_with_retries(
                client.list_cost_allocation_tag_backfill_history, **({"NextToken": token} if token else {})
            )
            history.extend(page.get("BackfillRequests", []))
            token = page.get("NextToken")
            if not token or any(r.get("RequestedAt") == backfill.aws_requested_at for r in history):
                break
    except (ClientError, BotoCoreError) as exc:
        backfill.last_error = describe_error(exc)[:1000]
        backfill.save(update_fields=["last_error"])
        return backfill
    mine = next((r for r in history if r.get("RequestedAt") == backfill.aws_requested_at), None)
    if mine is None:
        backfill.last_error = "AWS's backfill history does not list this request (yet)."
        backfill.save(update_fields=["last_error"])
        return backfill
    _store_answer(backfill, mine)
    backfill.last_error = ""
    done = AWS_DONE.get(backfill.aws_status)
    if done is not None:
        backfill.status = done
        if done == CostTagBackfill.Status.FAILED:
            backfill.last_error = "AWS ended the backfill as FAILED."
    backfill.save()
    if done is not None:
        audit.record(f"cost_tag_backfill.{done}", backfill, actor="cost tag backfill", after=_snapshot(backfill))
    return backfill


def follow_all() -> int:
    """The scheduler's pass: start what is approved (e.g. after throttling), follow what AWS is running."""
    touched = 0
    for pk in CostTagBackfill.objects.filter(status=CostTagBackfill.Status.APPROVED).values_list("pk", flat=True):
        start(pk)
        touched += 1
    for backfill in CostTagBackfill.objects.filter(status=CostTagBackfill.Status.STARTED).select_related("payer"):
        follow(backfill)
        touched += 1
    return touched


# -- the cost dashboard's notice -------------------------------------------------------------------------------------
def _tagging_plans() -> Any:
    return BackfillPlan.objects.filter(
        status__in=[BackfillPlan.Status.APPLIED, BackfillPlan.Status.PARTIAL],
        finished_at__isnull=False,
        items__status=BackfillItem.Status.TAGGED,
    )


def _found_tagged() -> Any:
    return LegacyResource.objects.filter(removed_at__isnull=True, found_tagged_at__isnull=False)


def _plan_tagged_at() -> datetime | None:
    return _tagging_plans().aggregate(last=Max("finished_at")).get("last")


CHANGES_READ = 200  # the newest applied AddTags with the tag's name: a page reads them (no server-side cursor)


def _change_set_tagged_at() -> datetime | None:
    """The last applied change set call that put the domain tag on a resource (applied, not skipped: the resource
    did not carry it yet)."""
    changes = (
        Change.objects.filter(operation="AddTags", status=Change.Status.APPLIED, applied_at__isnull=False)
        .filter(request__icontains=DOMAIN_TAG)
        .order_by("-applied_at")
        .only("request", "applied_at")
    )
    for change in changes[:CHANGES_READ]:
        keys = {tag.get("Key") for tag in change.request.get("Tags") or [] if isinstance(tag, dict)}
        if DOMAIN_TAG in keys:
            return change.applied_at
    return None


def _found_tagged_at() -> datetime | None:
    return _found_tagged().aggregate(last=Max("found_tagged_at")).get("last")


TAGGED_BY = {
    "plan": "a tag backfill plan",
    "change_set": "an applied change set",
    "outside": "someone outside the portal (found by a discovery)",
}


def _last_of(found: dict[str, datetime | None]) -> tuple[datetime | None, list[str]]:
    dated = {key: at for key, at in found.items() if at is not None}
    if not dated:
        return None, []
    return max(dated.values()), [TAGGED_BY[key] for key in TAGGED_BY if key in dated]


def last_tagging() -> tuple[datetime | None, list[str]]:
    """When resources that already existed (and so may have had spend) last got the domain tag, and by what: a tag
    backfill plan, an applied change set's AddTags, or a hand or script a discovery found out about afterwards."""
    return _last_of({"plan": _plan_tagged_at(), "change_set": _change_set_tagged_at(), "outside": _found_tagged_at()})


def spend_notice(request: Any, _obj: Any = None) -> dict[str, Any] | None:
    """For the cost dashboard: the payer accounts whose past spend has not followed the last tag backfill (no cost
    allocation tag backfill asked for since, or none that succeeded). None when there is nothing to say.

    Every cost dashboard asks, so it is two queries: the payers, each with the last plan's and discovery's tagging
    time (the same for every row) and its own last covering request; then the change sets' AddTags."""
    grants = grants_for(request.user)
    if not grants.domains_for("view_costs"):
        return None
    covering = (
        CostTagBackfill.objects.filter(payer=OuterRef("pk"))
        .exclude(status__in=[CostTagBackfill.Status.REJECTED, CostTagBackfill.Status.FAILED])
        .order_by("-requested_at")
        .values("requested_at")[:1]
    )
    payers = list(
        AwsAccount.objects.filter(is_payer=True, enabled=True)
        .annotate(
            plan_tagged_at=Subquery(_tagging_plans().order_by("-finished_at").values("finished_at")[:1]),
            outside_tagged_at=Subquery(_found_tagged().order_by("-found_tagged_at").values("found_tagged_at")[:1]),
            covered_at=Subquery(covering),
        )
        .order_by("account_id")
    )
    if not payers:
        return None
    first = payers[0]
    tagged_at, tagged_by = _last_of(
        {"plan": first.plan_tagged_at, "change_set": _change_set_tagged_at(), "outside": first.outside_tagged_at}
    )
    if tagged_at is None:
        return None
    payers = [payer for payer in payers if payer.covered_at is None or payer.covered_at < tagged_at]
    if not payers:
        return None
    return {"tagged_at": tagged_at, "tagged_by": tagged_by, "payers": payers, "may_request": may_backfill_costs(grants)}
