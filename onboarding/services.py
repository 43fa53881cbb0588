"""The rules of onboarding, in one place for pages and API: who may ask for what, who decides, what happens next.

The contract of every services module of the portal (onboarding, domains, costs budgets, portal roles):

- ``check_can_<verb>(actor, obj)`` is the rule: it reads, changes nothing, and raises a ``ValidationError`` whose
  message a person can act on when ``actor`` may not do it (permission) or ``obj`` is not in a state that allows it
  (state). Pages and the API ask these rules which actions are open (:func:`open_actions`,
  :func:`offboarding_actions`), so a button is shown exactly when the service would accept it.
- ``do_<verb>(obj, *, actor, ...)`` always checks: it locks the row, calls its own ``check_can_<verb>`` on the
  locked row (callers never have to, and cannot forget to), validates the input, changes state and writes the
  audit event in one transaction, and enqueues background work only once that transaction commits; emails are
  recorded in the same transaction through :mod:`portal.mail`, which sends them after the commit.
- The actor is a person. Services that also run for the system (the demo, commands, the scheduler; here persona
  templates and space policies) accept a ``str`` actor naming it, which passes the permission part of the rule but
  never the state part (:func:`portal.scoping.is_system_actor`).
- Audit actions are registered names (:data:`AUDIT_ACTIONS`, added to :mod:`portal.registry` by the app).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Func, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from domains import people
from domains.models import Domain, Person
from onboarding import notify
from onboarding.models import (
    ApprovedWork,
    Offboarding,
    OffboardingStep,
    PersonaTemplate,
    ProfileRequest,
    Request,
    SpacePolicy,
    SpaceRequest,
    execution_role_error,
)
from onboarding.work import task_for
from portal import audit
from portal.pricing import EBS_GB_MONTH_USD, HOURLY_USD, hourly_price
from portal.scoping import (
    ALL_DOMAINS,
    APPROVE,
    MANAGE,
    REQUEST_PROFILE,
    REQUEST_SPACE,
    domain_q,
    grants_for,
    is_system_actor,
)
from portal.validation import EBS_SIZE_GB
from profiles.models import App, Space, UserProfile

# SageMaker's pattern for user profile and space names.
NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# The generic-name rule: words that say "whoever" rather than who or what. See generic_name_error.
GENERIC_WORDS = frozenset(
    "team shared share test testing admin administrator common group generic default temp tmp demo user guest "
    "root service svc".split()
)


def generic_name_error(name: str, *, what: str) -> str | None:
    """The generic-name rule, for the names the portal creates in SageMaker: a message when ``name`` breaks it.

    - A user profile (``what="profile"``) belongs to one person, so its name may not even start with a generic word
      (team-, shared-, test-, admin-...): such a profile ends up used by several people.
    - A shared space (``what="space"``) is shared by design, so team- or shared- in its name is fine (team-churn
      says whose and what); but a name made of generic words only (team-shared, shared-tmp, test1) says neither,
      and the space's name is all Studio and the bill per space show.

    Not applied to persona names ("Data scientist" names a kind of person on purpose), to space display names
    (free text next to a checked name), nor to domains, profiles and spaces the sync finds (AWS has them already;
    the inventory reports what is, it does not refuse it).
    """
    words = [word for word in (name or "").lower().split("-") if word]
    if not words:
        return None  # not a name at all: the SageMaker pattern says so
    generic = [re.sub(r"\d+$", "", word) in GENERIC_WORDS for word in words]
    if what == "profile":
        if generic[0]:
            return (
                f"{name!r} breaks the generic-name rule: it looks like a shared or generic name (team-, shared-, "
                f"test-, admin-...). A user profile belongs to one person: use the person's own login."
            )
        return None
    if all(generic):
        return (
            f"{name!r} breaks the generic-name rule: it is made of generic words only (team, shared, test, tmp...). "
            f"Say what the space is for, e.g. team-churn-model."
        )
    return None


# Hours a shared space's instance is assumed to run in a month: working days with idle shutdown on.
ESTIMATE_HOURS_PER_MONTH = 8 * 21


# The audit actions this app writes (registered by OnboardingConfig.ready()).
_REQUEST_VERBS = {
    "submitted": "submitted",
    "approved": "approved",
    "rejected": "rejected",
    "cancelled": "cancelled",
    "retried": "retried",
    "handed_out_again": "handed to a worker again (its task stopped)",
    "retried_now": "retried now (its task stopped)",
    "active": "created in AWS",
    "failed": "failed",
}
_SPACE_VERBS = {
    "extended": "extended",
    "expiry_reminder": "expiry reminder sent",
    "expired": "expired",
    "deletion_approved": "deletion approved",
    "deletion_failed": "deletion failed",
}
_OFFBOARDING_VERBS = {
    "planned": "planned",
    "approved": "approved",
    "cancelled": "cancelled",
    "resumed": "resumed",
    "handed_out_again": "handed to a worker again (its task stopped)",
    "retried_now": "retried now (its task stopped)",
    "done": "done",
    "failed": "failed",
}
AUDIT_ACTIONS: dict[str, str] = {
    **{f"profilerequest.{verb}": f"Profile request {label}" for verb, label in _REQUEST_VERBS.items()},
    **{f"spacerequest.{verb}": f"Space request {label}" for verb, label in {**_REQUEST_VERBS, **_SPACE_VERBS}.items()},
    **{f"offboarding.{verb}": f"Offboarding {label}" for verb, label in _OFFBOARDING_VERBS.items()},
    "aws.create_user_profile": "User profile created in AWS",
    "aws.adopt_user_profile": "User profile adopted in AWS",
    "aws.create_space": "Space created in AWS",
    "aws.adopt_space": "Space adopted in AWS",
    "aws.delete_space": "Space deleted in AWS",
    **{f"aws.{action}": f"Offboarding step: {label}" for action, label in OffboardingStep.Action.choices},
    "persona.created": "Persona created",
    "persona.updated": "Persona changed",
    "space_policy.created": "Space policy created",
    "space_policy.updated": "Space policy changed",
}


# -- who may do what: the rules (check_can_*), shared by the services and the pages ------------------------------
def may(user: Any, action: str, domain: Domain) -> bool:
    return grants_for(user).allows(action, domain.arn)


def _is_requester(req: Request, actor: Any) -> bool:
    """The actor asked for this request, or it is about them."""
    return actor.pk in (req.requested_by_id, getattr(req, "person_id", None))


def _state(req: Request | Offboarding) -> str:
    return req.get_status_display().lower()


def check_can_approve(actor: Any, req: Request) -> None:
    """An approver of the request's domain, not the requester nor the person it is for, on a waiting request."""
    if not may(actor, APPROVE, req.domain):
        raise ValidationError(f"Only an approver of the domain {req.domain.name} may decide on this request.")
    if _is_requester(req, actor):
        raise ValidationError("Nobody approves or rejects their own request; another approver of the domain must.")
    if req.status != Request.Status.SUBMITTED:
        raise ValidationError(f"This request is {_state(req)}; only a request waiting for approval can be decided.")


