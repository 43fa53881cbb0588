"""The change-set service: propose (validated before anything is stored), approve (four eyes), reject, cancel,
retry. Applying is :mod:`changesets.apply`, run by the Celery task the approval hands the change set to.

Rules:

- A change set is all or nothing at proposal: every change names a resource of the domain that the inventory has,
  its request identifies that same resource and is well-formed for its operation (checked against botocore's
  SageMaker model, so bad input never reaches AWS), and it says which values it sets (``after``). One bad change and
  nothing is stored; the error names the change (``changes[3].request``) and what is wrong.
- An approver of the domain (platform admins count) approves or rejects, never the proposer.
- The proposer or a platform admin cancels a change set that is still proposed.
- An approver retries a failed change set: its failed changes go back to pending, the applied ones stay applied.
- Every step is audited (:data:`AUDIT_ACTIONS`).
- IAM changes (``PutRolePolicy``, ``DeleteRolePolicy``) act only on an inline policy the portal names
  (:data:`changesets.planning.PORTAL_POLICY_PREFIX`) of a role in the domain's own account, and only while that
  account lets the portal write IAM (``AwsAccount.portal_writes_iam``; the applier checks it again before calling).
- An applied change set of IAM changes can be reverted in one click (:func:`do_propose_revert`): a new change set
  that puts back, per policy, the document the applier found before its call (or deletes the policy when there was
  none). It is approved by another approver like any IAM write, because a revert widens the role again.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from decimal import Decimal
from functools import cache
from typing import Any

from botocore.session import get_session
from botocore.validate import ParamValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from changesets.models import Change, ChangeSet
from changesets.planning import IAM_OPERATIONS, PORTAL_POLICY_PREFIX, RESOURCE_KINDS, PlannedChange
from changesets.work import task_for
from domains.models import Domain
from portal.scoping import APPROVE, grants_for, is_system_actor
from profiles.models import App, Space, UserProfile

MAX_CHANGES = 500
SWEEP_ACTOR = "stalled-work sweep"

_VERBS = {
    "proposed": "proposed",
    "approved": "approved",
    "rejected": "rejected",
    "cancelled": "cancelled",
    "retried": "retried",
    "handed_out_again": "handed to a worker again",
    "waiting": "waiting",
    "applied": "applied",
    "failed": "failed",
}
AUDIT_ACTIONS: dict[str, str] = {
    **{f"changeset.{verb}": f"Change set {label}" for verb, label in _VERBS.items()},
    "changeset.update_domain": "Change set: domain updated in AWS",
    "changeset.update_user_profile": "Change set: user profile updated in AWS",
    "changeset.update_space": "Change set: space updated in AWS",
    "changeset.add_tags": "Change set: tags added in AWS",
    "changeset.delete_app": "Change set: app deleted in AWS",
    "changeset.put_role_policy": "Change set: role's inline policy put in IAM",
    "changeset.delete_role_policy": "Change set: role's inline policy deleted in IAM",
}

# Which kind of resource each operation acts on (AddTags: any), and the request members that name it.
OPERATION_KINDS: dict[str, tuple[str, ...]] = {
    "UpdateDomain": ("domain",),
    "UpdateUserProfile": ("profile",),
    "UpdateSpace": ("space",),
    "AddTags": RESOURCE_KINDS,
    "DeleteApp": ("app",),
    "PutRolePolicy": ("role",),
    "DeleteRolePolicy": ("role",),
}
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$")
INLINE_POLICIES_LIMIT = 10240  # IAM quotas: characters of all a role's inline policies together, whitespace not counted
# UpdateDomain members AWS accepts only while no app of the domain runs.
NETWORK_MEMBERS = ("AppNetworkAccessType", "SubnetIds", "VpcId")


@cache
def _service_model(service: str = "sagemaker") -> Any:
    return get_session().get_service_model(service)


def request_problems(operation: str, request: Mapping[str, Any]) -> list[str]:
    """What botocore would refuse in this request before sending it (empty: well-formed)."""
    service = "iam" if operation in IAM_OPERATIONS else "sagemaker"
    shape = _service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(dict(request), shape)
    if not report.has_errors():
        return []
    lines = report.generate_report().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("Invalid type")] or lines


def sagemaker_enum(shape_name: str) -> list[str]:
    """The values botocore's SageMaker model allows for an enum shape (e.g. ``AppType``)."""
    return list(_service_model().shape_for(shape_name).enum)


