"""Change sets and their changes: what was proposed, who decided, and how far the task applying it got."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from domains.models import Domain
from portal.querysets import RestrictedQuerySet
from portal.scoping import ALL_DOMAINS, MEMBER_WIDE_ROLES, Grants, domain_q


class ChangeSet(models.Model):
    """AWS calls on one domain's resources, proposed together, approved by another approver, applied in order."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"
        APPLYING = "applying", "Applying"
        WAITING = "waiting", "Waiting"
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Failed"

    WORKING = (Status.APPROVED, Status.APPLYING, Status.WAITING)  # the states in which a task works on it
    FINISHED = (Status.REJECTED, Status.CANCELLED, Status.APPLIED)

    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="change_sets")
    title = models.CharField(max_length=200)
    origin = models.CharField(max_length=100, blank=True, help_text='What proposed it, e.g. "edit:profile" or a check.')
    finding_ids = models.JSONField(default=list, blank=True, help_text="Findings the change set closes.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_by_label = models.CharField(max_length=150, help_text="Who proposed it (a person or the system).")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was rejected or cancelled.")
    monthly_saving = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress = models.CharField(max_length=300, blank=True, help_text="What the task is doing or waiting for.")
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="How many times it was handed to a worker.")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    task_token = models.CharField(max_length=32, blank=True)
    wait_until = models.DateTimeField(null=True, blank=True, help_text="When waiting (for AWS or apps) gives up.")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "domain"])]

    def __str__(self) -> str:
        return f"{self.ref}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("changesets:detail", args=[self.pk])

    @property
    def ref(self) -> str:
        return f"CS-{self.pk}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        """Change sets show other people's settings: only the roles that see every member of a domain see them."""
        domains = grants.domains_for(action, roles=MEMBER_WIDE_ROLES if action == "view" else None)
        if domains is not ALL_DOMAINS and not domains:
            return None
        return domain_q(domains, "domain__arn")

    @property
    def is_working(self) -> bool:
        return self.status in self.WORKING

    @property
    def is_stalled(self) -> bool:
        if not self.is_working:
            return False
        from django.utils import timezone

        last = self.heartbeat_at or self.updated_at
        return last is None or (timezone.now() - last).total_seconds() > settings.PROVISION_STALE_SECONDS

    def record(self, action: str, *, actor: Any, **fields: Any) -> Any:
        from portal import audit

        if "." not in action:
            action = f"changeset.{action}"
        return audit.record(action, self, actor=actor, domain_arn=self.domain.arn, request_id=self.ref, **fields)


class Change(models.Model):
    """One AWS call of a change set (a :class:`changesets.planning.PlannedChange`, stored) and how it went."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPLIED = "applied", "Applied"
        SKIPPED = "skipped", "Skipped (already so)"
        FAILED = "failed", "Failed"

    change_set = models.ForeignKey(ChangeSet, on_delete=models.CASCADE, related_name="changes")
    position = models.PositiveIntegerField()
    operation = models.CharField(max_length=32)
    resource_arn = models.CharField(max_length=400)
    resource_kind = models.CharField(max_length=16)
    request = models.JSONField(default=dict)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    restarts = models.JSONField(default=list, blank=True)
    needs_no_running_apps = models.BooleanField(default=False)
    monthly_saving = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="AWS calls made for it (0: never called).")
    last_error = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["change_set", "position"]
        constraints = [models.UniqueConstraint(fields=["change_set", "position"], name="change_position_unique")]

    def __str__(self) -> str:
        return f"{self.operation} {self.resource_arn.rsplit('/', 1)[-1]}"

    @property
    def resource_name(self) -> str:
        return self.resource_arn.split(":", 5)[-1]

    @property
    def diff(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for every field the change sets."""
        return [(path, self.before.get(path), value) for path, value in self.after.items()]

    @property
    def shown_diff(self) -> list[tuple[str, Any, Any]]:
        """:attr:`diff` for the page: documents (objects, lists of objects) as indented JSON."""

        def shown(value: Any) -> Any:
            if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict) for v in value)):
                return json.dumps(value, indent=2, sort_keys=False)
            return value

        return [(path, shown(before), shown(after)) for path, before, after in self.diff]
