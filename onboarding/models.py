"""What people ask for and what the portal then does in AWS: persona templates, profile and shared-space requests,
offboarding plans. Every state change goes through :mod:`onboarding.services` (rules, audit, emails)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from domains.models import AwsAccount, Domain, Person
from portal.querysets import RestrictedQuerySet
from portal.scoping import ALL_DOMAINS, APPROVE, MANAGE, VIEW, Grants, Role, domain_q
from portal.validation import AUTO_APPROVE_QUOTA, EBS_SIZE_GB, IDLE_TIMEOUT_MINUTES, SPACE_DAYS
from profiles.models import Space, UserProfile

EXECUTION_ROLE_RE = re.compile(r"^arn:aws[a-z\-]*:iam::(\d{12}):role/?[a-zA-Z_0-9+=,.@\-_/]+$")
# Studio apps a template may hide, and the ML tools of Studio's left-hand menu.
HIDEABLE_APP_TYPES = ("JupyterServer", "KernelGateway", "CodeEditor", "JupyterLab", "RStudioServerPro", "Canvas")
HIDEABLE_ML_TOOLS = (
    "DataWrangler",
    "FeatureStore",
    "EmrClusters",
    "AutoMl",
    "Experiments",
    "Training",
    "ModelEvaluation",
    "Pipelines",
    "Models",
    "JumpStart",
    "InferenceRecommender",
    "Endpoints",
    "Projects",
    "InferenceOptimization",
    "HyperPodClusters",
    "Comet",
    "DeepchecksLLMEvaluation",
    "Fiddler",
    "LakeraGuard",
)
SPACE_APP_TYPES = (("JupyterLab", "JupyterLab"), ("CodeEditor", "Code Editor"))
IDLE_MINUTES = IDLE_TIMEOUT_MINUTES.validators()


# Who sees requests beyond their own: approvers and team leads of the request's domain.
REQUEST_WIDE_ROLES = frozenset({Role.DOMAIN_APPROVER, Role.TEAM_LEAD})


def request_scope(grants: Grants, action: str, own: Q) -> Q | None:
    """Requests of the domains where the person may act; for viewing, also the ones they made or are about."""
    if action == VIEW:
        domains = grants.domains_for(VIEW, roles=REQUEST_WIDE_ROLES)
    else:
        domains = grants.domains_for(action)
        own = None  # type: ignore[assignment]
    if domains is ALL_DOMAINS:
        return Q()
    wide = domain_q(domains, "domain__arn") if domains else None
    if wide is not None and own is not None:
        return wide | own
    return wide if wide is not None else own


def instance_type_error(values: list[str] | None) -> str | None:
    """What is wrong with a list of allowed instance types, or None."""
    from portal.pricing import HOURLY_USD

    if not values:
        return "Allow at least one instance type."
    unknown = [t for t in values if t not in HOURLY_USD]
    return f"Not an instance type the portal knows: {', '.join(unknown)}." if unknown else None


def execution_role_error(role_arn: str, domain: Domain | None) -> str | None:
    """What is wrong with ``role_arn`` as the execution role of profiles in ``domain``, or None.

    A profile's apps act with its role's permissions, so the role must live in the domain's own account or in
    another account the portal governs (registered on the Accounts page); a role of an unknown account is refused.
    """
    match = EXECUTION_ROLE_RE.match(role_arn or "")
    if not match:
        return "Not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)."
    if domain is None:
        return None
    account_id = match.group(1)
    if account_id == domain.account.account_id or AwsAccount.objects.filter(account_id=account_id).exists():
        return None
    return (
        f"The role belongs to account {account_id}, which is neither the account of {domain.name} "
        f"({domain.account.account_id}) nor an account registered in the portal. Use a role of the domain's "
        f"account, or have a platform admin add account {account_id} on the Accounts page first."
    )


class PersonaTemplate(models.Model):
    """How a kind of person works in a domain: the UserSettings every profile requested from it gets."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="persona_templates")
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    execution_role = models.CharField(max_length=2048, help_text="IAM role ARN the profile's apps run as.")
    hidden_app_types = models.JSONField(default=list, blank=True)
    hidden_ml_tools = models.JSONField(default=list, blank=True)
    allowed_instance_types = models.JSONField(
        default=list, help_text="Instance types the person may pick; the others are hidden in Studio."
    )
    idle_timeout_minutes = models.PositiveIntegerField(default=60, validators=IDLE_MINUTES)
    studio_new_landing = models.BooleanField(default=True, help_text="Open the new Studio, not Studio Classic.")
    active = models.BooleanField(default=True, help_text="Offered on the request form.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["domain__name", "name"]
        constraints = [models.UniqueConstraint(fields=["domain", "name"], name="one_persona_name_per_domain")]

    def __str__(self) -> str:
        return f"{self.name} ({self.domain.name})"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        """Everyone who may request a profile in a domain sees its templates; approvers manage them."""
        domains = grants.domains_for(MANAGE if action == MANAGE else VIEW)
        if domains is ALL_DOMAINS:
            return Q()
        return domain_q(domains, "domain__arn") if domains else None

    def clean(self) -> None:
        errors: dict[str, str] = {}
        role_error = execution_role_error(self.execution_role, self.domain if self.domain_id else None)
        if role_error:
            errors["execution_role"] = role_error
        bad = [a for a in self.hidden_app_types or [] if a not in HIDEABLE_APP_TYPES]
        if bad:
            errors["hidden_app_types"] = f"Not an app type Studio can hide: {', '.join(bad)}."
        bad = [t for t in self.hidden_ml_tools or [] if t not in HIDEABLE_ML_TOOLS]
        if bad:
            errors["hidden_ml_tools"] = f"Not an ML tool Studio can hide: {', '.join(bad)}."
        instance_error = instance_type_error(self.allowed_instance_types)
        if instance_error:
            errors["allowed_instance_types"] = instance_error
        if errors:
            raise ValidationError(errors)

    def user_settings(self) -> dict[str, Any]:
        """The CreateUserProfile UserSettings: role, what Studio hides, idle shutdown, the new Studio."""
        from portal.pricing import HOURLY_USD

        idle = {
            "AppLifecycleManagement": {
                "IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": self.idle_timeout_minutes}
            }
        }
        hidden_instances = sorted(t for t in HOURLY_USD if t not in self.allowed_instance_types)
        portal_settings: dict[str, Any] = {}
        if self.hidden_app_types:
            portal_settings["HiddenAppTypes"] = list(self.hidden_app_types)
        if self.hidden_ml_tools:
            portal_settings["HiddenMlTools"] = list(self.hidden_ml_tools)
        if hidden_instances:
            portal_settings["HiddenInstanceTypes"] = hidden_instances
        user_settings: dict[str, Any] = {
            "ExecutionRole": self.execution_role,
            "JupyterLabAppSettings": idle,
            "CodeEditorAppSettings": idle,
        }
        if self.studio_new_landing:
            user_settings["StudioWebPortal"] = "ENABLED"
            user_settings["DefaultLandingUri"] = "studio::"
        if portal_settings:
            user_settings["StudioWebPortalSettings"] = portal_settings
        return user_settings