def _as_planned(item: PlannedChange | Mapping[str, Any]) -> PlannedChange:
    if isinstance(item, PlannedChange):
        return item
    if not isinstance(item, Mapping):
        raise ValueError("a change is an object with operation, resource_arn, resource_kind, request, before, after.")
    fields = dict(item)
    unknown = set(fields) - set(PlannedChange.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}.")
    for name in ("operation", "resource_arn", "resource_kind", "request"):
        if name not in fields:
            raise ValueError(f"{name} is required.")
    if not isinstance(fields["request"], Mapping):
        raise ValueError("request must be an object (the call's parameters).")
    for name in ("before", "after"):
        if not isinstance(fields.get(name, {}), Mapping):
            raise ValueError(f"{name} must be an object of field path to value.")
    fields["restarts"] = tuple(fields.get("restarts") or ())
    saving = fields.get("monthly_saving")
    if saving not in (None, ""):
        try:
            fields["monthly_saving"] = Decimal(str(saving))
        except ArithmeticError:
            raise ValueError("monthly_saving must be a number of USD.") from None
    else:
        fields["monthly_saving"] = None
    return PlannedChange(**fields)


def _resource(domain: Domain, change: PlannedChange) -> Any:
    """The inventory row the change acts on, live and in this domain, or None (for a role: its name, when the ARN is
    a role of the domain's account)."""
    if change.resource_kind == "role":
        match = ROLE_ARN_RE.match(change.resource_arn)
        return match.group(2) if match and match.group(1) == domain.account.account_id else None
    if change.resource_kind == "domain":
        return domain if change.resource_arn == domain.arn else None
    model = {"profile": UserProfile, "space": Space, "app": App}[change.resource_kind]
    row = model.objects.filter(domain=domain, arn=change.resource_arn, removed_at__isnull=True).first()
    if row is not None and model is App and row.status == "Deleted":
        return None
    return row


def _identity_problems(domain: Domain, change: PlannedChange, row: Any) -> list[str]:
    """Does the request name the resource the change says it acts on?"""
    request, problems = change.request, []

    def expect(key: str, value: Any) -> None:
        if request.get(key) != value:
            problems.append(f"request.{key} must be {value!r} (the {change.resource_kind} it acts on).")

    if change.operation == "AddTags":
        expect("ResourceArn", change.resource_arn)
        return problems
    if change.operation in IAM_OPERATIONS:
        return problems + _iam_problems(domain, change, row)
    expect("DomainId", domain.domain_id)
    if change.operation == "UpdateUserProfile":
        expect("UserProfileName", row.name)
    elif change.operation == "UpdateSpace":
        expect("SpaceName", row.name)
    elif change.operation == "DeleteApp":
        expect("AppType", row.app_type)
        expect("AppName", row.name)
        if row.space_name:
            expect("SpaceName", row.space_name)
        else:
            expect("UserProfileName", row.user_profile_name)
    return problems


def policy_size(document: Any) -> int:
    """A policy's size as IAM counts it (whitespace not counted)."""
    return len(json.dumps(document, separators=(",", ":")))


