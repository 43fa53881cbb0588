"""The AWS side of onboarding, run by Celery tasks: create profiles and spaces, wait until InService, delete
expired spaces, carry out offboarding plans.

Every function is safe to run twice. A task claims its request by state under a row lock, so a redelivered task
(the worker died) picks up where the first left off: a create that already happened answers ResourceInUse and the
resource is adopted when its ``portal:request-id`` tag names this request; a delete of what is already gone counts
as done. Throttling and AWS 5xx errors are retried with backoff before a request is marked failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from domains.models import Domain
from onboarding import notify
from onboarding.models import Offboarding, OffboardingStep, ProfileRequest, Request, SpaceRequest
from portal.aws import call_with_retries, describe_error, error_code, gateway, list_all_tags
from profiles.models import App, Space, UserProfile
from profiles.sync import profile_values, space_values

logger = logging.getLogger(__name__)

ACTOR = "provisioning task"
REQUEST_TAG = "portal:request-id"
APPROVER_TAG = "portal:approver"
OWNER_TAG = "owner"
GONE = ("ResourceNotFound", "ValidationException")  # a delete of what no longer exists


class ProvisioningError(Exception):
    """The request cannot be carried out as asked; the message says why (shown on the request)."""


# One AWS call, retried under the portal's retry policy on throttling, 5xx and connection trouble.
call = call_with_retries


def _client(domain: Any) -> Any:
    return gateway().sagemaker(region=domain.region, account=domain.account.access)


def _tags(client: Any, arn: str) -> dict[str, str]:
    return call(list_all_tags, client=client, arn=arn)


REQUEST_RELATED = ("domain", "domain__account", "requested_by", "decided_by")


def _claim(
    model: type[Any], pk: int, states: tuple[str, ...], working: str, related: tuple[str, ...] = REQUEST_RELATED
) -> Any:
    """Take the request (or plan) for this run if it is in one of ``states``, counting the attempt; None when
    there is nothing to do (another run finished it, or it was cancelled)."""
    with transaction.atomic():
        work = model.objects.select_for_update().filter(pk=pk).first()
        if work is None or work.status not in states:
            return None
        work.status, work.attempts, work.error = working, work.attempts + 1, ""
        work.progress = "Calling AWS."
        work.save()
    return model.objects.select_related(*related).get(pk=pk)


def _progress(req: Any, message: str) -> None:
    type(req).objects.filter(pk=req.pk).update(progress=message[:300], updated_at=timezone.now())


def _fail(req: Request, message: str) -> None:
    with transaction.atomic():
        before = {"status": req.status}
        type(req).objects.filter(pk=req.pk).update(
            status=Request.Status.FAILED,
            error=message,
            progress="",
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        req.record("failed", actor=ACTOR, before=before, after={"status": "failed", "error": message})
    notify.send(
        f"[{req.request_id}] Failed: {req}",
        f"The portal could not create {req} in AWS.\n\n{message}\n\nAn approver or you can try again from "
        f"the request: {notify.link(req)}\n",
        notify.people_emails(req.requested_by, getattr(req, "person", None)),
    )


def _wait_in_service(req: Request, describe: Callable[[], dict[str, Any]], what: str) -> dict[str, Any]:
    deadline = time.monotonic() + settings.PROVISION_WAIT_SECONDS
    checks = 0
    while True:
        answer = call(describe)
        status = answer.get("Status", "")
        checks += 1
        if status == "InService":
            return answer
        if status in ("Failed", "Delete_Failed", "Update_Failed", "Deleting"):
            raise ProvisioningError(f"AWS reports the {what} as {status}: {answer.get('FailureReason') or 'no reason'}")
        if time.monotonic() > deadline:
            raise ProvisioningError(
                f"The {what} was still {status} after {settings.PROVISION_WAIT_SECONDS} s; try "
                f"again later (it is adopted, not created twice)."
            )
        _progress(req, f"Waiting for AWS: the {what} is {status or 'being created'} (check {checks}).")
        time.sleep(settings.PROVISION_POLL_SECONDS)


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


def _create_and_wait(
    req: Request,
    client: Any,
    create: Callable[[], dict[str, Any]],
    describe: Callable[[], dict[str, Any]],
    arn_key: str,
    what: str,
) -> tuple[str, dict[str, Any]] | None:
    """Create (or adopt) the resource and wait until it is InService: its ARN and last description, or None after
    marking the request failed with the reason."""
    try:
        arn = _create_or_adopt(req, create, describe, arn_key, what, client)
        return arn, _wait_in_service(req, describe, what)
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
        type(req).objects.filter(pk=req.pk).update(
            status=Request.Status.ACTIVE,
            progress=message,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            **fields,
        )
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


def provision_profile(pk: int) -> None:
    req = _claim(ProfileRequest, pk, ("approved", "provisioning"), "provisioning")
    if req is None:
        return
    assert isinstance(req, ProfileRequest)
    domain = req.domain
    client = _client(domain)
    ids = {"DomainId": domain.domain_id, "UserProfileName": req.profile_name}
    params: dict[str, Any] = {
        **ids,
        "UserSettings": req.template.user_settings(),
        "Tags": _request_tags(req, req.person.get_username()),
    }
    if domain.auth_mode == "SSO":
        params.update(SingleSignOnUserIdentifier="UserName", SingleSignOnUserValue=req.sso_user_name)
    outcome = _create_and_wait(
        req,
        client,
        lambda: client.create_user_profile(**params),
        lambda: client.describe_user_profile(**ids),
        "UserProfileArn",
        "user profile",
    )
    if outcome is None:
        return
    arn, answer = outcome
    values = profile_values(answer, _tags(client, arn))
    now = timezone.now()
    profile, _ = UserProfile.objects.update_or_create(
        arn=arn, defaults={**values, "domain": domain, "owner": req.person, "last_seen": now, "removed_at": None}
    )
    _finish(req, f"User profile {profile.name} is InService.", profile=profile, profile_arn=arn)


def provision_space(pk: int) -> None:
    req = _claim(SpaceRequest, pk, ("approved", "provisioning"), "provisioning")
    if req is None:
        return
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
    outcome = _create_and_wait(
        req, client, lambda: client.create_space(**params), lambda: client.describe_space(**ids), "SpaceArn", "space"
    )
    if outcome is None:
        return
    arn, answer = outcome
    values = space_values(answer, _tags(client, arn))
    space, _ = Space.objects.update_or_create(
        arn=arn,
        defaults={**values, "domain": domain, "owner_profile": owner, "last_seen": timezone.now(), "removed_at": None},
    )
    _finish(req, f"Shared space {space.name} is InService, owned by {owner.name}.", space=space, space_arn=arn)


def _delete(method: Callable[..., Any], **params: Any) -> str:
    """An idempotent delete: 'deleted', or 'already gone' when AWS no longer has it."""
    try:
        call(method, **params)
    except ClientError as exc:
        if error_code(exc) in GONE:
            return "already gone"
        raise
    return "deleted"


def _remove_space(client: Any, domain_id: str, space_name: str, arn: str) -> tuple[int, str]:
    """Delete a space's live apps, then the space, then mark it removed in the inventory (kept, with history):
    how many apps were stopped, and the space's outcome. Safe to repeat."""
    apps = call(client.list_apps, DomainIdEquals=domain_id, SpaceNameEquals=space_name).get("Apps", [])
    live = [a for a in apps if a.get("Status") not in ("Deleted", "Deleting", "Failed")]
    for app in live:
        _delete(
            client.delete_app, DomainId=domain_id, SpaceName=space_name, AppType=app["AppType"], AppName=app["AppName"]
        )
    outcome = _delete(client.delete_space, DomainId=domain_id, SpaceName=space_name)
    if arn:
        Space.objects.filter(arn=arn, removed_at__isnull=True).update(status="Deleted", removed_at=timezone.now())
    return len(live), outcome


