"""Tag backfill data: every legacy SageMaker resource discovery found, with the domain attribution decided for it
and the evidence behind it, and the admins' attribution rules (name prefix, S3 prefix)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from domains.models import Domain
from portal.querysets import RestrictedQuerySet
from portal.scoping import MEMBER_WIDE_ROLES, Grants, domain_q

DOMAIN_TAG = "sagemaker:domain-arn"
PROFILE_TAG = "sagemaker:user-profile-arn"
SPACE_TAG = "sagemaker:space-arn"


def coverage_q(grants: Grants) -> Q | None:
    """Legacy resources and coverage are read by the platform admins (every resource, the unattributed ones too)
    and by the roles that see every member of a domain (approvers, finance, team leads), for that domain's."""
    if grants.is_admin:
        return Q()
    domains = grants.domains_for("view", roles=MEMBER_WIDE_ROLES)
    if not isinstance(domains, set):
        return ~Q(domain_arn="")
    return domain_q(domains, "domain_arn") if domains else None


class AttributionRule(models.Model):
    """An admin's rule: resources of the domain's account and region whose name (or an S3 input or output) starts
    with ``prefix`` belong to ``domain``. Used only when none of AWS's own signals decides."""

    class Kind(models.TextChoices):
        NAME_PREFIX = "name-prefix", "Name prefix"
        S3_PREFIX = "s3-prefix", "S3 prefix (input or output)"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    prefix = models.CharField(max_length=512)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="attribution_rules")
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "prefix", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "prefix", "domain"], name="backfill_rule_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.prefix} -> {self.domain.name}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        return None  # rules are the platform admins' (RestrictedQuerySet lets admins see every row)


class LegacyResource(models.Model):
    """One SageMaker resource found by discovery, recorded once (by ARN), with what attribution read."""

    class Coverage(models.TextChoices):
        TAGGED = "tagged", "Tagged"
        ATTRIBUTABLE = "attributable", "Untagged, attributable"
        UNATTRIBUTABLE = "unattributable", "Unattributable"
        EXCEPTED = "excepted", "Excepted"

    class Rule(models.TextChoices):
        DOMAIN_TAG = "domain-tag", "sagemaker:domain-arn tag"
        CREATED_BY = "created-by", "CreatedBy.DomainId"
        PROFILE_TAG = "profile-tag", "User profile or space tag"
        EXECUTION_ROLE = "execution-role", "Execution role of one domain"
        LINEAGE = "lineage", "Lineage"
        NAME_PREFIX = "name-prefix", "Admin rule: name prefix"
        S3_PREFIX = "s3-prefix", "Admin rule: S3 prefix"
        NONE = "", "None decides"

    arn = models.CharField(max_length=1024, unique=True)
    resource_type = models.CharField(max_length=64, db_index=True, help_text="The ARN's type: training-job, model...")
    name = models.CharField(max_length=256)
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=32)
    aws_created_at = models.DateTimeField(null=True, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    # What attribution reads, as discovery found it.
    role_arn = models.CharField(max_length=2048, blank=True)
    s3_uris = models.JSONField(default=list, blank=True)
    created_by_domain_id = models.CharField(max_length=64, blank=True)
    upstream_arn = models.CharField(max_length=1024, blank=True, help_text="What lineage follows.")
    # The attribution.
    domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    domain_arn = models.CharField(max_length=400, blank=True, db_index=True)
    rule = models.CharField(max_length=16, choices=Rule.choices, blank=True)
    attribution_rule = models.ForeignKey(
        AttributionRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="resources"
    )
    evidence = models.JSONField(default=list, blank=True)
    why_unattributed = models.CharField(max_length=500, blank=True)
    coverage = models.CharField(max_length=16, choices=Coverage.choices, db_index=True)
    # An admin's exception: left untagged on purpose.
    excepted_reason = models.CharField(max_length=500, blank=True)
    excepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    excepted_at = models.DateTimeField(null=True, blank=True)
    # Discovery bookkeeping.
    found_tagged_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a discovery found the domain tag on it after recording it without: tagged outside a plan "
        "(by hand, a script), so its earlier spend stays untagged in Cost Explorer.",
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["resource_type", "name", "pk"]
        indexes = [models.Index(fields=["account_id", "region"], name="backfill_res_acct_region")]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.name}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        if action != "view":
            return None
        return coverage_q(grants)

    @property
    def tagged(self) -> bool:
        return DOMAIN_TAG in (self.tags or {})

    def coverage_of(self) -> str:
        """Where this resource stands, from its tags, attribution and exception."""
        if self.tagged:
            return self.Coverage.TAGGED
        if self.excepted_reason:
            return self.Coverage.EXCEPTED
        if self.domain_arn:
            return self.Coverage.ATTRIBUTABLE
        return self.Coverage.UNATTRIBUTABLE


