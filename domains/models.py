"""AWS accounts and SageMaker domains, as the inventory sync last saw them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.aws import AccountAccess
from portal.querysets import RestrictedQuerySet
from portal.scoping import ALL_DOMAINS, Grants, domain_q

ACCOUNT_ID_RE = re.compile(r"^\d{12}$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


def validate_regions(value: Any) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("List at least one region, e.g. us-east-1.")
    bad = [r for r in value if not isinstance(r, str) or not REGION_RE.match(r)]
    if bad:
        raise ValidationError(f"Not an AWS region name: {', '.join(map(str, bad))} (expected e.g. eu-west-1).")
    if len(set(value)) != len(value):
        raise ValidationError("A region is listed twice.")


class AwsAccount(models.Model):
    """An AWS account the portal reads SageMaker domains from, in the regions listed.

    In live mode the portal uses the default credential chain and, when ``role_arn`` is set, assumes that role
    (with ``external_id``) in the account. ``is_payer`` marks the account whose Cost Explorer holds the bill.
    ``portal_writes_iam`` is the switch that lets approved change sets write the execution roles' inline policies.
    """

    account_id = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=100)
    regions = models.JSONField(default=list, validators=[validate_regions])
    role_arn = models.CharField(max_length=2048, blank=True)
    external_id = models.CharField(max_length=1224, blank=True)
    is_payer = models.BooleanField(default=False, help_text="Cost Explorer data is read from this account.")
    enabled = models.BooleanField(default=True)
    portal_writes_iam = models.BooleanField(
        default=False,
        help_text="The portal may apply approved IAM policies to the SageMaker execution roles of this account "
        "(iam:PutRolePolicy / DeleteRolePolicy through a change set). Off by default: many shops forbid it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    verified_identity = models.CharField(max_length=2048, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "account_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id})"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        return None  # accounts and their credentials are platform admins' business only

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not ACCOUNT_ID_RE.match(self.account_id or ""):
            errors["account_id"] = "An AWS account id is exactly 12 digits."
        if self.role_arn:
            match = ROLE_ARN_RE.match(self.role_arn)
            if not match:
                errors["role_arn"] = "Not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)."
            elif match.group(1) != self.account_id:
                errors["role_arn"] = f"The role belongs to account {match.group(1)}, not {self.account_id}."
        if self.external_id and not self.role_arn:
            errors["external_id"] = "An external id is only used when assuming a role; give the role ARN too."
        if self.external_id and not EXTERNAL_ID_RE.match(self.external_id):
            errors["external_id"] = "2-1224 characters: letters, digits and +=,.@:/-_ only."
        if errors:
            raise ValidationError(errors)

    @property
    def access(self) -> AccountAccess:
        return AccountAccess(self.account_id, self.role_arn or None, self.external_id or None)


class InventoryItem(models.Model):
    """Fields every synced resource has: when the sync first saw it, last found it changed, and found it gone."""

    first_seen = models.DateTimeField(default=timezone.now)
    last_changed = models.DateTimeField(
        default=timezone.now, help_text="When a sync last found the resource different from what was stored."
    )
    removed_at = models.DateTimeField(null=True, blank=True, help_text="Missing from a completed listing.")

    class Meta:
        abstract = True

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None


class DescribedItem(InventoryItem):
    """What a Describe call told about a resource: its settings, its tags and AWS's own timestamps.

    ``aws_modified_at`` is compared with the listing's LastModifiedTime to decide whether to describe again.
    """

    settings_snapshot = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=dict, blank=True)
    aws_created_at = models.DateTimeField(null=True, blank=True)
    aws_modified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Domain(DescribedItem):
    """A SageMaker domain in one account and region: its settings as last described, and its tags."""

    class StudioExperience(models.TextChoices):
        NEW = "new", "Studio"
        CLASSIC = "classic", "Studio Classic"

    account = models.ForeignKey(AwsAccount, on_delete=models.PROTECT, related_name="domains")
    region = models.CharField(max_length=32)
    domain_id = models.CharField(max_length=64)
    arn = models.CharField(max_length=400, unique=True)
    name = models.CharField(max_length=63)
    status = models.CharField(max_length=32)
    auth_mode = models.CharField(max_length=8, blank=True)
    network_access_type = models.CharField(max_length=32, blank=True)
    vpc_id = models.CharField(max_length=32, blank=True)
    subnet_ids = models.JSONField(default=list, blank=True)
    default_execution_role = models.CharField(max_length=2048, blank=True)
    studio_experience = models.CharField(max_length=8, choices=StudioExperience.choices, blank=True)
    tag_propagation = models.CharField(max_length=16, blank=True)
    url = models.CharField(max_length=400, blank=True)
    members_synced_at = models.DateTimeField(null=True, blank=True, help_text="Last complete member sync.")
    sync_claimed_by = models.ForeignKey(
        "portal.TaskRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sync_claimed_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "domain_id"]
        indexes = [models.Index(fields=["account", "region"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.domain_id})"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        domains = grants.domains_for(action)
        if domains is not ALL_DOMAINS and not domains:
            return None
        return domain_q(domains, "arn")

    @property
    def last_synced_at(self) -> Any:
        return self.members_synced_at or self.last_changed

    def is_stale(self, max_age_minutes: int) -> bool:
        return self.last_synced_at < timezone.now() - timedelta(minutes=max_age_minutes)

    @staticmethod
    def studio_experience_of(user_settings: dict[str, Any]) -> str:
        """Studio Classic when users land in the Jupyter server app or the new web portal is off."""
        landing = (user_settings or {}).get("DefaultLandingUri", "")
        portal = (user_settings or {}).get("StudioWebPortal", "")
        if landing.startswith("app:JupyterServer") or portal == "DISABLED":
            return Domain.StudioExperience.CLASSIC
        return Domain.StudioExperience.NEW


class Person(models.Model):
    """One human, whatever the accounts they hold: Identity Center users, a portal login, the profiles naming them.

    The directory (:mod:`domains.people`) builds people from Identity Center users, portal logins and the owner tags
    of profiles, matching by Identity Center user id, email, then user name, case-insensitively. A person whose
    Identity Center user is gone (or whose SSO-bound profiles name no Identity Center user) has left.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        LEFT = "left", "Left"

    display_name = models.CharField(max_length=200)
    email = models.CharField(max_length=254, blank=True, db_index=True)
    user_name = models.CharField(max_length=128, blank=True, db_index=True, help_text="Identity Center user name.")
    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="person"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    left_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["display_name", "pk"]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("domains:person-detail", args=[self.pk])

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        """Platform admins see everyone; approvers, finance and team leads the people with a profile in their
        domains; everyone sees themselves. Only admins change the directory."""
        from portal.scoping import MEMBER_WIDE_ROLES

        if action != "view":
            return Q() if grants.is_admin else None
        domains = grants.domains_for("view", roles=MEMBER_WIDE_ROLES)
        if domains is ALL_DOMAINS:
            return Q()
        own = Q(portal_user=grants.user) if grants.authenticated else None
        if not domains:
            return own
        ids = Person.objects.filter(domain_q(domains, "user_profiles__domain__arn")).values("pk")
        wide = Q(pk__in=ids)
        return wide | own if own is not None else wide

    @property
    def has_left(self) -> bool:
        return self.status == self.Status.LEFT


