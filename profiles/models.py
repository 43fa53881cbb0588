"""User profiles, spaces and apps of the inventoried domains."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from domains.models import DescribedItem, Domain, InventoryItem, Person
from portal.querysets import RestrictedQuerySet
from portal.scoping import ALL_DOMAINS, MEMBER_WIDE_ROLES, Grants, domain_q
from profiles import effective


def member_scope(grants: Grants, action: str, owner_field: str) -> Q | None:
    """Members of the domains where a member-wide role allows ``action``, plus the person's own."""
    domains = grants.domains_for(action, roles=MEMBER_WIDE_ROLES)
    own = Q(**{owner_field: grants.user}) if action == "view" else None
    if domains is ALL_DOMAINS:
        return Q()
    if domains:
        wide = domain_q(domains, "domain__arn")
        return wide | own if own is not None else wide
    return own


class PersonSource(models.TextChoices):
    SSO = "sso", "SSO binding"
    TAG = "tag", "owner tag"
    ADMIN = "admin", "linked by an admin"


class UserProfile(DescribedItem):
    """A SageMaker user profile: one person's identity in a domain, with the settings that govern it."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="user_profiles")
    name = models.CharField(max_length=63)
    arn = models.CharField(max_length=400, unique=True)
    status = models.CharField(max_length=32)
    execution_role = models.CharField(max_length=2048, blank=True)
    landing_uri = models.CharField(max_length=200, blank=True)
    studio_web_portal = models.CharField(max_length=16, blank=True, help_text="ENABLED, DISABLED or blank (domain)")
    hidden_app_types = models.JSONField(default=list, blank=True)
    hidden_ml_tools = models.JSONField(default=list, blank=True)
    hidden_instance_types = models.JSONField(default=list, blank=True)
    idle_shutdown = models.CharField(max_length=16, blank=True, help_text="ENABLED, DISABLED or blank (not set)")
    idle_timeout_minutes = models.PositiveIntegerField(null=True, blank=True)
    sso_user_value = models.CharField(max_length=256, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sagemaker_profiles"
    )
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="user_profiles")
    person_source = models.CharField(
        max_length=8, choices=PersonSource.choices, blank=True, help_text="What ties the profile to its person."
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["domain__name", "name"]
        indexes = [models.Index(fields=["domain", "name"])]

    def __str__(self) -> str:
        return f"{self.name} in {self.domain.name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("profiles:profile-detail", args=[self.pk])

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        return member_scope(grants, action, "owner")

    @cached_property
    def effective_settings(self) -> dict[str, effective.Setting]:
        """Its settings over the domain's defaults, each with its source (:mod:`profiles.effective`)."""
        return effective.profile_settings(self.domain.settings_snapshot, self.settings_snapshot)

    @property
    def effective_idle(self) -> str:
        return effective.idle_summary(self.effective_settings)

    def effective(self, name: str) -> Any:
        return self.effective_settings[name]

    @property
    def effective_landing(self) -> effective.Setting:
        return self.effective_settings["DefaultLandingUri"]

    @property
    def effective_web_portal(self) -> effective.Setting:
        return self.effective_settings["StudioWebPortal"]

    @property
    def effective_execution_role(self) -> effective.Setting:
        return self.effective_settings["ExecutionRole"]

    @property
    def studio_experience(self) -> str:
        if self.landing_uri.startswith("app:JupyterServer") or self.studio_web_portal == "DISABLED":
            return Domain.StudioExperience.CLASSIC
        if self.landing_uri or self.studio_web_portal:
            return Domain.StudioExperience.NEW
        return self.domain.studio_experience


class Space(DescribedItem):
    """A SageMaker space: private to its owner's profile or shared with the domain."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="spaces")
    name = models.CharField(max_length=63)
    display_name = models.CharField(max_length=64, blank=True)
    arn = models.CharField(max_length=400, unique=True)
    sharing_type = models.CharField(max_length=16, blank=True)
    owner_profile_name = models.CharField(max_length=63, blank=True)
    owner_profile = models.ForeignKey(
        UserProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_spaces"
    )
    app_type = models.CharField(max_length=32, blank=True)
    instance_type = models.CharField(max_length=32, blank=True)
    ebs_size_gb = models.PositiveIntegerField(null=True, blank=True)
    idle_timeout_minutes = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=32)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["domain__name", "name"]
        indexes = [models.Index(fields=["domain", "name"])]

    def __str__(self) -> str:
        return f"{self.display_name or self.name} in {self.domain.name}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        return member_scope(grants, action, "owner_profile__owner")

    @cached_property
    def effective_settings(self) -> dict[str, effective.Setting]:
        """Idle settings as they apply: the owner's (private) or the domain's space defaults (shared), under the
        space's own timeout (:mod:`profiles.effective`). Reads ``owner_profile`` (select it with the space)."""
        owner = self.owner_profile
        return effective.space_settings(
            self.domain.settings_snapshot,
            self.settings_snapshot or {"AppType": self.app_type or "JupyterLab"},
            shared=self.sharing_type == "Shared",
            owner_user_settings=owner.settings_snapshot if owner else None,
        )

    @property
    def effective_idle(self) -> str:
        return effective.idle_summary(self.effective_settings, self.effective_settings["AppType"].value)


class App(InventoryItem):
    """An app (JupyterLab, Code Editor, ...) running, or once run, on a profile or a space."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="apps")
    user_profile = models.ForeignKey(UserProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="apps")
    space = models.ForeignKey(Space, null=True, blank=True, on_delete=models.SET_NULL, related_name="apps")
    user_profile_name = models.CharField(max_length=63, blank=True)
    space_name = models.CharField(max_length=63, blank=True)
    app_type = models.CharField(max_length=32)
    name = models.CharField(max_length=63)
    arn = models.CharField(max_length=400, unique=True)
    status = models.CharField(max_length=32)
    instance_type = models.CharField(max_length=32, blank=True)
    aws_created_at = models.DateTimeField(null=True, blank=True)
    # ListApps does not carry it: read by DescribeApp only where it is needed (profiles.activity), not by the sync.
    last_user_activity = models.DateTimeField(null=True, blank=True)
    activity_read_at = models.DateTimeField(null=True, blank=True, help_text="When DescribeApp last read the activity.")
    tags = models.JSONField(default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["domain__name", "app_type", "name"]
        indexes = [models.Index(fields=["domain", "status"])]

    def __str__(self) -> str:
        return f"{self.app_type}/{self.name} on {self.user_profile_name or self.space_name}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        own = member_scope(grants, action, "user_profile__owner")
        if own is None or own == Q():
            return own
        return own | Q(space__owner_profile__owner=grants.user) if action == "view" else own

    @property
    def is_running(self) -> bool:
        return self.status == "InService"

    @property
    def owner_label(self) -> str:
        return f"space {self.space_name}" if self.space_name else f"profile {self.user_profile_name}"
