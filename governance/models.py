"""Governance data: each domain's policy (the checks' thresholds), the findings with their history, and a daily
posture snapshot per domain for trends."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from domains.models import Domain
from portal.querysets import RestrictedQuerySet
from portal.scoping import MEMBER_WIDE_ROLES, Grants, domain_q
from profiles.models import member_scope

DEFAULT_GPU_FAMILIES = ["ml.g", "ml.p", "ml.trn", "ml.inf"]
REGULATED_CLASSIFICATIONS = ("confidential", "restricted")


def default_gpu_families() -> list[str]:
    return list(DEFAULT_GPU_FAMILIES)


def default_required_tags() -> list[str]:
    return ["cost-center"]


class GovernancePolicy(models.Model):
    """A domain's thresholds for the checks. A domain without a stored policy uses these defaults."""

    class Regulated(models.TextChoices):
        AUTO = "auto", "From the data-classification tag (confidential or restricted)"
        YES = "yes", "Regulated"
        NO = "no", "Not regulated"

    domain = models.OneToOneField(Domain, on_delete=models.CASCADE, related_name="governance_policy")
    idle_timeout_cap_minutes = models.PositiveIntegerField(
        default=120, help_text="CO-02: the longest idle timeout (and Max) allowed, 60-525600 minutes."
    )
    app_idle_hours = models.PositiveIntegerField(
        default=24, help_text="CO-04: an InService app with no user activity for this many hours is flagged."
    )
    gpu_families = models.JSONField(
        default=default_gpu_families, help_text="Instance type prefixes that count as GPU (high severity)."
    )
    required_tags = models.JSONField(default=default_required_tags, help_text="TG-03: tag keys every domain carries.")
    regulated = models.CharField(max_length=8, choices=Regulated.choices, default=Regulated.AUTO)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["domain__name"]
        verbose_name_plural = "governance policies"

    def __str__(self) -> str:
        return f"Governance policy of {self.domain.name}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        domains = grants.domains_for(action)
        if not isinstance(domains, set):
            return Q()
        return domain_q(domains, "domain__arn") if domains else None

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not 60 <= (self.idle_timeout_cap_minutes or 0) <= 525_600:
            errors["idle_timeout_cap_minutes"] = "AWS accepts idle timeouts of 60 to 525,600 minutes."
        if not 1 <= (self.app_idle_hours or 0) <= 24 * 90:
            errors["app_idle_hours"] = "Between 1 hour and 90 days (2160 hours)."
        families = self.gpu_families
        if not isinstance(families, list) or not all(isinstance(f, str) and f.startswith("ml.") for f in families):
            errors["gpu_families"] = "A list of instance type prefixes starting with 'ml.', e.g. ml.g, ml.p."
        tags = self.required_tags
        if not isinstance(tags, list) or not all(isinstance(t, str) and 1 <= len(t.strip()) <= 128 for t in tags):
            errors["required_tags"] = "A list of tag keys of 1 to 128 characters."
        elif any(t.startswith("aws:") for t in tags):
            errors["required_tags"] = "Tag keys starting with 'aws:' are AWS's own; nobody can add them."
        if errors:
            raise ValidationError(errors)

    def is_regulated(self) -> bool:
        if self.regulated == self.Regulated.AUTO:
            return (self.domain.tags or {}).get("data-classification", "").lower() in REGULATED_CLASSIFICATIONS
        return self.regulated == self.Regulated.YES

    def is_gpu(self, instance_type: str) -> bool:
        return bool(instance_type) and instance_type.startswith(tuple(self.gpu_families or ()))


class Finding(models.Model):
    """What a check found wrong with one resource, from when it was first seen until it is resolved."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Risk accepted"
        RESOLVED = "resolved", "Resolved"

    class Severity(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Kind(models.TextChoices):
        DOMAIN = "domain", "Domain"
        PROFILE = "profile", "User profile"
        SPACE = "space", "Space"
        APP = "app", "App"

    check_id = models.CharField(max_length=16, db_index=True)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="findings")
    resource_arn = models.CharField(max_length=400)
    resource_kind = models.CharField(max_length=16, choices=Kind.choices)
    resource_name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    details = models.CharField(max_length=500, blank=True)
    evidence = models.JSONField(default=list, blank=True)
    fix = models.TextField(blank=True)
    fix_plannable = models.BooleanField(default=False, help_text="A change set can be planned from this finding.")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_reason = models.TextField(blank=True)
    accepted_until = models.DateField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True, help_text="When the approvers were emailed about it.")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["check_id", "resource_arn"],
                condition=Q(status__in=["open", "accepted"]),
                name="one_live_finding_per_check_and_resource",
            )
        ]
        indexes = [models.Index(fields=["domain", "status"]), models.Index(fields=["resource_arn"])]

    def __str__(self) -> str:
        return f"{self.check_id} on {self.resource_name}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        """Approvers, finance and leads see their domains' findings; anyone else only those of their own
        resources."""
        return member_scope(grants, action, "owner")

    @property
    def is_live(self) -> bool:
        return self.status != self.Status.RESOLVED


class FindingEvent(models.Model):
    """One status change of a finding (opened, resolved, accepted, expired, reopened), for its history."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    event = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Finding.Status.choices)
    actor_label = models.CharField(max_length=150, default="system")
    note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.event} at {self.at:%Y-%m-%d %H:%M}"


class PostureSnapshot(models.Model):
    """A domain's posture on one day (the last evaluation of that day wins): live findings by severity and status,
    and the Studio Classic counters."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="posture_snapshots")
    day = models.DateField()
    open_high = models.PositiveIntegerField(default=0)
    open_medium = models.PositiveIntegerField(default=0)
    open_low = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    resolved_today = models.PositiveIntegerField(default=0)
    by_check = models.JSONField(default=dict, blank=True)
    classic_profiles = models.PositiveIntegerField(default=0, help_text="Profiles landing in Studio Classic.")
    classic_apps_running = models.PositiveIntegerField(default=0, help_text="JupyterServer/KernelGateway InService.")
    taken_at = models.DateTimeField()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["domain", "-day"]
        constraints = [models.UniqueConstraint(fields=["domain", "day"], name="one_posture_snapshot_a_day")]

    def __str__(self) -> str:
        return f"Posture of {self.domain_id} on {self.day}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        """A snapshot counts every finding of its domain, so only the roles that read them all see it (approvers,
        finance, team leads; platform admins everywhere), not a data scientist, who sees only their own findings."""
        domains = grants.domains_for(action, roles=MEMBER_WIDE_ROLES)
        if not isinstance(domains, set):
            return Q()
        return domain_q(domains, "domain__arn") if domains else None


class FindingFix(models.Model):
    """A change set proposed to fix a finding. One change set fixes many findings (e.g. idle shutdown on every
    profile of a domain); a finding may have several over time (one rejected, the next applied), but at most one
    that is still pending (proposed or being applied): the fix service refuses a second."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="fixes")
    change_set = models.ForeignKey("changesets.ChangeSet", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["finding", "change_set"], name="one_link_per_finding_and_fix")]

    def __str__(self) -> str:
        return f"{self.change_set_id} fixes finding {self.finding_id}"