def _iam_problems(domain: Domain, change: PlannedChange, role_name: str) -> list[str]:
    """An IAM change writes the portal's own inline policy, on a role of the domain's account that lets it."""
    request, problems = change.request, []
    if not domain.account.portal_writes_iam:
        problems.append(
            f"The account {domain.account} does not let the portal write IAM: a platform admin turns on "
            f"'The portal may write IAM' on the account first, or the policy is downloaded and applied by hand."
        )
    if request.get("RoleName") != role_name:
        problems.append(f"request.RoleName must be {role_name!r} (the role it acts on).")
    name = str(request.get("PolicyName") or "")
    if not name.startswith(PORTAL_POLICY_PREFIX):
        problems.append(
            f"request.PolicyName must start with {PORTAL_POLICY_PREFIX!r}: the portal writes only its own inline "
            f"policies, never one someone else manages."
        )
    if change.operation == "PutRolePolicy":
        try:
            document = json.loads(request.get("PolicyDocument") or "")
        except (TypeError, ValueError):
            return [*problems, "request.PolicyDocument must be the policy as JSON text."]
        if not isinstance(document, dict) or not document.get("Statement"):
            problems.append("request.PolicyDocument must be a policy with a Statement.")
        elif change.after.get("PolicyDocument") != document:
            problems.append("after.PolicyDocument must be the document the request puts.")
        elif policy_size(document) > INLINE_POLICIES_LIMIT:
            problems.append(
                f"request.PolicyDocument: {policy_size(document)} characters, over IAM's {INLINE_POLICIES_LIMIT} "
                f"for a role's inline policies."
            )
    elif change.after and change.after.get("PolicyDocument", MISSING_AFTER) is not None:
        problems.append("after must be {'PolicyDocument': null}: the policy is gone after DeleteRolePolicy.")
    return problems


MISSING_AFTER = object()


def validate_changes(domain: Domain, changes: Iterable[PlannedChange | Mapping[str, Any]]) -> list[PlannedChange]:
    """Every change checked; a ValidationError naming each failing change (``changes[i]``) and field otherwise."""
    errors: dict[str, list[str]] = {}
    planned: list[PlannedChange] = []
    items = list(changes)
    if not items:
        raise ValidationError({"changes": ["A change set needs at least one change."]})
    if len(items) > MAX_CHANGES:
        raise ValidationError({"changes": [f"A change set holds at most {MAX_CHANGES} changes; split it."]})
    for i, item in enumerate(items):
        key = f"changes[{i}]"
        try:
            change = _as_planned(item)
        except (ValueError, TypeError) as exc:
            errors[key] = [str(exc)]
            continue
        problems: list[str] = []
        if change.resource_kind not in OPERATION_KINDS[change.operation]:
            problems.append(f"{change.operation} does not act on a {change.resource_kind}.")
        row = _resource(domain, change) if not problems else None
        if not problems and row is None:
            problems.append(
                f"resource_arn: no live {change.resource_kind} {change.resource_arn} in the domain {domain.name}."
            )
        if row is not None:
            problems += _identity_problems(domain, change, row)
        problems += [f"request: {p}" for p in request_problems(change.operation, change.request)]
        if change.operation not in ("DeleteApp", "DeleteRolePolicy") and not change.after:
            problems.append("after: say which values the change sets (field path to value).")
        if problems:
            errors[key] = problems
            continue
        if change.operation == "UpdateDomain" and any(k in change.request for k in NETWORK_MEMBERS):
            change = PlannedChange(**{**asdict(change), "needs_no_running_apps": True})
        if change.operation == "DeleteApp" and not change.after:
            change = PlannedChange(**{**asdict(change), "after": {"Status": "Deleted"}})
        if change.operation == "DeleteRolePolicy" and not change.after:
            change = PlannedChange(**{**asdict(change), "after": {"PolicyDocument": None}})
        planned.append(change)
    if errors:
        raise ValidationError(errors)
    return planned


def _label(actor: Any) -> str:
    return actor if isinstance(actor, str) else actor.get_username()


def may(actor: Any, action: str, domain: Domain) -> bool:
    return is_system_actor(actor) or grants_for(actor).allows(action, domain.arn)