def delete_space(pk: int) -> None:
    """Delete an expired shared space (its apps first), approved by an approver."""
    req = _claim(SpaceRequest, pk, ("deleting",), "deleting")
    if req is None:
        return
    domain = req.domain
    client = _client(domain)
    try:
        stopped, outcome = _remove_space(client, domain.domain_id, req.space_name, req.space_arn)
    except (ClientError, BotoCoreError) as exc:
        SpaceRequest.objects.filter(pk=req.pk).update(
            error=describe_error(exc), status=Request.Status.EXPIRED, progress="", updated_at=timezone.now()
        )
        req.record("deletion_failed", actor=ACTOR, after={"error": describe_error(exc)})
        return
    now = timezone.now()
    with transaction.atomic():
        SpaceRequest.objects.filter(pk=req.pk).update(
            status=Request.Status.DELETED,
            finished_at=now,
            progress=f"Space {outcome}; {stopped} app(s) stopped first.",
            updated_at=now,
        )
        req.record(
            "aws.delete_space",
            actor=ACTOR,
            before={"status": "deleting"},
            after={"status": "deleted", "outcome": outcome, "apps_deleted": stopped},
        )


# -- offboarding ------------------------------------------------------------------------------------------------
def _run_step(step: OffboardingStep, domain: Domain | None) -> str:
    if step.action == OffboardingStep.Action.FLAG_SHARED_SPACE:
        return "Flagged: SageMaker cannot give a space another owner; recreate it under a teammate's profile."
    if domain is None:
        raise ProvisioningError(f"The domain {step.domain_name} is no longer in the inventory.")
    client = _client(domain)
    params = dict(step.params)
    now = timezone.now()
    if step.action == OffboardingStep.Action.DELETE_APP:
        outcome = _delete(client.delete_app, **params)
        App.objects.filter(arn=step.resource_arn).update(status="Deleted")
    elif step.action == OffboardingStep.Action.DELETE_SPACE:
        _, outcome = _remove_space(client, params["DomainId"], params["SpaceName"], step.resource_arn)
    else:
        outcome = _delete(client.delete_user_profile, **params)
        UserProfile.objects.filter(arn=step.resource_arn, removed_at__isnull=True).update(
            status="Deleted", removed_at=now
        )
        ProfileRequest.objects.filter(profile_arn=step.resource_arn, status=Request.Status.ACTIVE).update(
            status=Request.Status.DELETED, updated_at=now
        )
    step.offboarding.record(
        f"aws.{step.action}",
        actor=ACTOR,
        domain_arn=step.domain_arn,
        object_repr=step.target,
        after={"arn": step.resource_arn, "outcome": outcome},
    )
    return outcome.capitalize() + "."