check_can_reject = check_can_approve  # the same person decides either way


def check_can_cancel(actor: Any, req: Request) -> None:
    if not _is_requester(req, actor) and not grants_for(actor).is_admin:
        raise ValidationError("Only the person who asked (or a platform admin) may cancel this request.")
    if req.status not in Request.CANCELLABLE:
        raise ValidationError(f"This request is {_state(req)}; it can no longer be cancelled.")


def check_can_retry(actor: Any, req: Request) -> None:
    if not may(actor, APPROVE, req.domain) and not _is_requester(req, actor):
        raise ValidationError("Only the requester or an approver of the domain may retry this request.")
    if req.status != Request.Status.FAILED:
        raise ValidationError("Only a failed request can be tried again.")


def check_can_extend_space(actor: Any, req: SpaceRequest) -> None:
    if actor.pk != req.requested_by_id and not may(actor, APPROVE, req.domain):
        raise ValidationError("Only the team lead who asked or an approver of the domain may extend this space.")
    if req.status not in Request.LIVE_SPACE:
        raise ValidationError("Only a live space can be extended.")


def check_can_delete_space(actor: Any, req: SpaceRequest) -> None:
    if not may(actor, APPROVE, req.domain):
        raise ValidationError(f"Only an approver of {req.domain.name} may delete a shared space.")
    if req.status not in Request.LIVE_SPACE:
        raise ValidationError(f"This space is {_state(req)}; there is nothing to delete.")


def check_can_submit_profile_request(actor: Any, person: Any, domain: Domain) -> None:
    """A person for themselves where they may request a profile (or manage); an admin or approver for others."""
    if person.pk != actor.pk:
        if not may(actor, MANAGE, domain):
            raise ValidationError("Only an admin or an approver of the domain may request a profile for someone else.")
    elif not may(actor, REQUEST_PROFILE, domain) and not may(actor, MANAGE, domain):
        raise ValidationError(
            f"You may not request a profile in {domain.name}: ask an admin for the data scientist role there."
        )
    if domain.removed_at is not None or domain.status != "InService":
        raise ValidationError(f"The domain {domain.name} is {domain.status or 'gone'}; profiles cannot be added.")


def check_can_submit_space_request(actor: Any, domain: Domain) -> None:
    if not may(actor, REQUEST_SPACE, domain):
        raise ValidationError(f"Only a team lead of {domain.name} may request a shared space there.")


def check_can_plan_offboarding(actor: Any) -> None:
    if not grants_for(actor).domains_for(APPROVE):
        raise ValidationError("Only an admin or a domain approver may offboard people.")


def _check_offboarding_approver(actor: Any, offboarding: Offboarding) -> None:
    """An approver of every domain the plan touches; a plan that touches none (only the portal login) is a
    platform admin's."""
    domains = grants_for(actor).domains_for(APPROVE)
    arns = set(offboarding.steps.exclude(domain_arn="").values_list("domain_arn", flat=True))
    if domains is not ALL_DOMAINS and not arns:
        raise ValidationError("This plan only closes a portal login; a platform admin decides it.")
    if domains is not ALL_DOMAINS and not arns <= domains:
        raise ValidationError(
            "This plan touches domains you do not approve in; an approver of all of them (or a "
            "platform admin) must decide."
        )


def check_can_approve_offboarding(actor: Any, offboarding: Offboarding) -> None:
    _check_offboarding_approver(actor, offboarding)
    if actor.pk in (offboarding.requested_by_id, offboarding.login_id, offboarding.person.portal_user_id):
        raise ValidationError("Nobody approves their own plan; another approver must.")
    if offboarding.status != Offboarding.Status.PLANNED:
        raise ValidationError(f"This plan is {_state(offboarding)}; it cannot be approved.")


def check_can_cancel_offboarding(actor: Any, offboarding: Offboarding) -> None:
    _check_offboarding_approver(actor, offboarding)
    if offboarding.status not in Offboarding.CANCELLABLE:
        raise ValidationError(f"This plan is {_state(offboarding)}; it cannot be cancelled.")


def check_can_resume_offboarding(actor: Any, offboarding: Offboarding) -> None:
    _check_offboarding_approver(actor, offboarding)
    if offboarding.status != Offboarding.Status.FAILED:
        raise ValidationError("Only a failed offboarding can resume.")