class BackfillPlan(models.Model):
    """A dry run of the backfill: the resources to tag with their domain, frozen when planned. Applied only once
    another approver of every domain involved has approved it."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Awaiting approval"
        APPROVED = "approved", "Approved"
        APPLYING = "applying", "Applying"
        APPLIED = "applied", "Applied"
        PARTIAL = "partial", "Applied, with conflicts or failures"
        CANCELLED = "cancelled", "Cancelled"

    scope_domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED, db_index=True)
    domain_arns = models.JSONField(default=list, help_text="The domains whose resources the plan tags.")
    counts = models.JSONField(default=dict, help_text="Resources by domain, type and rule.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    run = models.ForeignKey("portal.TaskRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"Backfill plan #{self.pk}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        """Platform admins, and the approvers of a domain the plan tags."""
        domains = grants.domains_for("approve")
        if not isinstance(domains, set):
            return Q()
        if not domains:
            return None
        visible = Q(pk__in=[])
        for arn in sorted(domains):
            visible |= Q(domain_arns__icontains=f'"{arn}"')
        return visible

    @property
    def total(self) -> int:
        return sum(self.counts.get("domains", {}).values())


class BackfillApproval(models.Model):
    plan = models.ForeignKey(BackfillPlan, on_delete=models.CASCADE, related_name="approvals")
    domain_arn = models.CharField(max_length=400)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [models.UniqueConstraint(fields=["plan", "domain_arn"], name="backfill_approval_once")]

    def __str__(self) -> str:
        return f"Approval of plan #{self.plan_id} for {self.domain_arn}"


class BackfillItem(models.Model):
    """One resource of a plan and what applying did to it."""

    class Status(models.TextChoices):
        PENDING = "pending", "To tag"
        TAGGED = "tagged", "Tagged"
        ALREADY = "already", "Already tagged with this domain"
        CONFLICT = "conflict", "Tagged with another domain (left as is)"
        TOO_MANY_TAGS = "too_many_tags", "Already holds 50 tags"
        FAILED = "failed", "Failed"

    plan = models.ForeignKey(BackfillPlan, on_delete=models.CASCADE, related_name="items")
    resource = models.ForeignKey(LegacyResource, on_delete=models.CASCADE, related_name="+")
    arn = models.CharField(max_length=1024)
    resource_type = models.CharField(max_length=64)
    name = models.CharField(max_length=256)
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=32)
    domain_arn = models.CharField(max_length=400)
    rule = models.CharField(max_length=16)
    chunk = models.PositiveIntegerField(help_text="The step of the apply run that handles it (100 a step).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    detail = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["chunk", "pk"]
        constraints = [models.UniqueConstraint(fields=["plan", "resource"], name="backfill_item_once")]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.name} in plan #{self.plan_id}"


def may_backfill_costs(grants: Grants) -> bool:
    """Cost allocation tag backfills are asked for and approved by platform admins and by finance of every domain
    (a payer account's bill spans domains)."""
    return grants.is_admin or any(role == "finance" and not arn for role, arn in grants.pairs)


class CostTagBackfill(models.Model):
    """A request to have Cost Explorer re-apply the cost allocation tags to past spend of one payer account
    (StartCostAllocationTagBackfill), made and approved by two different people, then followed until AWS ends it."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Awaiting approval"
        APPROVED = "approved", "Approved, starting"
        STARTED = "started", "Started in AWS"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"

    OPEN = (Status.PROPOSED, Status.APPROVED, Status.STARTED)

    payer = models.ForeignKey("domains.AwsAccount", on_delete=models.CASCADE, related_name="+")
    backfill_from = models.DateField(help_text="The first day of a month, at most 12 months back.")
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    # What AWS answered.
    aws_status = models.CharField(max_length=32, blank=True, help_text="BackfillStatus: PROCESSING, SUCCEEDED...")
    aws_requested_at = models.CharField(max_length=32, blank=True)
    aws_completed_at = models.CharField(max_length=32, blank=True)
    aws_updated_at = models.CharField(max_length=32, blank=True)
    last_error = models.CharField(max_length=1000, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"Cost tag backfill #{self.pk} of {self.payer.account_id} from {self.backfill_from:%Y-%m-%d}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        return Q() if may_backfill_costs(grants) else None

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN
