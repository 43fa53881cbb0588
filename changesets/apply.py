"""Applying an approved change set to AWS, in turns, run by :func:`changesets.tasks.apply_change_set`.

A turn claims the change set (it must still carry the task's hand-out token), then goes through its pending changes
in order. For each one it first re-reads the resource from AWS: when the resource already has the change's
``after`` values the change is done without a call (``skipped``, or ``applied`` when an earlier attempt of this
change set made the call and its worker died before recording it). Otherwise it makes the call, then records the
change as applied before moving on. So every change is made at most once, and a change set resumes where it
stopped, whichever worker picks it up.

No turn waits inside a worker. A change that must wait answers the seconds until the next turn and the change set
shows ``waiting`` with the reason: a change that needs no running app (network changes) while apps of the domain are
InService, Pending or Deleting (named in the message), an app being deleted until it is Deleted, a resource AWS
reports busy (``ResourceInUse``), or AWS throttling that outlasted the portal's retry policy (then the countdown is
that policy's next delay, and the change set is not failed). The first wait sets the deadline on the change set
(``wait_until``, ``CHANGESET_WAIT_SECONDS``); a turn past it fails the change set, which an approver may retry.

``after`` (and ``before``) paths are read from the resource's Describe answer (``DefaultUserSettings.X.Y`` on a
domain, ``UserSettings.X.Y`` on a profile, ``SpaceSettings.X.Y`` on a space, ``Status`` on an app); ``Tags.<key>``
reads the resource's tags.

IAM changes (``PutRolePolicy``, ``DeleteRolePolicy``) go to IAM through the gateway: the role's inline policy is
read first (``GetRole``, ``GetRolePolicy``) and the document found is stored in the change's ``before`` (what a
revert puts back); the account must still let the portal write IAM when the call is made.

After the last change, every touched resource is read again and stored through the inventory writers
(:mod:`profiles.services`, :func:`domains.sync.refresh_domain`), which tell listeners that the resources changed;
resources the inventory does not keep (roles) are read again by the app registered for their kind
(``registry.add_rereader``); then :data:`changesets.signals.change_set_applied` is sent.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from changesets.models import Change, ChangeSet
from changesets.planning import IAM_OPERATIONS
from changesets.signals import change_set_applied
from domains.sync import refresh_domain
from portal.aws import (
    call_with_retries,
    describe_error,
    error_code,
    gateway,
    is_retryable,
    list_all_tags,
    paginate,
    retry_policy,
)
from portal.registry import registry
from profiles import services as inventory
from profiles.models import App, Space, UserProfile

logger = logging.getLogger(__name__)

ACTOR = "change-set task"
GONE = ("ResourceNotFound", "ValidationException")
BUSY_APP_STATES = ("InService", "Pending", "Deleting")
BOTO_METHOD = {
    "UpdateDomain": "update_domain",
    "UpdateUserProfile": "update_user_profile",
    "UpdateSpace": "update_space",
    "AddTags": "add_tags",
    "DeleteApp": "delete_app",
    "PutRolePolicy": "put_role_policy",
    "DeleteRolePolicy": "delete_role_policy",
}
IAM_GONE = ("NoSuchEntity",)
call = call_with_retries
MISSING = object()


class ApplyError(Exception):
    """The change cannot be applied; the message says why (shown on the change set)."""


class Wait(Exception):
    """The change must wait: ``message`` says for what, ``seconds`` until the next turn."""

    def __init__(self, message: str, seconds: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.seconds = settings.PROVISION_POLL_SECONDS if seconds is None else seconds


# -- claiming and beating (the pattern of onboarding's provisioning) -------------------------------------------
def _claim(pk: int, token: str | None) -> ChangeSet | None:
    with transaction.atomic():
        cs = (
            ChangeSet.objects.select_for_update(of=("self",))
            .select_related("domain", "domain__account")
            .filter(pk=pk)
            .first()
        )
        if cs is None or cs.status not in ChangeSet.WORKING or (token or "") != cs.task_token:
            return None
        now = timezone.now()
        fields: dict[str, Any] = {"heartbeat_at": now, "updated_at": now, "status": ChangeSet.Status.APPLYING}
        if cs.status == ChangeSet.Status.APPROVED:
            fields.update(error="", progress="Calling AWS.")
        ChangeSet.objects.filter(pk=pk).update(**fields)
    cs.waited_for = cs.progress if cs.status == ChangeSet.Status.WAITING else ""  # what the last turn waited for
    for name, value in fields.items():
        setattr(cs, name, value)
    return cs


def _owned(cs: ChangeSet) -> QuerySet:
    return ChangeSet.objects.filter(pk=cs.pk, status__in=ChangeSet.WORKING, task_token=cs.task_token)


def _beat(cs: ChangeSet, message: str = "", **fields: Any) -> bool:
    now = timezone.now()
    if message:
        fields["progress"] = message[:300]
    return bool(_owned(cs).update(heartbeat_at=now, updated_at=now, **fields))


# -- reading a resource --------------------------------------------------------------------------------------------
def _client(cs: ChangeSet) -> Any:
    return gateway().sagemaker(region=cs.domain.region, account=cs.domain.account.access)


def _iam_client(cs: ChangeSet) -> Any:
    return gateway().client("iam", region=settings.AWS_DEFAULT_REGION, account=cs.domain.account.access)


def _policy_document(value: Any) -> Any:
    """A policy document as IAM answers it: botocore decodes it to a dict; a URL-encoded string is decoded here."""
    if isinstance(value, str):
        return json.loads(unquote(value) if value.lstrip().startswith("%7B") else value)
    return value


def _describe_role_policy(client: Any, change: Change) -> dict[str, Any] | None:
    """``{"PolicyDocument": document or None}`` for the role's inline policy; None when the role is gone."""
    request = change.request
    try:
        call(client.get_role, RoleName=request["RoleName"])
    except ClientError as exc:
        if error_code(exc) in IAM_GONE:
            return None
        raise
    try:
        answer = call(client.get_role_policy, RoleName=request["RoleName"], PolicyName=request["PolicyName"])
    except ClientError as exc:
        if error_code(exc) in IAM_GONE:
            return {"PolicyDocument": None}
        raise
    return {"PolicyDocument": _policy_document(answer["PolicyDocument"])}