def check_can_retry_now(actor: Any, work: ApprovedWork) -> None:
    """An approver of the work's domain (every domain of an offboarding plan) on work whose task stopped."""
    if isinstance(work, Offboarding):
        _check_offboarding_approver(actor, work)
    elif not may(actor, APPROVE, work.domain):  # type: ignore[attr-defined]
        raise ValidationError(f"Only an approver of {work.domain.name} may retry this now.")  # type: ignore[attr-defined]
    if not work.is_working:
        raise ValidationError(f"This is {_state(work)}; only work a task should be on can be retried now.")
    if not work.is_stalled:
        raise ValidationError(
            f"A task is working on it (last sign of life less than {settings.PROVISION_STALE_SECONDS} s ago); "
            f"it can be retried now once its heartbeat stops."
        )


def check_can_manage(actor: Any, domain: Domain) -> None:
    """Persona templates and space policies: the domain's approvers (or a system actor, e.g. the demo)."""
    if not is_system_actor(actor) and not may(actor, MANAGE, domain):
        raise ValidationError(f"Only an approver of {domain.name} may change its persona templates and space policy.")


def allowed(check: Callable[..., None], *args: Any) -> bool:
    """Whether a rule lets this through, for pages that show or hide a button."""
    try:
        check(*args)
    except ValidationError:
        return False
    return True


def open_actions(user: Any, req: Request) -> dict[str, bool]:
    """Which of this module's actions ``user`` may take on ``req`` now: the buttons a request page shows."""
    is_space = isinstance(req, SpaceRequest)
    return {
        "can_decide": allowed(check_can_approve, user, req),
        "can_cancel": allowed(check_can_cancel, user, req),
        "can_retry": allowed(check_can_retry, user, req),
        "can_extend": is_space and allowed(check_can_extend_space, user, req),
        "can_delete": is_space and allowed(check_can_delete_space, user, req),
        "can_retry_now": allowed(check_can_retry_now, user, req),
        "is_own": _is_requester(req, user),
    }


def offboarding_actions(user: Any, offboarding: Offboarding) -> dict[str, bool]:
    """Which actions ``user`` may take on an offboarding plan now: the buttons its page shows."""
    return {
        "can_decide": allowed(check_can_approve_offboarding, user, offboarding),
        "can_cancel": allowed(check_can_cancel_offboarding, user, offboarding),
        "can_resume": allowed(check_can_resume_offboarding, user, offboarding),
        "can_retry_now": allowed(check_can_retry_now, user, offboarding),
    }


def _snapshot(req: Request, *fields: str) -> dict[str, Any]:
    return {"status": req.status, **{f: str(getattr(req, f)) for f in fields}}


# -- profile names ----------------------------------------------------------------------------------------------
def transliterate(value: str) -> str:
    """Latin letters without their accents (ñandú-ü gives nandu-u; ß gives ss, æ ae, ø o, ł l); what has no Latin
    spelling is dropped."""
    value = value.translate(_SPELLED)
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode("ascii", "ignore").decode()


_SPELLED = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "œ": "oe",
        "Œ": "OE",
        "þ": "th",
        "Þ": "TH",
        "ı": "i",
    }
)


def name_from(value: str) -> str:
    """A SageMaker-safe name from a user name or an email: transliterated to ASCII, lower case, other characters
    become single dashes."""
    local = transliterate(value.split("@", 1)[0]).lower()
    name = re.sub(r"[^a-z0-9]+", "-", local).strip("-")
    return name[:63].rstrip("-")


def derive_profile_name(person: Any, domain: Domain, sso_user_name: str = "") -> str:
    """The profile name of a person in a domain: their SSO user name on SSO domains; elsewhere their email's local
    part (maria.garcia@... gives maria-garcia), or their login when they have no email."""
    if domain.auth_mode == "SSO" and sso_user_name:
        return name_from(sso_user_name)
    return name_from(getattr(person, "email", "") or person.get_username())


def check_profile_name(name: str, source: str = "") -> None:
    """Refuse a profile name that is empty (nothing left after transliteration), not SageMaker's, or generic."""
    if not name:
        raise ValidationError(
            f"No profile name can be made from {source or 'the person' + chr(39) + 's user name'}: it has no letter "
            f"or digit that SageMaker accepts, even transliterated. Give the person a user name with letters or digits."
        )
    if not NAME_RE.match(name):
        raise ValidationError(
            f"{name!r} is not a valid SageMaker name: up to 63 letters, digits and dashes, "
            f"starting with a letter or digit."
        )
    generic = generic_name_error(name, what="profile")
    if generic:
        raise ValidationError(generic)


def sso_user_identity(person: Any, domain: Domain, *, typed: str = "", on_behalf: bool = False) -> str:
    """The SSO user a profile of ``person`` in ``domain`` binds to: on SSO domains, their own current IAM Identity
    Center user from the directory, never what was typed; a typed name that is someone else's is refused. Blank
    on IAM domains."""
    typed = (typed or "").strip()
    if domain.auth_mode != "SSO":
        return ""
    directory = people.person_for_login(person)
    identity = directory.identity_users.filter(removed_at__isnull=True).order_by("pk").first()
    whose = "your" if not on_behalf else f"{directory}'s"
    if identity is None:
        raise ValidationError(
            {
                "sso_user_name": f"{domain.name} signs in through IAM Identity Center, and the directory knows no "
                f"current Identity Center user of {'yours' if not on_behalf else str(directory)}. Ask an admin to "
                f"add {'you' if not on_behalf else 'them'} to Identity Center and sync the directory (People page)."
            }
        )
    if typed and typed.lower() != identity.user_name.lower():
        raise ValidationError(
            {
                "sso_user_name": f"The SSO user is {whose} own Identity Center user from the directory, "
                f"{identity.user_name}, not {typed}: a profile bound to someone else cannot be requested."
            }
        )
    return identity.user_name


