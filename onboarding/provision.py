"""The AWS side of onboarding, run by Celery tasks: create profiles and spaces, wait until InService, delete
expired spaces, carry out offboarding plans.

No task waits for AWS inside a worker: a provisioning turn creates the resource (or asks once whether it is
InService yet) and answers how many seconds until the next turn; the task re-enqueues itself with that countdown
until the deadline stored on the request (``wait_until``). Deletions go the same way: a space's apps are deleted,
turns come back until every app is Deleted, then the space is deleted and turns come back until it is gone; an
offboarding step is done only when AWS finished it. Each turn refreshes the work's heartbeat.

Every function is safe to run twice. A task takes the hand-out token it was enqueued with and works only while the
row still carries that token: when its worker died, the sweep (or an approver's "retry now") hands the work out
again under a new token and a late or redelivered task of the old one stops. A create that already happened answers
ResourceInUse and the resource is adopted when its ``portal:request-id`` tag names this request; a delete of what is
already gone counts as done. Throttling and AWS 5xx errors are retried under the portal's retry policy before a
request is marked failed. The inventory rows of what is created or deleted are written by :mod:`profiles.services`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from domains.models import Domain
from onboarding import notify
from onboarding.models import ApprovedWork, Offboarding, OffboardingStep, ProfileRequest, Request, SpaceRequest
from portal.aws import call_with_retries, describe_error, error_code, gateway, list_all_tags, paginate
from portal.roles import do_close_login
from profiles import services as inventory
from profiles.models import App, Space, UserProfile

logger = logging.getLogger(__name__)

ACTOR = "provisioning task"
REQUEST_TAG = "portal:request-id"
APPROVER_TAG = "portal:approver"
OWNER_TAG = "owner"
GONE = ("ResourceNotFound", "ValidationException")  # a delete of what no longer exists
FAILED_STATES = ("Failed", "Delete_Failed", "Update_Failed", "Deleting")
PROVISIONABLE = (Request.Status.APPROVED, Request.Status.PROVISIONING)

# One AWS call, retried under the portal's retry policy on throttling, 5xx and connection trouble.
call = call_with_retries


class ProvisioningError(Exception):
    """The request cannot be carried out as asked; the message says why (shown on the request)."""


def _client(domain: Any) -> Any:
    return gateway().sagemaker(region=domain.region, account=domain.account.access)


def _tags(client: Any, arn: str) -> dict[str, str]:
    return call(list_all_tags, client=client, arn=arn)


REQUEST_RELATED = ("domain", "domain__account", "requested_by", "decided_by")


def _claim(
    model: type[Any],
    pk: int,
    token: str | None,
    states: tuple[str, ...],
    working: str,
    related: tuple[str, ...] = REQUEST_RELATED,
) -> Any:
    """Take the request (or plan) for this turn if it is in one of ``states`` and still carries this task's hand-out
    token, refreshing its heartbeat; None when there is nothing to do (another task finished it, it was cancelled,
    or it was handed out again after this task's worker was given up for dead)."""
    with transaction.atomic():
        work = model.objects.select_for_update(of=("self",)).select_related(*related).filter(pk=pk).first()
        if work is None or work.status not in states or (token or "") != work.task_token:
            return None
        now = timezone.now()
        fields: dict[str, Any] = {"heartbeat_at": now, "updated_at": now}
        if work.status != working:
            fields.update(status=working, error="", progress="Calling AWS.")
        model.objects.filter(pk=pk).update(**fields)
    for name, value in fields.items():
        setattr(work, name, value)
    return work


def _owned(work: ApprovedWork) -> QuerySet:
    """The work's row, as long as it is still this task's: working, under the token the task claimed it with."""
    return type(work).objects.filter(pk=work.pk, status__in=type(work).WORKING, task_token=work.task_token)


def _beat(work: ApprovedWork, message: str = "", **fields: Any) -> bool:
    """Refresh the heartbeat (and the progress shown, and ``fields``); False when the work is no longer this
    task's, which then stops."""
    now = timezone.now()
    if message:
        fields["progress"] = message[:300]
    return bool(_owned(work).update(heartbeat_at=now, updated_at=now, **fields))


def _progress(req: Any, message: str) -> None:
    _beat(req, message)


def _fail(req: Request, message: str) -> None:
    with transaction.atomic():
        before = {"status": req.status}
        failed = _owned(req).update(
            status=Request.Status.FAILED,
            error=message,
            progress="",
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not failed:
            return  # handed out again meanwhile: the newer task reports
        req.record("failed", actor=ACTOR, before=before, after={"status": "failed", "error": message})
    notify.send(
        f"[{req.request_id}] Failed: {req}",
        f"The portal could not create {req} in AWS.\n\n{message}\n\nAn approver or you can try again from "
        f"the request: {notify.link(req)}\n",
        notify.people_emails(req.requested_by, getattr(req, "person", None)),
    )


def _create_or_adopt(
    req: Request,
    create: Callable[[], dict[str, Any]],
    describe: Callable[[], dict[str, Any]],
    arn_key: str,
    what: str,
    client: Any,
) -> str:
    """Create the resource, or adopt the one an earlier attempt of this same request created."""
    try:
        answer = call(create)
    except ClientError as exc:
        if error_code(exc) != "ResourceInUse":
            raise
        arn = call(describe)[arn_key]
        tag = _tags(client, arn).get(REQUEST_TAG)
        if tag != req.request_id:
            raise ProvisioningError(
                f"A {what} with this name already exists in {req.domain.name} and was not created by this request "
                f"(its {REQUEST_TAG} tag is {tag or 'missing'}). Nothing was changed; cancel this request or ask an "
                f"admin to find who owns it."
            ) from exc
        _progress(req, f"Adopted the {what} an earlier attempt of this request created.")
        req.record(f"aws.adopt_{what.replace(' ', '_')}", actor=ACTOR, after={"arn": arn})
        return arn
    arn = answer[arn_key]
    req.record(f"aws.create_{what.replace(' ', '_')}", actor=ACTOR, after={"arn": arn})
    return arn


def _provision_turn(
    req: Request,
    client: Any,
    *,
    create: Callable[[], dict[str, Any]],
    describe: Callable[[], dict[str, Any]],
    arn_field: str,
    arn_key: str,
    what: str,
    store: Callable[[dict[str, Any], dict[str, str]], Any],
    done: Callable[[Any], tuple[str, dict[str, Any]]],
) -> float | None:
    """One turn: create (or adopt) the resource unless an earlier turn did, then ask AWS once whether it is
    InService. Seconds until the next turn while AWS is still creating it; None when the request is active, failed
    (with the reason), or no longer this task's."""
    try:
        arn = getattr(req, arn_field)
        if not arn:
            arn = _create_or_adopt(req, create, describe, arn_key, what, client)
            req.wait_until = req.wait_until or timezone.now() + timedelta(seconds=settings.PROVISION_WAIT_SECONDS)
            if not _beat(req, **{arn_field: arn, "wait_until": req.wait_until}):
                return None
        answer = call(describe)
        status = answer.get("Status", "")
        if status == "InService":
            message, fields = done(store(answer, _tags(client, arn)))
            _finish(req, message, **fields)
            return None
        if status in FAILED_STATES:
            raise ProvisioningError(f"AWS reports the {what} as {status}: {answer.get('FailureReason') or 'no reason'}")
        now = timezone.now()
        if req.wait_until is not None and now > req.wait_until:
            raise ProvisioningError(
                f"The {what} was still {status} after {settings.PROVISION_WAIT_SECONDS} s; try "
                f"again later (it is adopted, not created twice)."
            )
        checked = f"Waiting for AWS: the {what} is {status or 'being created'} (checked at {now:%H:%M:%S})."
        return settings.PROVISION_POLL_SECONDS if _beat(req, checked) else None
    except (ClientError, BotoCoreError) as exc:
        _fail(req, describe_error(exc))
    except ProvisioningError as exc:
        _fail(req, str(exc))
    return None


def _request_tags(req: Request, owner: str) -> list[dict[str, str]]:
    approver = req.decided_by.get_username() if req.decided_by else "quota"
    return [
        {"Key": OWNER_TAG, "Value": owner},
        {"Key": REQUEST_TAG, "Value": req.request_id},
        {"Key": APPROVER_TAG, "Value": approver},
    ]


def _finish(req: Request, message: str, **fields: Any) -> None:
    with transaction.atomic():
        finished = _owned(req).update(
            status=Request.Status.ACTIVE,
            progress=message,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            **fields,
        )
        if not finished:
            return  # handed out again meanwhile: the newer task finishes it
        req.record(
            "active",
            actor=ACTOR,
            before={"status": "provisioning"},
            after={"status": "active", **{k: str(v) for k, v in fields.items()}},
        )
    notify.send(
        f"[{req.request_id}] Ready: {req}",
        f"{req} is InService.\n\n{message}\n\nSee it: {notify.link(req)}\n",
        notify.people_emails(req.requested_by, getattr(req, "person", None)),
    )


def provision_profile(pk: int, token: str | None = None) -> float | None:
    """One turn of provisioning a profile request: seconds until the next turn, or None when there is none."""
    req = _claim(
        ProfileRequest, pk, token, PROVISIONABLE, Request.Status.PROVISIONING, (*REQUEST_RELATED, "person", "template")
    )
    if req is None:
        return None
    assert isinstance(req, ProfileRequest)
    domain = req.domain
    client = _client(domain)
    ids = {"DomainId": domain.domain_id, "UserProfileName": req.profile_name}

    def create() -> dict[str, Any]:
        params: dict[str, Any] = {
            **ids,
            "UserSettings": req.template.user_settings(),
            "Tags": _request_tags(req, req.person.get_username()),
        }
        if domain.auth_mode == "SSO":
            params.update(SingleSignOnUserIdentifier="UserName", SingleSignOnUserValue=req.sso_user_name)
        return client.create_user_profile(**params)

    def done(profile: UserProfile) -> tuple[str, dict[str, Any]]:
        return f"User profile {profile.name} is InService.", {"profile": profile, "profile_arn": profile.arn}

    return _provision_turn(
        req,
        client,
        create=create,
        describe=lambda: client.describe_user_profile(**ids),
        arn_field="profile_arn",
        arn_key="UserProfileArn",
        what="user profile",
        store=lambda answer, tags: inventory.store_profile(domain, answer, tags, owner=req.person),
        done=done,
    )


def provision_space(pk: int, token: str | None = None) -> float | None:
    """One turn of provisioning a shared space request: seconds until the next turn, or None when there is none."""
    req = _claim(
        SpaceRequest, pk, token, PROVISIONABLE, Request.Status.PROVISIONING, (*REQUEST_RELATED, "owner_profile")
    )
    if req is None:
        return None
    assert isinstance(req, SpaceRequest)
    domain = req.domain
    client = _client(domain)
    ids = {"DomainId": domain.domain_id, "SpaceName": req.space_name}
    app_key = "JupyterLabAppSettings" if req.app_type == "JupyterLab" else "CodeEditorAppSettings"
    space_settings = {
        "AppType": req.app_type,
        app_key: {
            "DefaultResourceSpec": {"InstanceType": req.instance_type},
            "AppLifecycleManagement": {"IdleSettings": {"IdleTimeoutInMinutes": req.idle_timeout_minutes}},
        },
        "SpaceStorageSettings": {"EbsStorageSettings": {"EbsVolumeSizeInGb": req.ebs_size_gb}},
    }
    owner = req.owner_profile
    params = {
        **ids,
        "SpaceDisplayName": req.display_name,
        "SpaceSettings": space_settings,
        "OwnershipSettings": {"OwnerUserProfileName": owner.name},
        "SpaceSharingSettings": {"SharingType": "Shared"},
        "Tags": [
            *_request_tags(req, req.requested_by.get_username()),
            {"Key": "portal:expires-on", "Value": req.expires_on.isoformat()},
        ],
    }

    def done(space: Space) -> tuple[str, dict[str, Any]]:
        message = f"Shared space {space.name} is InService, owned by {owner.name}."
        return message, {"space": space, "space_arn": space.arn}

    return _provision_turn(
        req,
        client,
        create=lambda: client.create_space(**params),
        describe=lambda: client.describe_space(**ids),
        arn_field="space_arn",
        arn_key="SpaceArn",
        what="space",
        store=lambda answer, tags: inventory.store_space(domain, answer, tags, owner_profile=owner),
        done=done,
    )


def _delete(method: Callable[..., Any], **params: Any) -> str:
    """An idempotent delete: 'deleted', or 'already gone' when AWS no longer has it."""
    try:
        call(method, **params)
    except ClientError as exc:
        if error_code(exc) in GONE:
            return "already gone"
        raise
    return "deleted"


def _wait(work: ApprovedWork, what: str) -> float | None:
    """Another turn after PROVISION_POLL_SECONDS while AWS is still deleting ``what``: the first wait sets the
    deadline on the work (``wait_until``, DELETION_WAIT_SECONDS away); a turn past it gives up."""
    now = timezone.now()
    fields: dict[str, Any] = {}
    if work.wait_until is None:
        work.wait_until = fields["wait_until"] = now + timedelta(seconds=settings.DELETION_WAIT_SECONDS)
    elif now > work.wait_until:
        raise ProvisioningError(
            f"AWS was still deleting after {settings.DELETION_WAIT_SECONDS} s: {what}. Try again later; every step "
            f"counts what is already gone as done."
        )
    checked = f"Waiting for AWS: {what} (checked at {now:%H:%M:%S})."
    return settings.PROVISION_POLL_SECONDS if _beat(work, checked, **fields) else None


def _deletion_turn(
    describe: Callable[[], dict[str, Any]], delete: Callable[[], Any], *, started: bool, deleted: str = ""
) -> str | None:
    """Ask AWS once where a deletion stands and start it if nobody has: 'deleted' or 'already gone' when it is done
    (the resource is gone, or shows ``deleted``, the status of a deleted app), None while AWS is still deleting."""

    def status() -> str | None:
        try:
            return call(describe).get("Status", "")
        except ClientError as exc:
            if error_code(exc) in GONE:
                return None
            raise

    current = status()
    if current is None or (deleted and current == deleted):
        return "deleted" if started else "already gone"
    if current != "Deleting":
        if _delete(delete) == "already gone":
            return "deleted" if started else "already gone"
        current = status()  # instant on a sandbox without lifecycle times
        if current is None or (deleted and current == deleted):
            return "deleted"
    return None


def _space_removal_turn(
    client: Any, domain_id: str, space_name: str, arn: str, *, started: bool
) -> tuple[str | None, str]:
    """One turn of removing a space: delete its apps, come back until every app is Deleted (AWS answers
    ResourceInUse to DeleteSpace until then), delete the space, come back until it is gone, then mark it removed in
    the inventory (kept, with history). Answers the outcome ('deleted', 'already gone'; None while AWS is still
    deleting) and what is going on. Safe to repeat."""
    ids = {"DomainId": domain_id, "SpaceName": space_name}

    def apps() -> list[dict[str, Any]]:
        return call(
            paginate,
            client=client,
            operation="list_apps",
            key="Apps",
            DomainIdEquals=domain_id,
            SpaceNameEquals=space_name,
        )

    listed = apps()
    live = [a for a in listed if a.get("Status") not in ("Deleted", "Deleting")]
    for app in live:
        _delete(client.delete_app, **ids, AppType=app["AppType"], AppName=app["AppName"])
    if live or any(a.get("Status") == "Deleting" for a in listed):
        listed = apps()
    busy = [a for a in listed if a.get("Status") != "Deleted"]
    if busy:
        return None, f"{len(busy)} app(s) of space {space_name} are still Deleting"
    outcome = _deletion_turn(
        lambda: client.describe_space(**ids),
        lambda: client.delete_space(**ids),
        started=started or bool(live),
    )
    if outcome is None:
        return None, f"space {space_name} is Deleting"
    inventory.mark_deleted(Space, arn)
    return outcome, f"Space {outcome}; its apps were deleted first."


def delete_space(pk: int, token: str | None = None) -> float | None:
    """One turn of deleting an expired shared space (its apps first), approved by an approver: seconds until the
    next turn while AWS is still deleting, or None when there is none."""
    req = _claim(SpaceRequest, pk, token, (Request.Status.DELETING,), Request.Status.DELETING)
    if req is None:
        return None
    domain = req.domain
    client = _client(domain)
    try:
        outcome, message = _space_removal_turn(
            client, domain.domain_id, req.space_name, req.space_arn, started=req.wait_until is not None
        )
        if outcome is None:
            return _wait(req, message)
    except (ClientError, BotoCoreError, ProvisioningError) as exc:
        error = str(exc) if isinstance(exc, ProvisioningError) else describe_error(exc)
        with transaction.atomic():
            if _owned(req).update(
                error=error, status=Request.Status.EXPIRED, progress="", wait_until=None, updated_at=timezone.now()
            ):
                req.record("deletion_failed", actor=ACTOR, after={"error": error})
        return None
    now = timezone.now()
    with transaction.atomic():
        deleted = _owned(req).update(
            status=Request.Status.DELETED, finished_at=now, progress=message, wait_until=None, updated_at=now
        )
        if deleted:
            req.record(
                "aws.delete_space",
                actor=ACTOR,
                before={"status": "deleting"},
                after={"status": "deleted", "outcome": outcome},
            )
    return None


# -- offboarding ------------------------------------------------------------------------------------------------
def _run_step(step: OffboardingStep, domain: Domain | None, *, started: bool) -> tuple[str | None, str]:
    """One turn of a step: its outcome ('deleted', 'already gone', 'flagged'), or None and what AWS is still doing
    (the next turn comes back to the same step: no step starts before AWS finished the one before)."""
    if step.action == OffboardingStep.Action.FLAG_SHARED_SPACE:
        return (
            "flagged",
            "Flagged: SageMaker cannot give a space another owner; recreate it under a teammate's profile.",
        )
    if step.action == OffboardingStep.Action.CLOSE_LOGIN:
        return _close_login(step)
    if domain is None:
        raise ProvisioningError(f"The domain {step.domain_name} is no longer in the inventory.")
    client = _client(domain)
    params = dict(step.params)
    if step.action == OffboardingStep.Action.DELETE_APP:
        outcome = _deletion_turn(
            lambda: client.describe_app(**params),
            lambda: client.delete_app(**params),
            started=started,
            deleted="Deleted",
        )
        waiting = f"{step.target} is Deleting"
        if outcome is not None:
            inventory.mark_deleted(App, step.resource_arn)
    elif step.action == OffboardingStep.Action.DELETE_SPACE:
        outcome, waiting = _space_removal_turn(
            client, params["DomainId"], params["SpaceName"], step.resource_arn, started=started
        )
    else:
        outcome = _deletion_turn(
            lambda: client.describe_user_profile(**params),
            lambda: client.delete_user_profile(**params),
            started=started,
        )
        waiting = f"{step.target} is Deleting"
        if outcome is not None:
            inventory.mark_deleted(UserProfile, step.resource_arn)
            ProfileRequest.objects.filter(profile_arn=step.resource_arn, status=Request.Status.ACTIVE).update(
                status=Request.Status.DELETED, updated_at=timezone.now()
            )
    if outcome is None:
        return None, waiting
    step.offboarding.record(
        f"aws.{step.action}",
        actor=ACTOR,
        domain_arn=step.domain_arn,
        object_repr=step.target,
        after={"arn": step.resource_arn, "outcome": outcome},
    )
    return outcome, outcome.capitalize() + "."


def _close_login(step: OffboardingStep) -> tuple[str, str]:
    """The final step: the person's portal login loses its roles and API tokens and is deactivated (audited by
    :func:`portal.roles.do_close_login`; running it again changes nothing more)."""
    offboarding = step.offboarding
    login = offboarding.login or offboarding.person.portal_user
    if login is None:
        return "nothing to close", "The person has no portal login."
    closed = do_close_login(login, actor=ACTOR, reason=f"{offboarding.request_id}: {offboarding.reason}")
    return (
        "closed",
        f"Portal login {login.get_username()} deactivated; {closed['roles']} role(s) removed, "
        f"{closed['tokens']} API token(s) revoked.",
    )


def run_offboarding(pk: int, token: str | None = None) -> float | None:
    """One turn of a plan: carry out its pending steps in order, refreshing the heartbeat before each, until one
    waits for AWS (seconds until the next turn, which goes on from that step) or every step is done (None). Stops
    when the plan was handed out again meanwhile (the newer task goes on from the last step that finished)."""
    offboarding = _claim(
        Offboarding,
        pk,
        token,
        Offboarding.WORKING,
        Offboarding.Status.RUNNING,
        ("person", "person__portal_user", "login", "requested_by"),
    )
    if offboarding is None:
        return None
    steps = list(offboarding.steps.filter(state=OffboardingStep.State.PENDING).order_by("position"))
    domains = {d.arn: d for d in Domain.objects.filter(arn__in={s.domain_arn for s in steps}).select_related("account")}
    for step in steps:
        step.offboarding = offboarding
        if not _beat(offboarding, f"Step {step.position + 1}: {step}"):
            return None
        try:
            outcome, message = _run_step(step, domains.get(step.domain_arn), started=offboarding.wait_until is not None)
            if outcome is None:
                return _wait(offboarding, f"step {step.position + 1}: {message}")
        except (ClientError, BotoCoreError, ProvisioningError) as exc:
            reason = str(exc) if isinstance(exc, ProvisioningError) else describe_error(exc)
            error = f"Step {step.position + 1} ({step}): {reason}"
            with transaction.atomic():
                if not _owned(offboarding).update(
                    status=Offboarding.Status.FAILED,
                    error=error,
                    progress="",
                    wait_until=None,
                    updated_at=timezone.now(),
                ):
                    return None
                OffboardingStep.objects.filter(pk=step.pk).update(
                    state=OffboardingStep.State.FAILED, message=reason[:1000]
                )
                offboarding.record(
                    "failed", actor=ACTOR, domain_arn=step.domain_arn, after={"status": "failed", "error": error}
                )
            notify.send(
                f"[{offboarding.request_id}] Offboarding stopped",
                f"{error}\n\nResume it once the cause is fixed: {notify.link(offboarding)}\n",
                notify.people_emails(offboarding.requested_by),
            )
            return None
        state = OffboardingStep.State.FLAGGED if outcome == "flagged" else OffboardingStep.State.DONE
        OffboardingStep.objects.filter(pk=step.pk).update(state=state, message=message, done_at=timezone.now())
        if offboarding.wait_until is not None:  # the next step gets a deadline of its own
            offboarding.wait_until = None
            _owned(offboarding).update(wait_until=None)
    now = timezone.now()
    with transaction.atomic():
        if not _owned(offboarding).update(
            status=Offboarding.Status.DONE, progress="Every step is done.", finished_at=now, updated_at=now
        ):
            return None
        offboarding.record("done", actor=ACTOR, before={"status": "running"}, after={"status": "done"})
    notify.send(
        f"[{offboarding.request_id}] Offboarding done",
        f"{offboarding.person} is out of SageMaker. See what was done: {notify.link(offboarding)}\n",
        notify.people_emails(offboarding.requested_by),
    )
    return None


# -- scheduled --------------------------------------------------------------------------------------------------
def check_space_expiry() -> dict[str, int]:
    """Remind leads of spaces that expire soon; propose expired spaces for deletion."""
    today = timezone.localdate()
    soon = today + timedelta(days=settings.SPACE_EXPIRY_REMINDER_DAYS)
    reminded = expired = 0
    live = SpaceRequest.objects.filter(status=Request.Status.ACTIVE).select_related("domain", "requested_by")
    for req in live.filter(expires_on__gt=today, expires_on__lte=soon, reminded_at__isnull=True):
        with transaction.atomic():
            SpaceRequest.objects.filter(pk=req.pk).update(reminded_at=timezone.now())
            req.record("expiry_reminder", actor="expiry check", after={"expires_on": req.expires_on.isoformat()})
        notify.send(
            f"[{req.request_id}] Shared space {req.space_name} expires on {req.expires_on:%Y-%m-%d}",
            f"The shared space {req.space_name} in {req.domain.name} expires in {req.days_left} day(s). "
            f"At expiry it is proposed for deletion. Extend it if the team still needs it: "
            f"{notify.link(req)}\n",
            notify.people_emails(req.requested_by),
        )
        reminded += 1
    for req in live.filter(expires_on__lte=today):
        with transaction.atomic():
            SpaceRequest.objects.filter(pk=req.pk).update(status=Request.Status.EXPIRED, updated_at=timezone.now())
            req.record("expired", actor="expiry check", before={"status": "active"}, after={"status": "expired"})
        notify.send(
            f"[{req.request_id}] Shared space {req.space_name} expired: deletion proposed",
            f"The shared space {req.space_name} in {req.domain.name} expired on {req.expires_on:%Y-%m-%d}. "
            f"An approver can delete it, or the lead can extend it: {notify.link(req)}\n",
            sorted({*notify.people_emails(req.requested_by), *notify.approver_emails([req.domain.arn])}),
        )
        expired += 1
    return {"reminded": reminded, "expired": expired}


def stalled() -> list[ApprovedWork]:
    """Work whose task stopped beating for PROVISION_STALE_SECONDS: its worker died, or the queue lost it."""
    cutoff = timezone.now() - timedelta(seconds=settings.PROVISION_STALE_SECONDS)
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, updated_at__lt=cutoff)
    work: list[ApprovedWork] = []
    for model in (ProfileRequest, SpaceRequest, Offboarding):
        work += model.objects.filter(silent, status__in=model.WORKING).order_by("pk")
    return work