def check_can_propose(actor: Any, domain: Domain) -> None:
    if not may(actor, APPROVE, domain):
        raise ValidationError(f"Only a platform admin or an approver of {domain.name} may propose changes to it.")
    if domain.removed_at is not None:
        raise ValidationError(f"The domain {domain.name} is gone from AWS; nothing can be changed in it.")


@transaction.atomic
def propose(
    actor: Any,
    domain: Domain,
    title: str,
    changes: Iterable[PlannedChange | Mapping[str, Any]],
    *,
    origin: str = "",
    finding_ids: Iterable[Any] = (),
) -> ChangeSet:
    """Store a change set for approval, after checking every change; nothing is stored when one is wrong."""
    check_can_propose(actor, domain)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": ["Give the change set a title that says what it changes."]})
    planned = validate_changes(domain, changes)
    savings = [c.monthly_saving for c in planned if c.monthly_saving is not None]
    change_set = ChangeSet.objects.create(
        domain=domain,
        title=title[:200],
        origin=(origin or "")[:100],
        finding_ids=list(finding_ids),
        proposed_by=None if is_system_actor(actor) else actor,
        proposed_by_label=_label(actor),
        monthly_saving=sum(savings, Decimal(0)) if savings else None,
    )
    Change.objects.bulk_create(
        Change(
            change_set=change_set,
            position=i,
            operation=c.operation,
            resource_arn=c.resource_arn,
            resource_kind=c.resource_kind,
            request=c.request,
            before=dict(c.before),
            after=dict(c.after),
            restarts=list(c.restarts),
            needs_no_running_apps=c.needs_no_running_apps,
            monthly_saving=c.monthly_saving,
        )
        for i, c in enumerate(planned)
    )
    change_set.record(
        "proposed",
        actor=actor,
        after={"status": change_set.status, "title": change_set.title, "changes": len(planned), "origin": origin},
    )
    return change_set


def _state(cs: ChangeSet) -> str:
    return cs.get_status_display().lower()


def _is_proposer(cs: ChangeSet, actor: Any) -> bool:
    if is_system_actor(actor):
        return actor == cs.proposed_by_label and cs.proposed_by_id is None
    return cs.proposed_by_id == actor.pk


def check_can_approve(actor: Any, cs: ChangeSet) -> None:
    """An approver of the domain (a platform admin counts), not the proposer, on a proposed change set."""
    if is_system_actor(actor) or not grants_for(actor).allows(APPROVE, cs.domain.arn):
        raise ValidationError(f"Only an approver of the domain {cs.domain.name} may decide on this change set.")
    if _is_proposer(cs, actor):
        raise ValidationError("Nobody approves or rejects their own change set; another approver of the domain must.")
    if cs.status != ChangeSet.Status.PROPOSED:
        raise ValidationError(f"This change set is {_state(cs)}; only a proposed change set can be decided.")


check_can_reject = check_can_approve


def check_can_cancel(actor: Any, cs: ChangeSet) -> None:
    is_admin = not is_system_actor(actor) and grants_for(actor).is_admin
    if not _is_proposer(cs, actor) and not is_admin:
        raise ValidationError("Only the person who proposed it (or a platform admin) may cancel this change set.")
    if cs.status != ChangeSet.Status.PROPOSED:
        raise ValidationError(f"This change set is {_state(cs)}; only a proposed change set can be cancelled.")


def check_can_retry(actor: Any, cs: ChangeSet) -> None:
    if not may(actor, APPROVE, cs.domain):
        raise ValidationError(f"Only an approver of {cs.domain.name} may retry this change set.")
    if cs.status != ChangeSet.Status.FAILED:
        raise ValidationError(f"This change set is {_state(cs)}; only a failed change set can be tried again.")