# -- profile requests -------------------------------------------------------------------------------------------
@transaction.atomic
def do_submit_profile_request(
    *,
    actor: Any,
    person: Any,
    domain: Domain,
    template: PersonaTemplate,
    sso_user_name: str = "",
    justification: str = "",
) -> ProfileRequest:
    """A person asks for their profile (or an admin or approver asks on their behalf)."""
    check_can_submit_profile_request(actor, person, domain)
    on_behalf = person.pk != actor.pk
    if template.domain_id != domain.pk or not template.active:
        raise ValidationError({"template": "Choose one of this domain's persona templates."})
    role_error = execution_role_error(template.execution_role, domain)
    if role_error:  # a persona saved before the rule, or whose account has left the portal since
        raise ValidationError(
            {"template": f"The persona {template.name} cannot be used until an approver fixes it: {role_error}"}
        )
    sso_user_name = sso_user_identity(person, domain, typed=sso_user_name, on_behalf=on_behalf)
    name = derive_profile_name(person, domain, sso_user_name)
    check_profile_name(name, f"the user name {sso_user_name or person.get_username()!r}")
    who = "You already have" if not on_behalf else f"{person.get_username()} already has"
    mine = UserProfile.objects.filter(domain=domain, owner=person, removed_at__isnull=True).first()
    if mine is not None:
        raise ValidationError(f"{who} a profile in {domain.name} ({mine.name}): one person, one profile per domain.")
    pending = ProfileRequest.objects.filter(domain=domain, person=person, status__in=Request.OPEN).first()
    if pending is not None:
        raise ValidationError(
            f"{who} a request for a profile in {domain.name} ({pending.request_id}, "
            f"{pending.get_status_display().lower()}): one person, one profile per domain."
        )
    if (
        # SageMaker profile names are not case sensitive: Maria and maria are the same profile.
        UserProfile.objects.filter(domain=domain, name__iexact=name, removed_at__isnull=True).exists()
        or ProfileRequest.objects.filter(domain=domain, profile_name__iexact=name, status__in=Request.OPEN).exists()
    ):
        raise ValidationError(
            f"A profile named {name} already exists or is requested in {domain.name}; ask an "
            f"admin to look at who owns it."
        )
    try:
        with transaction.atomic():
            req = ProfileRequest.objects.create(
                domain=domain,
                person=person,
                requested_by=actor,
                template=template,
                profile_name=name,
                sso_user_name=sso_user_name,
                justification=justification.strip(),
            )
    except IntegrityError as exc:  # a request submitted at the same moment
        raise ValidationError(
            f"{who} a request for a profile in {domain.name}: one person, one profile per domain."
        ) from exc
    req.record(
        "submitted",
        actor=actor,
        after={"status": req.status, "profile_name": name, "template": template.name, "person": person.get_username()},
    )
    _email_new_request(req)
    return req


def _email_new_request(req: ProfileRequest | SpaceRequest) -> None:
    what = (
        f"a user profile {req.profile_name} for {req.person.get_username()}"
        if isinstance(req, ProfileRequest)
        else f"a shared space {req.space_name} ({req.instance_type}, about ${req.estimated_monthly_usd} a month)"
    )
    notify.send(
        f"[{req.request_id}] Approval needed: {what} in {req.domain.name}",
        f"{req.requested_by.get_username()} asks for {what} in the SageMaker domain {req.domain.name}.\n\n"
        f"Approve or reject it: {notify.link(req)}\n",
        [e for e in notify.approver_emails([req.domain.arn]) if e != req.requested_by.email],
    )


def _email_requester(req: Request, subject: str, body: str) -> None:
    people = [req.requested_by, getattr(req, "person", None)]
    notify.send(
        f"[{req.request_id}] {subject}",
        f"{body}\n\nSee the request: {notify.link(req)}\n",
        notify.people_emails(*people),
    )


SWEEP_ACTOR = "stalled-work sweep"


def _hand_out(work: ApprovedWork) -> None:
    """Give the work (in the state a task works in) to a worker once the transaction commits, under a new hand-out
    token: a task still running under an older token stops at its next step. Call before saving the work."""
    task = task_for(work)
    token = uuid.uuid4().hex
    work.task_token, work.attempts, work.heartbeat_at = token, work.attempts + 1, timezone.now()
    transaction.on_commit(lambda: task.apply_async((work.pk, token)))


def _hand_out_again(work: ApprovedWork, *, actor: Any, action: str) -> ApprovedWork | None:
    """Hand stalled work to a worker again under a new token (the task whose heartbeat stopped, if it ever comes
    back, stops at its next step); None when it is no longer stalled. Safe because provisioning adopts what an
    earlier task created (by its request-id tag) and every offboarding step counts what is gone as done."""
    work = type(work).objects.select_for_update().get(pk=work.pk)
    if not work.is_stalled:
        return None
    before = {"status": work.status, "heartbeat_at": work.heartbeat_at.isoformat() if work.heartbeat_at else None}
    work.progress = "Handed to a worker again: the task working on it stopped."
    _hand_out(work)
    work.save()
    work.record(action, actor=actor, before=before, after={"status": work.status, "attempts": work.attempts})
    return work


@transaction.atomic
def do_hand_out_again(work: ApprovedWork, *, actor: Any = SWEEP_ACTOR) -> ApprovedWork | None:
    """The sweep: stalled work goes to a worker again (audited as ``handed_out_again``)."""
    return _hand_out_again(work, actor=actor, action="handed_out_again")