class SpacePolicy(models.Model):
    """A domain's rules for shared spaces: instance types, sizes, lifetime, and how many are approved by quota."""

    domain = models.OneToOneField(Domain, on_delete=models.CASCADE, related_name="space_policy")
    allowed_instance_types = models.JSONField(default=list)
    max_ebs_gb = models.PositiveIntegerField(default=100, validators=EBS_SIZE_GB.validators())
    max_days = models.PositiveIntegerField(
        default=180,
        validators=SPACE_DAYS.validators(),
        help_text="Longest lifetime a space may be requested for.",
    )
    auto_approve_quota = models.PositiveIntegerField(
        default=0,
        validators=AUTO_APPROVE_QUOTA.validators(),
        help_text="Shared spaces the portal approves by itself while fewer are live (0: an approver decides each one).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["domain__name"]
        verbose_name_plural = "space policies"

    def __str__(self) -> str:
        return f"Space policy of {self.domain.name}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        return PersonaTemplate.scope_q(grants, action)

    def clean(self) -> None:
        instance_error = instance_type_error(self.allowed_instance_types)
        if instance_error:
            raise ValidationError({"allowed_instance_types": instance_error})


class ApprovedWork(models.Model):
    """What requests and offboarding plans share: who asked and who decided, and the progress, error and attempts of
    the task that carries the work out. ``request_id`` (e.g. PR-12) names it in emails, tags and the audit log."""

    ID_PREFIX = ""
    WORKING: tuple[str, ...] = ()  # the states in which a task works on it

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    progress = models.CharField(max_length=300, blank=True, help_text="What the task is doing now.")
    error = models.TextField(blank=True, help_text="The AWS error of the last failed attempt.")
    attempts = models.PositiveIntegerField(default=0, help_text="How many times the work was handed to a worker.")
    finished_at = models.DateTimeField(null=True, blank=True)
    # The task working on it proves it is alive by refreshing the heartbeat; work whose heartbeat stopped is handed
    # to a worker again (the sweep, or an approver's "retry now") under a new token, and a task that finds another
    # token on the row stops: at most one chain of tasks works on it at a time.
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the task on it.")
    task_token = models.CharField(max_length=32, blank=True, help_text="The hand-out the working task belongs to.")
    wait_until = models.DateTimeField(null=True, blank=True, help_text="When waiting for AWS gives up.")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_working(self) -> bool:
        return self.status in self.WORKING  # type: ignore[attr-defined]

    @property
    def is_stalled(self) -> bool:
        """Work a task should be on, whose heartbeat stopped for ``PROVISION_STALE_SECONDS``: its worker died, or
        the broker lost the task. The sweep hands it out again; an approver may do so at once."""
        if not self.is_working:
            return False
        from django.utils import timezone

        last = self.heartbeat_at or self.updated_at
        return last is None or (timezone.now() - last).total_seconds() > settings.PROVISION_STALE_SECONDS

    @property
    def request_id(self) -> str:
        return f"{self.ID_PREFIX}-{self.pk}"

    def record(self, action: str, *, actor: Any, domain_arn: str | None = None, **fields: Any) -> Any:
        """An audit event about this work, carrying its request id: ``action`` is a verb of this model
        (``approved`` becomes ``profilerequest.approved``) or a full name (``aws.create_space``)."""
        from portal import audit

        if "." not in action:
            action = f"{self._meta.model_name}.{action}"
        if domain_arn is None:
            domain = getattr(self, "domain", None)
            domain_arn = domain.arn if domain is not None else ""
        return audit.record(action, self, actor=actor, domain_arn=domain_arn, request_id=self.request_id, **fields)


class Request(ApprovedWork):
    """What profile and space requests share: a state machine, who decided, and the AWS outcome."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        PROVISIONING = "provisioning", "Provisioning"
        ACTIVE = "active", "Active"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired: deletion proposed"
        DELETING = "deleting", "Deleting"
        DELETED = "deleted", "Deleted"

    # A request in one of these states holds its name (and, for profiles, the person's place) in the domain.
    OPEN = (
        Status.SUBMITTED,
        Status.APPROVED,
        Status.PROVISIONING,
        Status.ACTIVE,
        Status.FAILED,
        Status.EXPIRED,
        Status.DELETING,
    )
    CANCELLABLE = (Status.SUBMITTED, Status.APPROVED, Status.FAILED)
    WORKING = (Status.APPROVED, Status.PROVISIONING, Status.DELETING)
    # A shared space that can be extended or deleted.
    LIVE_SPACE = (Status.ACTIVE, Status.EXPIRED)

    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    decision_reason = models.CharField(max_length=1000, blank=True)
    auto_approved = models.BooleanField(default=False)

    class Meta:
        abstract = True


class ProfileRequest(Request):
    """A person asks for their own user profile in a domain, from one of its persona templates."""

    ID_PREFIX = "PR"

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="profile_requests")
    template = models.ForeignKey(PersonaTemplate, on_delete=models.PROTECT, related_name="requests")
    profile_name = models.CharField(max_length=63)
    sso_user_name = models.CharField(max_length=128, blank=True)
    justification = models.CharField(max_length=1000, blank=True)
    profile = models.ForeignKey(UserProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    profile_arn = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One person, one profile per domain; one request per name: held by the database too.
            models.UniqueConstraint(
                fields=["domain", "person"],
                condition=Q(status__in=Request.OPEN),
                name="one_open_profile_request_per_person_and_domain",
            ),
            models.UniqueConstraint(
                fields=["domain", "profile_name"],
                condition=Q(status__in=Request.OPEN),
                name="one_open_profile_request_per_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: profile {self.profile_name} in {self.domain.name}"

    def get_absolute_url(self) -> str:
        return reverse("onboarding:profile-request-detail", args=[self.pk])

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        return request_scope(grants, action, Q(person=grants.user) | Q(requested_by=grants.user))


class SpaceRequest(Request):
    """A team lead asks for a shared space, owned by their own profile in the domain, until an expiry date."""

    ID_PREFIX = "SR"
    # Approved and not yet deleted: what counts against the domain's auto-approval quota.
    LIVE = (
        Request.Status.APPROVED,
        Request.Status.PROVISIONING,
        Request.Status.ACTIVE,
        Request.Status.EXPIRED,
        Request.Status.DELETING,
    )

    owner_profile = models.ForeignKey(UserProfile, on_delete=models.PROTECT, related_name="+")
    space_name = models.CharField(max_length=63)
    display_name = models.CharField(max_length=64)
    app_type = models.CharField(max_length=16, choices=SPACE_APP_TYPES)
    instance_type = models.CharField(max_length=32)
    ebs_size_gb = models.PositiveIntegerField(validators=EBS_SIZE_GB.validators())
    idle_timeout_minutes = models.PositiveIntegerField(default=60, validators=IDLE_MINUTES)
    expires_on = models.DateField()
    purpose = models.CharField(max_length=1000)
    estimated_monthly_usd = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    space = models.ForeignKey(Space, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    space_arn = models.CharField(max_length=400, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "space_name"],
                condition=Q(status__in=Request.OPEN),
                name="one_open_space_request_per_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: space {self.space_name} in {self.domain.name}"

    def get_absolute_url(self) -> str:
        return reverse("onboarding:space-request-detail", args=[self.pk])

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        return request_scope(grants, action, Q(requested_by=grants.user) | Q(owner_profile__owner=grants.user))

    @property
    def days_left(self) -> int:
        return (self.expires_on - date.today()).days


class OffboardingStatus(models.TextChoices):
    PLANNED = "planned", "Waiting for approval"
    APPROVED = "approved", "Approved"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed: can resume"
    CANCELLED = "cancelled", "Cancelled"


# At most one of these per person (a constraint of Offboarding's Meta, which cannot see the class's own names).
OFFBOARDING_OPEN = (
    OffboardingStatus.PLANNED,
    OffboardingStatus.APPROVED,
    OffboardingStatus.RUNNING,
    OffboardingStatus.FAILED,
)


class Offboarding(ApprovedWork):
    """Taking a person out of SageMaker: a plan of steps shown first, approved, then carried out by a task."""

    Status = OffboardingStatus

    ID_PREFIX = "OB"
    OPEN = OFFBOARDING_OPEN
    WORKING = (Status.APPROVED, Status.RUNNING)
    CANCELLABLE = (Status.PLANNED, Status.FAILED)

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="offboardings")
    login = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="offboardings",
        help_text="The person's portal login when the plan was made (none: they never had one).",
    )
    reason = models.CharField(max_length=1000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED, db_index=True)
    close_login = models.BooleanField(
        default=True, help_text="The final step removes portal roles, revokes API tokens and deactivates the login."
    )
    keep_login_reason = models.CharField(
        max_length=1000, blank=True, help_text="Why an admin kept the portal login (when close_login is off)."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=list(OFFBOARDING_OPEN)),
                name="one_open_offboarding_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: offboarding {self.person}"

    def get_absolute_url(self) -> str:
        return reverse("onboarding:offboarding-detail", args=[self.pk])

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        """Approvers of a domain the plan touches; acting on a plan is checked step by step in the service."""
        domains = grants.domains_for(APPROVE)
        if domains is ALL_DOMAINS:
            return Q()
        if not domains:
            return None
        touched = OffboardingStep.objects.filter(domain_arn__in=sorted(domains)).values("offboarding_id")
        return Q(pk__in=touched)

    @property
    def percent(self) -> int:
        steps = list(self.steps.all())
        if not steps:
            return 100
        return round(100 * sum(1 for s in steps if s.state != OffboardingStep.State.PENDING) / len(steps))


class OffboardingStep(models.Model):
    """One idempotent step of an offboarding, in the order it runs: apps, private spaces, profiles (AWS), then the
    portal login (no domain: ``domain_arn`` is blank)."""

    class Action(models.TextChoices):
        DELETE_APP = "delete_app", "Delete app"
        DELETE_SPACE = "delete_space", "Delete private space"
        DELETE_PROFILE = "delete_profile", "Delete user profile"
        FLAG_SHARED_SPACE = "flag_shared_space", "Flag shared space (reassign by hand)"
        CLOSE_LOGIN = "close_login", "Remove portal roles, revoke API tokens, deactivate the portal login"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FLAGGED = "flagged", "Flagged"
        FAILED = "failed", "Failed"

    offboarding = models.ForeignKey(Offboarding, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    action = models.CharField(max_length=24, choices=Action.choices)
    domain_arn = models.CharField(max_length=400, blank=True, db_index=True)
    domain_name = models.CharField(max_length=63)
    target = models.CharField(max_length=200, help_text="What the step acts on, as people read it.")
    params = models.JSONField(default=dict, help_text="The AWS call's parameters (domain id, names, app type).")
    resource_arn = models.CharField(max_length=400, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    message = models.CharField(max_length=1000, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["offboarding", "position"]
        constraints = [models.UniqueConstraint(fields=["offboarding", "position"], name="one_step_per_position")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.target}"