def _revert_blocker(cs: ChangeSet) -> str:
    """Why this change set cannot be reverted ('' when it can)."""
    if cs.status != ChangeSet.Status.APPLIED:
        return f"This change set is {_state(cs)}; only an applied change set can be reverted."
    changes = list(cs.changes.all())
    if not changes or any(c.operation not in IAM_OPERATIONS for c in changes):
        return "Only change sets of IAM policies keep what they replaced; revert other changes with a new edit."
    if any(c.status == Change.Status.APPLIED and "PolicyDocument" not in c.before for c in changes):
        return "The previous document of a policy was not recorded; it cannot be put back."
    for change in changes:
        later = (
            Change.objects.filter(
                change_set__domain_id=cs.domain_id,
                change_set__created_at__gt=cs.created_at,
                resource_arn=change.resource_arn,
                request__PolicyName=change.request.get("PolicyName"),
            )
            .exclude(change_set__status__in=(ChangeSet.Status.REJECTED, ChangeSet.Status.CANCELLED))
            .select_related("change_set")
            .first()
        )
        if later is not None:
            state = later.change_set.get_status_display().lower()
            return f"{later.change_set.ref} ({state}) changes this policy after this one: revert or cancel it first."
    return ""


def check_can_revert(actor: Any, cs: ChangeSet) -> None:
    if is_system_actor(actor) or not grants_for(actor).allows(APPROVE, cs.domain.arn):
        raise ValidationError(f"Only an approver of {cs.domain.name} may revert this change set.")
    blocker = _revert_blocker(cs)
    if blocker:
        raise ValidationError(blocker)


def revert_changes(cs: ChangeSet) -> list[PlannedChange]:
    """The change set's IAM changes undone, last first: each policy back to the document the applier found before
    its call, or deleted when it had none. Changes found already so (skipped) changed nothing and are left out."""
    planned = []
    for change in sorted(cs.changes.all(), key=lambda c: -c.position):
        if change.status != Change.Status.APPLIED:
            continue
        previous = change.before.get("PolicyDocument")
        ids = {"RoleName": change.request["RoleName"], "PolicyName": change.request["PolicyName"]}
        if previous is None:
            planned.append(
                PlannedChange(
                    "DeleteRolePolicy",
                    change.resource_arn,
                    "role",
                    ids,
                    before={"PolicyDocument": change.after.get("PolicyDocument")},
                    after={"PolicyDocument": None},
                )
            )
        else:
            planned.append(
                PlannedChange(
                    "PutRolePolicy",
                    change.resource_arn,
                    "role",
                    {**ids, "PolicyDocument": json.dumps(previous)},
                    before={"PolicyDocument": change.after.get("PolicyDocument")},
                    after={"PolicyDocument": previous},
                )
            )
    return planned


@transaction.atomic
def do_propose_revert(cs: ChangeSet, *, actor: Any) -> ChangeSet:
    """One click: a change set that puts back what ``cs`` replaced, proposed for another approver's approval."""
    cs = _locked(cs)
    check_can_revert(actor, cs)
    planned = revert_changes(cs)
    if not planned:
        raise ValidationError("Nothing to revert: every change of this change set was already so when it ran.")
    return propose(actor, cs.domain, f"Revert {cs.ref}: {cs.title}"[:200], planned, origin=f"revert:{cs.ref}")


def actions_for(actor: Any, cs: ChangeSet) -> dict[str, bool]:
    """What this person may do with the change set now (the page's buttons)."""

    def allowed(check: Any) -> bool:
        try:
            check(actor, cs)
        except ValidationError:
            return False
        return True

    return {
        "can_approve": allowed(check_can_approve),
        "can_reject": allowed(check_can_reject),
        "can_cancel": allowed(check_can_cancel),
        "can_retry": allowed(check_can_retry),
        "can_revert": allowed(check_can_revert),
    }


def _locked(cs: ChangeSet) -> ChangeSet:
    return ChangeSet.objects.select_for_update(of=("self",)).select_related("domain", "domain__account").get(pk=cs.pk)