@transaction.atomic
def do_retry_now(work: ApprovedWork, *, actor: Any) -> ApprovedWork:
    """An approver hands stalled work to a worker at once instead of waiting for the sweep."""
    work = type(work).objects.select_for_update().get(pk=work.pk)
    check_can_retry_now(actor, work)
    handed = _hand_out_again(work, actor=actor, action="retried_now")
    assert handed is not None
    return handed


@transaction.atomic
def do_approve(req: Request, *, actor: Any) -> Request:
    req = type(req).objects.select_for_update().select_related("domain").get(pk=req.pk)
    check_can_approve(actor, req)
    before = _snapshot(req)
    req.status, req.decided_by, req.decided_at = Request.Status.APPROVED, actor, timezone.now()
    req.progress = "Queued for provisioning."
    _hand_out(req)
    req.save()
    req.record("approved", actor=actor, before=before, after=_snapshot(req, "decided_by"))
    _email_requester(req, "Approved", f"{actor.get_username()} approved {req}. The portal is creating it in AWS now.")
    return req


@transaction.atomic
def do_reject(req: Request, *, actor: Any, reason: str) -> Request:
    req = type(req).objects.select_for_update().select_related("domain").get(pk=req.pk)
    check_can_reject(actor, req)
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ValidationError({"reason": "Say why the request is rejected; the requester reads it."})
    before = _snapshot(req)
    req.status, req.decided_by, req.decided_at = Request.Status.REJECTED, actor, timezone.now()
    req.decision_reason = reason[:1000]
    req.finished_at = req.decided_at
    req.save()
    req.record("rejected", actor=actor, before=before, after=_snapshot(req, "decision_reason"))
    _email_requester(req, "Rejected", f"{actor.get_username()} rejected {req}.\n\nReason: {reason}")
    return req


@transaction.atomic
def do_cancel(req: Request, *, actor: Any) -> Request:
    req = type(req).objects.select_for_update().select_related("domain").get(pk=req.pk)
    check_can_cancel(actor, req)
    before = _snapshot(req)
    req.status, req.finished_at, req.progress = Request.Status.CANCELLED, timezone.now(), ""
    req.save()
    req.record("cancelled", actor=actor, before=before, after=_snapshot(req))
    return req


@transaction.atomic
def do_retry(req: Request, *, actor: Any) -> Request:
    req = type(req).objects.select_for_update().select_related("domain").get(pk=req.pk)
    check_can_retry(actor, req)
    before = _snapshot(req, "error")
    req.status, req.progress, req.finished_at = Request.Status.APPROVED, "Queued for another attempt.", None
    # A new attempt: create (or adopt, by tag) and wait afresh.
    req.wait_until = None
    if isinstance(req, ProfileRequest):
        req.profile_arn = ""
    else:
        req.space_arn = ""
    _hand_out(req)
    req.save()
    req.record("retried", actor=actor, before=before, after=_snapshot(req))
    return req


# -- shared spaces ----------------------------------------------------------------------------------------------
def estimate_space(instance_type: str, ebs_size_gb: int, region: str = "us-east-1") -> dict[str, Any]:
    """Monthly cost of a shared space: its instance for a working month (idle shutdown on) plus its volume.
    ValidationError for an instance type without a price or a size outside what SageMaker allows."""
    if instance_type not in HOURLY_USD:
        raise ValidationError({"instance_type": f"Use one of {', '.join(sorted(HOURLY_USD))}."})
    try:
        EBS_SIZE_GB.check(int(ebs_size_gb), "The storage (GB)")
    except ValidationError as exc:
        raise ValidationError({"ebs_size_gb": exc.messages}) from None
    hourly = hourly_price(instance_type, region)
    compute = (hourly * ESTIMATE_HOURS_PER_MONTH).quantize(Decimal("0.01"))
    storage = (EBS_GB_MONTH_USD * int(ebs_size_gb)).quantize(Decimal("0.01"))
    return {
        "hourly": hourly,
        "hours": ESTIMATE_HOURS_PER_MONTH,
        "compute": compute,
        "storage": storage,
        "total": compute + storage,
    }


def live_space_count(domain: Domain) -> int:
    return SpaceRequest.objects.filter(domain=domain, status__in=SpaceRequest.LIVE).count()


def lead_profile(actor: Any, domain: Domain) -> UserProfile:
    profile = UserProfile.objects.filter(domain=domain, owner=actor, removed_at__isnull=True).first()
    if profile is None:
        raise ValidationError(
            f"A shared space is owned by your own profile, and you have none in {domain.name}: "
            f"request your profile there first."
        )
    if profile.status != "InService":
        raise ValidationError(f"Your profile {profile.name} is {profile.status}; it must be InService to own a space.")
    return profile


def check_space(
    domain: Domain,
    *,
    name: str,
    app_type: str,
    instance_type: str,
    ebs_size_gb: int,
    idle_timeout_minutes: int,
    expires_on: date,
) -> SpacePolicy:
    """Every field against the domain's space policy, all problems at once (field: message). The policy row stays
    locked until the transaction ends, so two requests never both take the last place of the quota."""
    policy = SpacePolicy.objects.select_for_update().filter(domain=domain).first()
    if policy is None:
        raise ValidationError(
            f"The domain {domain.name} has no space policy yet, so no shared space can be "
            f"requested: an admin sets one on the domain's request settings."
        )
    errors: dict[str, str] = {}
    if not NAME_RE.match(name or ""):
        errors["space_name"] = "Up to 63 letters, digits and dashes, starting with a letter or digit."
    elif generic_name_error(name, what="space"):
        errors["space_name"] = generic_name_error(name, what="space")
    elif (
        Space.objects.filter(domain=domain, name__iexact=name, removed_at__isnull=True).exists()  # not case sensitive
        or SpaceRequest.objects.filter(domain=domain, space_name__iexact=name, status__in=Request.OPEN).exists()
    ):
        errors["space_name"] = f"A space named {name} already exists or is requested in {domain.name}."
    if app_type not in ("JupyterLab", "CodeEditor"):
        errors["app_type"] = "Choose JupyterLab or Code Editor."
    if instance_type not in policy.allowed_instance_types:
        errors["instance_type"] = f"{domain.name} allows {', '.join(policy.allowed_instance_types)}."
    if not 5 <= ebs_size_gb <= policy.max_ebs_gb:
        errors["ebs_size_gb"] = f"Between 5 and {policy.max_ebs_gb} GB in {domain.name}."
    if not 60 <= idle_timeout_minutes <= 525600:
        errors["idle_timeout_minutes"] = "Between 60 minutes and 365 days."
    today = timezone.localdate()
    if expires_on <= today:
        errors["expires_on"] = "The expiry date must be in the future."
    elif expires_on > today + timedelta(days=policy.max_days):
        errors["expires_on"] = (
            f"At most {policy.max_days} days from today in {domain.name} "
            f"({today + timedelta(days=policy.max_days):%Y-%m-%d})."
        )
    if errors:
        raise ValidationError(errors)
    return policy


@transaction.atomic
def do_submit_space_request(
    *,
    actor: Any,
    domain: Domain,
    space_name: str,
    display_name: str,
    app_type: str,
    instance_type: str,
    ebs_size_gb: int,
    idle_timeout_minutes: int,
    expires_on: date,
    purpose: str,
) -> SpaceRequest:
    check_can_submit_space_request(actor, domain)
    if not (purpose or "").strip():
        raise ValidationError({"purpose": "Say what the team will use the space for."})
    policy = check_space(
        domain,
        name=space_name,
        app_type=app_type,
        instance_type=instance_type,
        ebs_size_gb=ebs_size_gb,
        idle_timeout_minutes=idle_timeout_minutes,
        expires_on=expires_on,
    )
    owner = lead_profile(actor, domain)
    estimate = estimate_space(instance_type, ebs_size_gb, domain.region)
    auto = policy.auto_approve_quota > 0 and live_space_count(domain) < policy.auto_approve_quota
    try:
        with transaction.atomic():
            req = SpaceRequest.objects.create(
                domain=domain,
                requested_by=actor,
                owner_profile=owner,
                space_name=space_name,
                display_name=(display_name or space_name).strip()[:64],
                app_type=app_type,
                instance_type=instance_type,
                ebs_size_gb=ebs_size_gb,
                idle_timeout_minutes=idle_timeout_minutes,
                expires_on=expires_on,
                purpose=purpose.strip(),
                estimated_monthly_usd=estimate["total"],
            )
    except IntegrityError as exc:
        raise ValidationError({"space_name": f"A space named {space_name} is already requested."}) from exc
    req.record(
        "submitted",
        actor=actor,
        after={
            "status": req.status,
            "space_name": space_name,
            "instance_type": instance_type,
            "estimated_monthly_usd": str(req.estimated_monthly_usd),
        },
    )
    if auto:
        req.status, req.auto_approved, req.decided_at = Request.Status.APPROVED, True, timezone.now()
        req.decision_reason = f"Within the domain's quota of {policy.auto_approve_quota} shared spaces"
        req.progress = "Queued for provisioning."
        _hand_out(req)
        req.save()
        req.record(
            "approved",
            actor="quota",
            before={"status": Request.Status.SUBMITTED},
            after={"status": req.status, "auto_approved": True},
        )
    else:
        _email_new_request(req)
    return req


@transaction.atomic
def do_extend_space(req: SpaceRequest, *, actor: Any, expires_on: date) -> SpaceRequest:
    req = SpaceRequest.objects.select_for_update().select_related("domain").get(pk=req.pk)
    check_can_extend_space(actor, req)
    policy = SpacePolicy.objects.filter(domain=req.domain).first()
    today = timezone.localdate()
    limit = today + timedelta(days=policy.max_days if policy else 180)
    if not today < expires_on <= limit:
        raise ValidationError({"expires_on": f"A date after today and no later than {limit:%Y-%m-%d}."})
    before = _snapshot(req, "expires_on")
    req.expires_on, req.status, req.reminded_at = expires_on, Request.Status.ACTIVE, None
    req.save()
    req.record("extended", actor=actor, before=before, after=_snapshot(req, "expires_on"))
    return req


@transaction.atomic
def do_delete_space(req: SpaceRequest, *, actor: Any) -> SpaceRequest:
    """An approver accepts the deletion proposed at expiry (or ends a live space early)."""
    req = SpaceRequest.objects.select_for_update().select_related("domain").get(pk=req.pk)
    check_can_delete_space(actor, req)
    before = _snapshot(req)
    # The deletion gets a deadline of its own when it first waits for AWS (not provisioning's, long past).
    req.status, req.progress, req.wait_until = Request.Status.DELETING, "Queued for deletion.", None
    _hand_out(req)
    req.save()
    req.record("deletion_approved", actor=actor, before=before, after=_snapshot(req))
    return req


# -- offboarding ------------------------------------------------------------------------------------------------
def person_profiles(person: Person) -> Any:
    """Every live profile of the person, in every domain: tied to them in the directory, or owned by their login."""
    mine = Q(person=person)
    if person.portal_user_id:
        mine |= Q(owner_id=person.portal_user_id)
    return UserProfile.objects.filter(mine, removed_at__isnull=True).select_related("domain", "domain__account")


