"""Models the portal layer owns: process-wide facts that every app may read."""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.models import Q
from django.urls import reverse

from portal.querysets import RestrictedQuerySet
from portal.registry import audit_action_choices, registry
from portal.scoping import ALL_DOMAINS, MANAGE, SYNC, VIEW, Grants, Role, domain_q


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker ran the heartbeat task; /healthz and the overview read it.

    One row per worker hostname, updated in place, so the table stays as small as the fleet.
    """

    hostname = models.CharField(max_length=255, unique=True)
    beat_at = models.DateTimeField()
    beats = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"{self.hostname} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class TaskRun(models.Model):
    """One piece of background work (an inventory sync, a cost ingestion...) with live progress.

    Pages poll this row, not Celery's result backend. ``scope`` says what the run works on, as the JSON of the
    run kind's own scope value (e.g. ``domains.sync.SyncScope``: ``{}`` for everything, ``{"account_id": ...,
    "region": ...}``, ``{"domain_arn": ...}``); ``scope_key`` is its canonical text, so that at most one run per kind
    and scope is queued or running at a time (a database constraint) and a second request joins the first.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partly failed"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        USER = "user", "Person"
        COMMAND = "command", "Command"
        API = "api", "API"

    kind = models.CharField(max_length=32, help_text="A run kind an app registered (portal.registry).")
    scope = models.JSONField(default=dict, blank=True, help_text="What the run works on ({} for everything).")
    scope_key = models.CharField(max_length=400, editable=False, help_text="scope as canonical JSON text.")
    scope_label = models.CharField(max_length=400)
    domain_arns = models.JSONField(default=list, blank=True, help_text="Domains this run covers, for scoping.")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    started_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="task_runs"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    steps_total = models.PositiveIntegerField(default=0)
    steps_done = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="{resource: {created, updated, removed, unchanged}}")
    aws_calls = models.JSONField(default=dict, blank=True, help_text="{'service:Operation': calls}")
    aws_retried = models.JSONField(
        default=dict, blank=True, help_text="{'service:Operation': attempts botocore made again after a failed one}"
    )
    aws_throttled = models.JSONField(
        default=dict, blank=True, help_text="{'service:Operation': attempts AWS answered with throttling}"
    )
    errors = models.JSONField(default=list, blank=True, help_text="[{scope, message, at}]")
    notes = models.JSONField(default=list, blank=True, help_text="Things worth knowing that are not errors.")
    finished_steps = models.JSONField(default=list, blank=True, help_text="So a redelivered step counts once.")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-queued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "scope_key"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_run_per_scope",
            )
        ]
        indexes = [models.Index(fields=["kind", "-queued_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.scope_label})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.scope_key = self.key_of(self.scope)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "scope" in update_fields:
            kwargs["update_fields"] = {*update_fields, "scope_key"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse(self.url_name("detail"), args=[self.pk])

    @staticmethod
    def key_of(scope: dict[str, Any]) -> str:
        """The canonical text of a scope: equal scopes give equal keys whatever their keys' order."""
        return json.dumps(scope, sort_keys=True, separators=(",", ":"))

    def get_kind_display(self) -> str:
        known = registry.run_kinds.get(self.kind)
        return known.label if known else self.kind

    def url_name(self, page: str) -> str:
        """The name of this run's ``list``, ``detail`` or ``progress`` page, from the app that registered its kind."""
        return f"{registry.run_kind(self.kind).url_prefix}-{page}"

    def get_progress_url(self) -> str:
        return reverse(self.url_name("progress"), args=[self.pk])

    def get_list_url(self) -> str:
        return reverse(self.url_name("list"))

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        """Non-admins see the runs they started, the runs that read a domain they may see (a whole-scope run
        records every domain it read in ``domain_arns``, a domain's own run names it in its scope), and every run
        of a kind whose ``seen_with`` action they have in every domain (finance: every cost ingestion)."""

        if grants.domains_for(SYNC) is ALL_DOMAINS:
            return Q()
        if action != "view":
            return None
        domains = grants.domains_for(VIEW)
        if domains is ALL_DOMAINS:
            return Q()
        visible = Q(started_by=grants.user) | Q(scope__domain_arn__in=sorted(domains))
        for arn in sorted(domains):
            # The JSON text holds each ARN in quotes: a portable "the list contains this ARN" (SQLite has no
            # JSON containment lookup).
            visible |= Q(domain_arns__icontains=f'"{arn}"')
        seen_everywhere = [
            run_kind.kind
            for run_kind in registry.run_kinds.values()
            if run_kind.seen_with and grants.domains_for(run_kind.seen_with) is ALL_DOMAINS
        ]
        if seen_everywhere:
            visible |= Q(kind__in=seen_everywhere)
        return visible

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def percent(self) -> int:
        if not self.steps_total:
            return 0 if self.is_active else 100
        return min(100, round(100 * self.steps_done / self.steps_total))

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        from django.utils import timezone

        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()

    def total(self, outcome: str) -> int:
        """Sum of one outcome (``created``, ``updated``, ``removed``, ``unchanged``) over every resource type."""
        return sum(int(per_type.get(outcome, 0)) for per_type in self.counts.values())

    @property
    def aws_call_total(self) -> int:
        return sum(self.aws_calls.values())

    @property
    def aws_retried_total(self) -> int:
        return sum(self.aws_retried.values())

    @property
    def aws_throttled_total(self) -> int:
        return sum(self.aws_throttled.values())

    def aws_call_rows(self) -> list[tuple[str, int, int, int]]:
        """(call, attempts, retried, throttled) per ``service:Operation``, for pages."""
        return [
            (call, n, self.aws_retried.get(call, 0), self.aws_throttled.get(call, 0))
            for call, n in sorted(self.aws_calls.items())
        ]


class AuditQuerySet(RestrictedQuerySet):
    """Audit events are never changed or removed in bulk either."""

    def update(self, **kwargs: Any) -> int:
        raise ValueError("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit events are append-only.")


class AuditEvent(models.Model):
    """An append-only record of a change a person or a task made: who, when, what, before and after.

    Written by services in the same transaction as the change. Never updated or deleted.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, help_text="The actor's name at the time, or the task's name.")
    action = models.CharField(max_length=64, db_index=True, choices=audit_action_choices)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=400, blank=True)
    object_repr = models.CharField(max_length=400, blank=True)
    domain_arn = models.CharField(max_length=400, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit events are append-only.")

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        """Approvers see the events of their domains; everyone sees what they did themselves."""
        if action != "view":
            return None
        domains = grants.domains_for(MANAGE)
        own = Q(actor=grants.user)
        if domains is ALL_DOMAINS:
            return Q()
        return own | domain_q(domains, "domain_arn") if domains else own


class RoleAssignment(models.Model):
    """A person's role, in one domain (by ARN) or, with a blank ``domain_arn``, in every domain.

    Roles are kept by domain ARN rather than by foreign key so the portal layer, which decides access, does not
    depend on the inventory app; an ARN is stable for a domain's whole life.
    """

    Role = Role

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=32, choices=Role.choices)
    domain_arn = models.CharField(max_length=400, blank=True, help_text="Blank: every domain.")
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(
        max_length=16,
        choices=[("manual", "Given by an admin"), ("sso", "From an identity provider group")],
        default="manual",
        help_text="sso: recomputed from the person's groups at each login through the identity provider.",
    )

    class Meta:
        ordering = ["user__username", "role", "domain_arn"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "domain_arn"], name="one_assignment_per_role_and_domain")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()} in {self.domain_arn or 'every domain'}"


class OutgoingMail(models.Model):
    """One email the portal sends, recorded in the transaction of the change it is about (:mod:`portal.mail`).

    A Celery task sends it once that transaction commits, retrying connection and SMTP errors with backoff; the row
    keeps every attempt's outcome, so a mail server that is down delays an email instead of losing it.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Waiting to retry"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    to = models.JSONField(default=list, help_text="Recipients' addresses.")
    subject = models.CharField(max_length=500)
    body = models.TextField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "outgoing mail"

    def __str__(self) -> str:
        return f"{self.subject} to {', '.join(self.to)}"

    @classmethod
    def scope_q(cls, grants: Any, action: str) -> Q | None:
        """Platform admins only (they see everything without this); anyone else sees none."""
        return None


class ApiTokenQuerySet(RestrictedQuerySet):
    def usable(self) -> ApiTokenQuerySet:
        """Tokens that still open the API: not revoked, not expired."""
        from django.utils import timezone

        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A named API token of one person, with an expiry, the last time it was used, and revocation.

    Only a SHA-256 digest of the key is stored (``key_hash``); the key is shown once, when the token is created
    (:mod:`portal.apitokens`). ``prefix`` (the key's first characters) lets a person tell their tokens apart. A token
    is never deleted: revoking it keeps the row, who revoked it and why.
    """

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The key's first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key, hex.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoke_reason = models.CharField(max_length=300, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"

    @property
    def state(self) -> str:
        from django.utils import timezone

        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        """Everyone sees and revokes their own tokens; platform admins (who see everything) everyone's."""
        return Q(user=grants.user) if grants.authenticated else None


class GroupRoleMapping(models.Model):
    """A group of the company's identity provider (the OIDC ``groups`` claim) that gives a portal role.

    ``domain_arns`` lists the domains the role is given in; empty means every domain (allowed for the roles that
    make sense everywhere, :data:`portal.roles.GLOBAL_ROLES`). Each login through the identity provider recomputes
    the roles a person holds from their groups (:func:`portal.sso.apply_group_roles`).
    """

    group = models.CharField(max_length=200, help_text="The group's name as the identity provider sends it.")
    role = models.CharField(max_length=32, choices=Role.choices)
    domain_arns = models.JSONField(default=list, blank=True, help_text="Empty: every domain.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["group", "role"]
        constraints = [models.UniqueConstraint(fields=["group", "role"], name="one_mapping_per_group_and_role")]

    def __str__(self) -> str:
        return f"{self.group} → {self.get_role_display()}"

    @classmethod
    def scope_q(cls, grants: Grants, action: str) -> Q | None:
        """Platform admins only (they see everything without this)."""
        return None
