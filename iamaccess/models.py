"""Execution roles as IAM holds them, which profiles and spaces each one acts for, and what the policy simulator
answered for the probes of GOVERNANCE.md section 4."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from domains.models import AwsAccount, Domain
from portal.querysets import RestrictedQuerySet
from portal.scoping import MANAGE, Grants, domain_q
from profiles.models import Space, UserProfile


class ExecutionRole(models.Model):
    """An IAM role that acts for SageMaker Studio users (a profile's, a domain's or a shared space's execution
    role), with its policies as ``GetAccountAuthorizationDetails`` last returned them.

    ``policies`` is ``{"inline": [{"name", "document"}], "attached": [{"arn", "name", "version", "document",
    "aws_managed"}], "boundary": {"arn", "name", "version", "document"} | None}``; ``policy_hash`` is the SHA-256 of
    it, so that a review of an unchanged role reuses the simulation it already made. ``read_error`` says why the
    role could not be read (not in a governed account, deleted...).

    Seen by platform admins and by the approvers of a domain the role serves.
    """

    account = models.ForeignKey(
        AwsAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="execution_roles"
    )
    aws_account_id = models.CharField(max_length=12, help_text="The account in the role ARN.")
    arn = models.CharField(max_length=512, unique=True)
    name = models.CharField(max_length=64)
    path = models.CharField(max_length=512, default="/")
    role_id = models.CharField(max_length=128, blank=True)
    policies = models.JSONField(default=dict, blank=True)
    policy_hash = models.CharField(max_length=64, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    policies_changed_at = models.DateTimeField(null=True, blank=True)
    read_error = models.CharField(max_length=500, blank=True)
    evaluation = models.ForeignKey(
        "ProbeEvaluation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.JSONField(
        default=dict, blank=True, help_text="Probe outcomes counted: allowed, conditional, explicitDeny, implicitDeny."
    )
    profile_count = models.PositiveIntegerField(default=0)
    space_count = models.PositiveIntegerField(default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "arn"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        domains = grants.domains_for(MANAGE)
        if not domains:
            return None
        return Q(pk__in=RoleUse.objects.filter(domain_q(domains, "domain__arn")).values("role_id"))

    @property
    def attached(self) -> list[dict[str, Any]]:
        return list((self.policies or {}).get("attached") or [])

    @property
    def inline(self) -> list[dict[str, Any]]:
        return list((self.policies or {}).get("inline") or [])

    @property
    def boundary(self) -> dict[str, Any] | None:
        return (self.policies or {}).get("boundary")

    @property
    def probe_total(self) -> int:
        return sum(int(n) for n in (self.summary or {}).values())

    @property
    def leaks(self) -> int:
        return int((self.summary or {}).get("allowed", 0)) + int((self.summary or {}).get("conditional", 0))


class RoleUse(models.Model):
    """One thing a role acts for, by the effective-settings rules (GOVERNANCE.md sections 2 and 4): a domain's
    default user role, a domain's shared-space role, a profile (its own or the domain's role), a private space (its
    owner's role) or a shared space (the domain's space role)."""

    class Kind(models.TextChoices):
        DOMAIN_DEFAULT = "domain_default", "Domain default for profiles"
        SPACE_DEFAULT = "space_default", "Domain default for shared spaces"
        PROFILE = "profile", "User profile"
        PRIVATE_SPACE = "private_space", "Private space"
        SHARED_SPACE = "shared_space", "Shared space"

    role = models.ForeignKey(ExecutionRole, on_delete=models.CASCADE, related_name="uses")
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    profile = models.ForeignKey(UserProfile, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    space = models.ForeignKey(Space, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=64, help_text="Where the role comes from: profile override, domain default...")

    class Meta:
        ordering = ["domain__name", "kind", "pk"]
        indexes = [models.Index(fields=["domain", "role"])]

    def __str__(self) -> str:
        return f"{self.role} for {self.get_kind_display()}"

    @property
    def target_name(self) -> str:
        if self.profile_id:
            return self.profile.name
        if self.space_id:
            return self.space.name
        return self.domain.name


class ProbeEvaluation(models.Model):
    """What ``iam:SimulatePrincipalPolicy`` answered for one role, policy version (``policy_hash``) and probe set
    (``probe_key``): a review of an unchanged role with the same probes reuses it and calls IAM no more.

    ``results`` is a list of probes, each ``{"domain_id", "subject", "label", "action", "resource", "context",
    "decision", "outcome", "matched": [{"policy", "type", "statement"}], "missing": [...]}``: ``decision`` is IAM's
    (allowed, implicitDeny, explicitDeny); ``outcome`` adds "conditional" for a deny that depends on context
    values the probe did not give (never a pass)."""

    role = models.ForeignKey(ExecutionRole, on_delete=models.CASCADE, related_name="evaluations")
    policy_hash = models.CharField(max_length=64)
    probe_key = models.CharField(max_length=64)
    results = models.JSONField(default=list)
    evaluated_at = models.DateTimeField()
    simulate_calls = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-evaluated_at"]
        constraints = [
            models.UniqueConstraint(fields=["role", "policy_hash", "probe_key"], name="iam_probe_evaluation_once")
        ]

    def __str__(self) -> str:
        return f"{self.role} at {self.evaluated_at:%Y-%m-%d %H:%M}"