def proposed_leavers(user: Any) -> Any:
    """Leavers the approver ``user`` is asked to offboard: people who have left the directory and still have a live
    profile in a domain where ``user`` approves (for a platform admin also: still an active portal login), with no
    offboarding planned, under way or done. Annotated with ``live_profiles`` (in the user's domains)."""
    domains = grants_for(user).domains_for(APPROVE)
    if not domains:
        return Person.objects.none()
    mine = Q(person_id=OuterRef("pk")) | Q(owner_id=OuterRef("portal_user_id"))
    live = UserProfile.objects.filter(mine, removed_at__isnull=True).filter(domain_q(domains, "domain__arn"))
    still_there = Exists(live)
    if domains is ALL_DOMAINS:
        still_there |= Q(portal_user__is_active=True)
    taken = Offboarding.objects.filter(person_id=OuterRef("pk")).exclude(status=Offboarding.Status.CANCELLED)
    counted = live.order_by().annotate(n=Func("pk", function="COUNT")).values("n")  # one row: no GROUP BY
    return (
        Person.objects.filter(status=Person.Status.LEFT)
        .filter(still_there)
        .exclude(Exists(taken))
        .select_related("portal_user")
        .annotate(live_profiles=Coalesce(Subquery(counted), 0))
        .order_by("-left_at", "display_name", "pk")
    )


def offboarding_plan(
    actor: Any, person: Person | AbstractBaseUser, *, close_login: bool = True
) -> list[dict[str, Any]]:
    """The steps that take ``person`` out of every domain: apps, private spaces, profiles; shared spaces the person
    owns are flagged for reassignment (SageMaker cannot change a space's owner); then, unless ``close_login`` is
    off, the final step that removes their portal roles, revokes their API tokens and deactivates their login."""
    person = directory_person(person)
    profiles = list(person_profiles(person))
    steps: list[dict[str, Any]] = []
    final = close_login and person.portal_user_id is not None
    if final:
        login = person.portal_user.get_username()
        close = {
            "action": OffboardingStep.Action.CLOSE_LOGIN,
            "domain_arn": "",
            "domain_name": "portal",
            "target": f"portal login {login}",
            "resource_arn": "",
            "params": {"login": login},
        }
    if not profiles:
        return [close] if final else steps
    spaces = list(
        Space.objects.filter(owner_profile__in=profiles, removed_at__isnull=True).select_related(
            "domain", "owner_profile"
        )
    )
    private = [s for s in spaces if s.sharing_type != "Shared"]
    apps = list(
        App.objects.filter(Q(user_profile__in=profiles) | Q(space__in=private), removed_at__isnull=True)
        .exclude(status__in=["Deleted", "Failed"])
        .select_related("domain")
    )

    def step(action: str, domain: Domain, target: str, arn: str, **params: Any) -> None:
        steps.append(
            {
                "action": action,
                "domain_arn": domain.arn,
                "domain_name": domain.name,
                "target": target,
                "resource_arn": arn,
                "params": {"DomainId": domain.domain_id, **params},
            }
        )

    for app in sorted(apps, key=lambda a: (a.domain.name, a.owner_label, a.name)):
        owner = {"SpaceName": app.space_name} if app.space_name else {"UserProfileName": app.user_profile_name}
        step(
            OffboardingStep.Action.DELETE_APP,
            app.domain,
            f"{app.app_type} {app.name} on {app.owner_label}",
            app.arn,
            AppType=app.app_type,
            AppName=app.name,
            **owner,
        )
    for space in sorted(private, key=lambda s: (s.domain.name, s.name)):
        step(
            OffboardingStep.Action.DELETE_SPACE,
            space.domain,
            f"private space {space.name}",
            space.arn,
            SpaceName=space.name,
        )
    for space in sorted((s for s in spaces if s.sharing_type == "Shared"), key=lambda s: (s.domain.name, s.name)):
        step(
            OffboardingStep.Action.FLAG_SHARED_SPACE,
            space.domain,
            f"shared space {space.name} (owned by {space.owner_profile_name})",
            space.arn,
            SpaceName=space.name,
        )
    for profile in sorted(profiles, key=lambda p: (p.domain.name, p.name)):
        step(
            OffboardingStep.Action.DELETE_PROFILE,
            profile.domain,
            f"user profile {profile.name}",
            profile.arn,
            UserProfileName=profile.name,
        )
    if final:
        steps.append(close)
    return steps


def directory_person(person: Person | AbstractBaseUser) -> Person:
    """The directory's person for a person or a portal login (a login the directory does not know yet is added)."""
    if isinstance(person, Person):
        return person
    return people.person_for_login(person)