class IdentityCenterUser(models.Model):
    """A user of an IAM Identity Center identity store, as the directory sync last listed it, with its groups."""

    account = models.ForeignKey(AwsAccount, on_delete=models.CASCADE, related_name="identity_users")
    region = models.CharField(max_length=32)
    identity_store_id = models.CharField(max_length=64)
    user_id = models.CharField(max_length=64)
    user_name = models.CharField(max_length=128)
    display_name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    groups = models.JSONField(default=list, blank=True, help_text="Display names of the user's groups.")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="identity_users")
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True, help_text="Missing from a completed listing.")

    class Meta:
        ordering = ["user_name"]
        constraints = [
            models.UniqueConstraint(fields=["identity_store_id", "user_id"], name="one_row_per_identity_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_name} ({self.identity_store_id})"


class PersonMatch(models.Model):
    """Something the directory could not tie to one person: an Identity Center user, a portal login or a profile's
    owner tag that matches several people. It stays unlinked until an admin picks the person (never merged
    silently)."""

    class Status(models.TextChoices):
        OPEN = "open", "To resolve"
        RESOLVED = "resolved", "Resolved"

    class Subject(models.TextChoices):
        IDENTITY_USER = "identity_user", "Identity Center user"
        PORTAL_LOGIN = "portal_login", "Portal login"
        OWNER_TAG = "owner_tag", "Profile owner"

    subject = models.CharField(max_length=16, choices=Subject.choices)
    key = models.CharField(max_length=400, help_text="What is matched: an identity user id, a login, a profile ARN.")
    label = models.CharField(max_length=400, help_text="What is matched, as people read it.")
    reason = models.CharField(max_length=400)
    candidates = models.ManyToManyField(Person, related_name="ambiguous_matches")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    chosen = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["status", "-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "key"], condition=Q(status="open"), name="one_open_match_per_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} {self.label}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        return Q() if grants.is_admin else None