def _describe(client: Any, change: Change) -> dict[str, Any] | None:
    """The resource as AWS has it now (for AddTags: its tags as ``{"Tags": {...}}``); None when it is gone."""
    request = change.request
    if change.operation in IAM_OPERATIONS:
        return _describe_role_policy(client, change)
    try:
        if change.operation == "AddTags":
            return {"Tags": call(list_all_tags, client=client, arn=change.resource_arn)}
        if change.operation == "UpdateDomain":
            return call(client.describe_domain, DomainId=request["DomainId"])
        if change.operation == "UpdateUserProfile":
            ids = {"DomainId": request["DomainId"], "UserProfileName": request["UserProfileName"]}
            return call(client.describe_user_profile, **ids)
        if change.operation == "UpdateSpace":
            return call(client.describe_space, DomainId=request["DomainId"], SpaceName=request["SpaceName"])
        keys = ("DomainId", "AppType", "AppName", "UserProfileName", "SpaceName")
        return call(client.describe_app, **{k: request[k] for k in keys if k in request})
    except ClientError as exc:
        if error_code(exc) in GONE:
            return None
        raise


def value_at(answer: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of a Describe answer (``Tags.<key>``: one tag, whatever its key holds)."""
    if path.startswith("Tags."):
        return answer.get("Tags", {}).get(path[5:], MISSING)
    node: Any = answer
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(current, list) and isinstance(wanted, list):
        return sorted(json.dumps(v, sort_keys=True) for v in current) == sorted(
            json.dumps(v, sort_keys=True) for v in wanted
        )
    return current == wanted


def already_so(answer: dict[str, Any], after: dict[str, Any]) -> bool:
    return all(_same(value_at(answer, path), value) for path, value in after.items())


def _running_apps(client: Any, domain_id: str) -> list[str]:
    apps = call(paginate, client=client, operation="list_apps", key="Apps", DomainIdEquals=domain_id)
    return [
        f"{a['AppType']}/{a['AppName']} on {a.get('SpaceName') or a.get('UserProfileName')} ({a['Status']})"
        for a in apps
        if a.get("Status") in BUSY_APP_STATES
    ]


# -- one change ----------------------------------------------------------------------------------------------------
def _mark(change: Change, status: str, message: str = "", **fields: Any) -> None:
    Change.objects.filter(pk=change.pk).update(status=status, last_error=message[:2000], **fields)
    change.status = status


def _apply_one(cs: ChangeSet, client: Any, change: Change, position: str) -> str:
    """Apply one change, or find it already made: 'applied' or 'skipped'. Raises Wait, ApplyError or AWS errors."""
    if change.needs_no_running_apps:
        running = _running_apps(client, cs.domain.domain_id)
        if running:
            shown = ", ".join(running[:5]) + (f" and {len(running) - 5} more" if len(running) > 5 else "")
            raise Wait(
                f"{position} waits until no app of {cs.domain.name} runs (AWS refuses this change while apps are "
                f"InService, Pending or Deleting): {shown}."
            )
    if change.operation in IAM_OPERATIONS:
        cs.domain.account.refresh_from_db(fields=["portal_writes_iam"])
        if not cs.domain.account.portal_writes_iam:
            raise ApplyError(
                f"{position}: the account {cs.domain.account} no longer lets the portal write IAM (a platform admin "
                f"turned the switch off); nothing was changed in IAM."
            )
        client = _iam_client(cs)
    answer = _describe(client, change)
    done_before = "applied" if change.attempts else "skipped"
    if change.operation == "DeleteApp":
        if answer is None or answer.get("Status") == "Deleted":
            inventory.mark_deleted(App, change.resource_arn)
            return done_before
        if answer.get("Status") == "Deleting":
            raise Wait(f"{position}: the app is Deleting; waiting until it is Deleted.")
    elif answer is None:
        raise ApplyError(f"{position}: the {change.resource_kind} no longer exists in AWS.")
    elif already_so(answer, change.after):
        return done_before
    elif change.operation != "AddTags" and answer.get("Status") in ("Updating", "Pending"):
        raise Wait(f"{position}: the {change.resource_kind} is {answer['Status']}; waiting until it is InService.")
    if change.operation in IAM_OPERATIONS and not change.attempts:
        # What the call replaces, as IAM had it: what a revert puts back. Kept from the first attempt only, so that
        # a retry after a lost answer does not record the portal's own document as the previous one.
        change.before = {"PolicyDocument": answer["PolicyDocument"]}
        Change.objects.filter(pk=change.pk).update(before=change.before)
    Change.objects.filter(pk=change.pk).update(attempts=change.attempts + 1)
    change.attempts += 1
    call(getattr(client, BOTO_METHOD[change.operation]), **change.request)
    cs.record(
        BOTO_METHOD[change.operation],
        actor=ACTOR,
        object_repr=change.resource_name,
        before=change.before or None,
        after={"arn": change.resource_arn, **change.after},
    )
    if change.operation == "DeleteApp":
        answer = _describe(client, change)
        if answer is not None and answer.get("Status") != "Deleted":
            raise Wait(f"{position}: the app is {answer.get('Status')}; waiting until it is Deleted.")
        inventory.mark_deleted(App, change.resource_arn)
    return "applied"


def _wait(cs: ChangeSet, message: str, seconds: float) -> float | None:
    now = timezone.now()
    fields: dict[str, Any] = {"status": ChangeSet.Status.WAITING}
    if cs.wait_until is None:
        cs.wait_until = fields["wait_until"] = now + timedelta(seconds=settings.CHANGESET_WAIT_SECONDS)
    elif now > cs.wait_until:
        raise ApplyError(
            f"Still waiting after {settings.CHANGESET_WAIT_SECONDS} s: {message} Retry later; the changes already "
            f"applied are not made again."
        )
    first = getattr(cs, "waited_for", "") != message[:300]
    if not _beat(cs, message, **fields):
        return None
    if first:
        cs.record("waiting", actor=ACTOR, after={"status": "waiting", "why": message})
    cs.status = ChangeSet.Status.WAITING
    return seconds


def _fail(cs: ChangeSet, change: Change | None, message: str) -> None:
    with transaction.atomic():
        if not _owned(cs).update(
            status=ChangeSet.Status.FAILED, error=message, progress="", wait_until=None, finished_at=timezone.now()
        ):
            return
        if change is not None:
            _mark(change, Change.Status.FAILED, message)
        cs.record("failed", actor=ACTOR, after={"status": "failed", "error": message})


def apply_turn(pk: int, token: str | None = None) -> float | None:
    """One turn of applying a change set: seconds until the next turn, or None when there is none."""
    cs = _claim(pk, token)
    if cs is None:
        return None
    client = _client(cs)
    changes = list(cs.changes.filter(status=Change.Status.PENDING).order_by("position"))
    total = cs.changes.count()
    for change in changes:
        position = f"Change {change.position + 1} of {total} ({change.operation} {change.resource_name})"
        if not _beat(cs, f"{position}."):
            return None
        try:
            outcome = _apply_one(cs, client, change, position)
        except Wait as wait:
            try:
                return _wait(cs, wait.message, wait.seconds)
            except ApplyError as exc:
                _fail(cs, change, str(exc))
                return None
        except ApplyError as exc:
            _fail(cs, change, str(exc))
            return None
        except (ClientError, BotoCoreError) as exc:
            reason = describe_error(exc)
            Change.objects.filter(pk=change.pk).update(last_error=reason[:2000])
            try:
                if is_retryable(exc):  # the retry policy gave up for now: the change set waits, it is not failed
                    delay = retry_policy().delay(min(change.attempts, 6))
                    return _wait(cs, f"{position}: AWS is busy ({reason}); trying again in {delay:.0f} s.", delay)
                if error_code(exc) == "ResourceInUse":
                    return _wait(cs, f"{position}: AWS says the resource is busy ({reason}).", None)
            except ApplyError as wait_exc:
                _fail(cs, change, str(wait_exc))
                return None
            _fail(cs, change, f"{position}: {reason}")
            return None
        _mark(change, outcome, applied_at=timezone.now())
        if cs.wait_until is not None:  # the next change gets a deadline of its own
            cs.wait_until = None
            _owned(cs).update(wait_until=None)
    return _finish(cs, client)


def _reread(cs: ChangeSet, client: Any) -> list[str]:
    """Read every touched resource from AWS again and store it in the inventory; the ARNs read."""
    touched: dict[str, str] = {}
    for kind, arn in cs.changes.values_list("resource_kind", "resource_arn").order_by("position"):
        touched.setdefault(arn, kind)
    domain = cs.domain
    elsewhere: dict[str, list[str]] = {}
    for arn, kind in touched.items():
        if kind not in ("domain", "profile", "space", "app"):
            elsewhere.setdefault(kind, []).append(arn)
    for kind, arns in elsewhere.items():  # e.g. roles: the app that keeps them reads them again (portal registry)
        reread = registry.rereaders.get(kind)
        if reread is not None:
            reread(domain, arns)
    for arn, kind in touched.items():
        if kind == "domain":
            refresh_domain(domain)
        elif kind == "profile":
            profile = UserProfile.objects.select_related("owner").filter(arn=arn).first()
            if profile is None:
                continue
            ids = {"DomainId": domain.domain_id, "UserProfileName": profile.name}
            answer = call(client.describe_user_profile, **ids)
            inventory.store_profile(domain, answer, call(list_all_tags, client=client, arn=arn), owner=profile.owner)
        elif kind == "space":
            space = Space.objects.select_related("owner_profile").filter(arn=arn).first()
            if space is None:
                continue
            answer = call(client.describe_space, DomainId=domain.domain_id, SpaceName=space.name)
            tags = call(list_all_tags, client=client, arn=arn)
            inventory.store_space(domain, answer, tags, owner_profile=space.owner_profile)
    return list(touched)


def _finish(cs: ChangeSet, client: Any) -> float | None:
    if not _beat(cs, "Every change is made; reading the resources again."):
        return None
    try:
        arns = _reread(cs, client)
    except (ClientError, BotoCoreError) as exc:
        if is_retryable(exc):
            return _wait(cs, f"Reading the resources again: AWS is busy ({describe_error(exc)}).", None)
        arns = []
        logger.warning("Change set %s applied; reading the resources again failed: %s", cs.ref, describe_error(exc))
    counts = {s: cs.changes.filter(status=s).count() for s in (Change.Status.APPLIED, Change.Status.SKIPPED)}
    now = timezone.now()
    message = f"Applied: {counts['applied']} change(s) made, {counts['skipped']} already so."
    with transaction.atomic():
        if not _owned(cs).update(
            status=ChangeSet.Status.APPLIED, progress=message, finished_at=now, wait_until=None, updated_at=now
        ):
            return None
        cs.status = ChangeSet.Status.APPLIED
        cs.record("applied", actor=ACTOR, after={"status": "applied", **counts})
        finding_ids, applied = list(cs.finding_ids), cs
        transaction.on_commit(
            lambda: change_set_applied.send(
                sender=ChangeSet, change_set=applied, finding_ids=finding_ids, resource_arns=arns
            )
        )
    return None


def stalled() -> list[ChangeSet]:
    """Change sets whose task stopped beating for PROVISION_STALE_SECONDS: its worker died, or the queue lost it."""
    cutoff = timezone.now() - timedelta(seconds=settings.PROVISION_STALE_SECONDS)
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, updated_at__lt=cutoff)
    return list(ChangeSet.objects.filter(silent, status__in=ChangeSet.WORKING).order_by("pk"))