@transaction.atomic
def do_plan_offboarding(
    *,
    actor: Any,
    person: Person | AbstractBaseUser,
    reason: str,
    close_login: bool = True,
    keep_login_reason: str = "",
) -> Offboarding:
    """Plan taking a person out of every domain, and out of the portal (the final step), for approval.

    Only a platform admin may keep the portal login (untick the final step), and says why (audited)."""
    check_can_plan_offboarding(actor)
    person = directory_person(person)
    approvable = UserProfile.objects.restrict(actor, APPROVE).values("pk")
    if not grants_for(actor).is_admin and not person_profiles(person).filter(pk__in=approvable).exists():
        raise ValidationError(
            f"{person} has no profile in the domains you approve in: there is nothing for you to offboard."
        )
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why this person leaves SageMaker (it goes in the audit log)."})
    keep_login_reason = (keep_login_reason or "").strip()
    if not close_login:
        if not grants_for(actor).is_admin:
            raise ValidationError({"close_login": "Only a platform admin may keep the person's portal login."})
        if not keep_login_reason:
            raise ValidationError({"keep_login_reason": "Say why the portal login stays (it goes in the audit log)."})
    else:
        keep_login_reason = ""
    open_one = Offboarding.objects.filter(person=person, status__in=Offboarding.OPEN)
    if open_one.exists():
        raise ValidationError(f"{person} already has an offboarding in progress ({open_one.first().request_id}).")
    steps = offboarding_plan(actor, person, close_login=close_login)
    if not steps:
        raise ValidationError(f"{person} has no profile and no portal login to close: there is nothing to offboard.")
    offboarding = Offboarding.objects.create(
        person=person,
        login_id=person.portal_user_id,
        reason=reason.strip(),
        requested_by=actor,
        close_login=close_login,
        keep_login_reason=keep_login_reason,
    )
    OffboardingStep.objects.bulk_create(
        OffboardingStep(offboarding=offboarding, position=i, **s) for i, s in enumerate(steps)
    )
    offboarding.record(
        "planned",
        actor=actor,
        domain_arn=steps[0]["domain_arn"],
        after={
            "person": str(person),
            "steps": [f"{s['action']} {s['target']}" for s in steps],
            "close_login": close_login,
            "keep_login_reason": keep_login_reason,
        },
    )
    domains = [s["domain_arn"] for s in steps if s["domain_arn"]]
    notify.send(
        f"[{offboarding.request_id}] Approval needed: offboarding {person}",
        f"{actor.get_username()} plans to offboard {person} ({len(steps)} steps).\n\n"
        f"Review the plan: {notify.link(offboarding)}\n",
        [e for e in notify.approver_emails(domains) if e != actor.email],
    )
    return offboarding


@transaction.atomic
def do_approve_offboarding(offboarding: Offboarding, *, actor: Any) -> Offboarding:
    offboarding = Offboarding.objects.select_for_update().get(pk=offboarding.pk)
    check_can_approve_offboarding(actor, offboarding)
    offboarding.status, offboarding.decided_by, offboarding.decided_at = (
        Offboarding.Status.APPROVED,
        actor,
        timezone.now(),
    )
    offboarding.progress = "Queued."
    _hand_out(offboarding)
    offboarding.save()
    offboarding.record(
        "approved", actor=actor, before={"status": Offboarding.Status.PLANNED}, after={"status": offboarding.status}
    )
    return offboarding


@transaction.atomic
def do_cancel_offboarding(offboarding: Offboarding, *, actor: Any) -> Offboarding:
    offboarding = Offboarding.objects.select_for_update().get(pk=offboarding.pk)
    check_can_cancel_offboarding(actor, offboarding)
    before = {"status": offboarding.status}
    offboarding.status, offboarding.finished_at = Offboarding.Status.CANCELLED, timezone.now()
    offboarding.save()
    offboarding.record("cancelled", actor=actor, before=before, after={"status": offboarding.status})
    return offboarding


@transaction.atomic
def do_resume_offboarding(offboarding: Offboarding, *, actor: Any) -> Offboarding:
    offboarding = Offboarding.objects.select_for_update().get(pk=offboarding.pk)
    check_can_resume_offboarding(actor, offboarding)
    offboarding.status = Offboarding.Status.APPROVED
    offboarding.progress = "Queued to resume after the last step that finished."
    _hand_out(offboarding)
    offboarding.save()
    offboarding.steps.filter(state=OffboardingStep.State.FAILED).update(state=OffboardingStep.State.PENDING)
    offboarding.record(
        "resumed", actor=actor, before={"status": Offboarding.Status.FAILED}, after={"status": offboarding.status}
    )
    return offboarding


# -- persona templates and space policies -----------------------------------------------------------------------
PERSONA_FIELDS = [
    "name",
    "description",
    "execution_role",
    "allowed_instance_types",
    "hidden_app_types",
    "hidden_ml_tools",
    "idle_timeout_minutes",
    "studio_new_landing",
    "active",
]
POLICY_FIELDS = ["allowed_instance_types", "max_ebs_gb", "max_days", "auto_approve_quota"]


def _fields(instance: Any, names: list[str]) -> dict[str, Any]:
    values = {name: getattr(instance, name) for name in names}
    return {k: v if isinstance(v, list | int | bool) else str(v) for k, v in values.items()}


def _save_audited(instance: Any, names: list[str], action: str, *, actor: Any) -> Any:
    """Check the actor manages the instance's domain, validate, save, and record before and after."""
    check_can_manage(actor, instance.domain)
    instance.full_clean()
    with transaction.atomic():
        stored = type(instance).objects.filter(pk=instance.pk).first() if instance.pk else None
        before = _fields(stored, names) if stored else None
        instance.save()
        audit.record(
            f"{action}.{'updated' if before else 'created'}",
            instance,
            actor=actor,
            domain_arn=instance.domain.arn,
            before=before,
            after=_fields(instance, names),
        )
    return instance


def do_save_persona(persona: PersonaTemplate, *, actor: Any) -> PersonaTemplate:
    return _save_audited(persona, PERSONA_FIELDS, "persona", actor=actor)


def persona_role_check(persona: PersonaTemplate) -> dict[str, Any] | None:
    """Whether the persona's execution role enforces what the persona hides, as the app that reviews IAM answers
    from its cached simulation (``registry.set_role_advisor``); None without such an app. It warns, never blocks."""
    from portal.registry import registry

    return registry.advise_on_role(
        persona.domain,
        persona.execution_role,
        hidden_app_types=list(persona.hidden_app_types or []),
        hidden_ml_tools=list(persona.hidden_ml_tools or []),
        allowed_instance_types=list(persona.allowed_instance_types or []),
    )


def do_save_space_policy(policy: SpacePolicy, *, actor: Any) -> SpacePolicy:
    return _save_audited(policy, POLICY_FIELDS, "space_policy", actor=actor)