def _snapshot(cs: ChangeSet) -> dict[str, Any]:
    return {"status": cs.status, "decided_by": cs.decided_by.get_username() if cs.decided_by else None}


def _hand_out(cs: ChangeSet) -> None:
    """Give the change set to a worker once the transaction commits, under a new hand-out token (a task still
    running under an older token stops at its next step). Call before saving."""
    task = task_for(cs)
    token = uuid.uuid4().hex
    cs.task_token, cs.attempts, cs.heartbeat_at = token, cs.attempts + 1, timezone.now()
    transaction.on_commit(lambda: task.apply_async((cs.pk, token)))


@transaction.atomic
def do_approve(cs: ChangeSet, *, actor: Any) -> ChangeSet:
    cs = _locked(cs)
    check_can_approve(actor, cs)
    before = _snapshot(cs)
    cs.status, cs.decided_by, cs.decided_at = ChangeSet.Status.APPROVED, actor, timezone.now()
    cs.progress, cs.error = "Queued: a worker applies it now.", ""
    _hand_out(cs)
    cs.save()
    cs.record("approved", actor=actor, before=before, after=_snapshot(cs))
    return cs


@transaction.atomic
def do_reject(cs: ChangeSet, *, actor: Any, reason: str) -> ChangeSet:
    cs = _locked(cs)
    check_can_reject(actor, cs)
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ValidationError({"reason": ["Say why the change set is rejected; the proposer reads it."]})
    before = _snapshot(cs)
    cs.status, cs.decided_by, cs.decided_at = ChangeSet.Status.REJECTED, actor, timezone.now()
    cs.reason, cs.finished_at = reason[:1000], timezone.now()
    cs.save()
    cs.record("rejected", actor=actor, before=before, after={**_snapshot(cs), "reason": cs.reason})
    return cs


@transaction.atomic
def do_cancel(cs: ChangeSet, *, actor: Any, reason: str = "") -> ChangeSet:
    cs = _locked(cs)
    check_can_cancel(actor, cs)
    before = _snapshot(cs)
    cs.status, cs.finished_at, cs.reason = ChangeSet.Status.CANCELLED, timezone.now(), (reason or "").strip()[:1000]
    cs.save()
    cs.record("cancelled", actor=actor, before=before, after={"status": cs.status})
    return cs


@transaction.atomic
def do_retry(cs: ChangeSet, *, actor: Any) -> ChangeSet:
    """A failed change set goes to a worker again: its failed changes are pending again, applied ones stay."""
    cs = _locked(cs)
    check_can_retry(actor, cs)
    before = {**_snapshot(cs), "error": cs.error}
    cs.changes.filter(status=Change.Status.FAILED).update(status=Change.Status.PENDING)
    cs.status, cs.error, cs.finished_at, cs.wait_until = ChangeSet.Status.APPROVED, "", None, None
    cs.progress = "Queued again: a worker goes on from the first change not applied."
    _hand_out(cs)
    cs.save()
    cs.record("retried", actor=actor, before=before, after={"status": cs.status, "attempts": cs.attempts})
    return cs


@transaction.atomic
def do_hand_out_again(cs: ChangeSet, *, actor: Any = SWEEP_ACTOR) -> ChangeSet | None:
    """The sweep: a change set whose task stopped beating goes to a worker again; None if it is no longer
    stalled. Safe: every change re-reads its resource first and counts what already has its values as done."""
    cs = _locked(cs)
    if not cs.is_stalled:
        return None
    before = {"status": cs.status, "heartbeat_at": cs.heartbeat_at.isoformat() if cs.heartbeat_at else None}
    cs.progress = "Handed to a worker again: the task applying it stopped."
    _hand_out(cs)
    cs.save()
    cs.record("handed_out_again", actor=actor, before=before, after={"status": cs.status, "attempts": cs.attempts})
    return cs