def run_offboarding(pk: int) -> None:
    offboarding = _claim(Offboarding, pk, Offboarding.WORKING, "running", ("person", "requested_by"))
    if offboarding is None:
        return
    steps = list(offboarding.steps.filter(state=OffboardingStep.State.PENDING).order_by("position"))
    domains = {d.arn: d for d in Domain.objects.filter(arn__in={s.domain_arn for s in steps}).select_related("account")}
    for step in steps:
        step.offboarding = offboarding
        _progress(offboarding, f"Step {step.position + 1}: {step}")
        try:
            message = _run_step(step, domains.get(step.domain_arn))
        except (ClientError, BotoCoreError, ProvisioningError) as exc:
            reason = str(exc) if isinstance(exc, ProvisioningError) else describe_error(exc)
            error = f"Step {step.position + 1} ({step}): {reason}"
            OffboardingStep.objects.filter(pk=step.pk).update(state=OffboardingStep.State.FAILED, message=reason[:1000])
            Offboarding.objects.filter(pk=pk).update(
                status=Offboarding.Status.FAILED, error=error, progress="", updated_at=timezone.now()
            )
            offboarding.record(
                "failed", actor=ACTOR, domain_arn=step.domain_arn, after={"status": "failed", "error": error}
            )
            notify.send(
                f"[{offboarding.request_id}] Offboarding stopped",
                f"{error}\n\nResume it once the cause is fixed: {notify.link(offboarding)}\n",
                notify.people_emails(offboarding.requested_by),
            )
            return
        state = (
            OffboardingStep.State.FLAGGED
            if step.action == OffboardingStep.Action.FLAG_SHARED_SPACE
            else OffboardingStep.State.DONE
        )
        OffboardingStep.objects.filter(pk=step.pk).update(state=state, message=message, done_at=timezone.now())
    now = timezone.now()
    Offboarding.objects.filter(pk=pk).update(
        status=Offboarding.Status.DONE, progress="Every step is done.", finished_at=now, updated_at=now
    )
    offboarding.record("done", actor=ACTOR, before={"status": "running"}, after={"status": "done"})
    notify.send(
        f"[{offboarding.request_id}] Offboarding done",
        f"{offboarding.person.get_username()} is out of SageMaker. See what was done: {notify.link(offboarding)}\n",
        notify.people_emails(offboarding.requested_by),
    )


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


def stalled() -> list[tuple[str, int]]:
    """Work no task has touched for PROVISION_STALE_MINUTES: its worker died, or the queue lost it."""
    cutoff = timezone.now() - timedelta(minutes=settings.PROVISION_STALE_MINUTES)

    def stale(model: Any) -> list[tuple[int, str]]:
        return list(model.objects.filter(status__in=model.WORKING, updated_at__lt=cutoff).values_list("pk", "status"))

    work = [("provision_profile", pk) for pk, _ in stale(ProfileRequest)]
    work += [
        ("delete_space" if status == Request.Status.DELETING else "provision_space", pk)
        for pk, status in stale(SpaceRequest)
    ]
    work += [("run_offboarding", pk) for pk, _ in stale(Offboarding)]
    return work
