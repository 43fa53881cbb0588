"""Pieces shared by every FilterSet: text search over several fields and the removed/active switch."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from portal.apitokens import TOKEN_STATES
from portal.models import ApiToken, AuditEvent, GroupRoleMapping, OutgoingMail, TaskRun
from portal.registry import audit_action_choices
from portal.scoping import Role


class SearchFilter(django_filters.CharFilter):
    """``?q=`` matched (case-insensitively, contains) against several fields at once."""

    def __init__(self, *, fields: tuple[str, ...], **kwargs: Any) -> None:
        kwargs.setdefault("label", "Search")
        super().__init__(**kwargs)
        self.search_fields = fields

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        value = (value or "").strip()
        if not value:
            return qs
        condition = Q()
        for name in self.search_fields:
            condition |= Q(**{f"{name}__icontains": value})
        return qs.filter(condition)


class PresenceFilter(django_filters.ChoiceFilter):
    """``?presence=`` active (default), removed or all: removed resources stay in the inventory with history."""

    CHOICES = (("active", "Active"), ("removed", "Removed"), ("all", "All"))

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Present in AWS")
        kwargs.setdefault("empty_label", None)
        kwargs.setdefault("choices", self.CHOICES)
        kwargs.setdefault("method", self.filter_presence)
        super().__init__(**kwargs)

    @staticmethod
    def filter_presence(qs: QuerySet, name: str, value: str) -> QuerySet:
        if value == "removed":
            return qs.filter(removed_at__isnull=False)
        if value == "all":
            return qs
        return qs.filter(removed_at__isnull=True)


class InventoryFilterSet(django_filters.FilterSet):
    """Active rows unless ``presence`` says otherwise, even when the parameter is absent."""

    presence = PresenceFilter()

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and "presence" not in data:
            data = data.copy()
            data["presence"] = "active"
        super().__init__(data, *args, **kwargs)


class YesNoAny(django_filters.widgets.BooleanWidget):
    """A yes/no/any select for boolean filters ('any' rather than Django's 'Unknown')."""

    def __init__(self, attrs: Any = None) -> None:
        super().__init__(attrs)
        self.choices = (("", "Any"), ("true", "Yes"), ("false", "No"))


class TaskRunFilterSet(django_filters.FilterSet):
    """Runs of one kind (syncs, ingestions): by status, trigger and scope."""

    status = django_filters.ChoiceFilter(choices=TaskRun.Status.choices, empty_label="Any status")
    trigger = django_filters.ChoiceFilter(choices=TaskRun.Trigger.choices, empty_label="Any trigger")
    q = SearchFilter(fields=("scope_label", "scope_key"))
    sort_fields = {
        "run": "pk",
        "scope": ("scope_label", "queued_at"),
        "started": "queued_at",
        "status": ("status", "queued_at"),
    }

    class Meta:
        model = TaskRun
        fields = ["status", "trigger", "q"]


def audit_action_filter_choices() -> list[tuple[str, str]]:
    """Every registered audit action, after one entry per family (``budget.``: every budget event)."""
    actions = audit_action_choices()
    families = sorted({name.split(".", 1)[0] for name, _ in actions})
    return [(f"{family}.", f"Every {family} event") for family in families] + actions


class AuditActionFilter(django_filters.ChoiceFilter):
    """``?action=`` one registered audit action, or a family of them (``budget.``)."""

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if value and value.endswith("."):
            return qs.filter(action__startswith=value)
        return super().filter(qs, value)


class AuditEventFilterSet(django_filters.FilterSet):
    q = SearchFilter(fields=("object_repr", "actor_label", "action", "object_id", "request_id"))
    action = AuditActionFilter(choices=audit_action_filter_choices, help_text="e.g. account. or budget.set")
    request_id = django_filters.CharFilter(label="Request id", help_text="e.g. PR-12, SR-3, OB-1")
    actor = django_filters.CharFilter(field_name="actor_label", label="Actor")
    object_type = django_filters.CharFilter(label="Object type")
    domain = django_filters.CharFilter(field_name="domain_arn", label="Domain ARN")
    since = django_filters.DateFilter(
        field_name="at", lookup_expr="date__gte", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        field_name="at", lookup_expr="date__lte", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    sort_fields = {
        "when": "at",
        "actor": ("actor_label", "at"),
        "action": ("action", "at"),
        "object": ("object_type", "object_repr", "at"),
    }

    class Meta:
        model = AuditEvent
        fields = ["q", "action", "actor", "object_type", "domain", "request_id", "since", "until"]


class OutgoingMailFilterSet(django_filters.FilterSet):
    """Outgoing email by state (``?state=failed``) and by recipient or subject."""

    state = django_filters.ChoiceFilter(choices=OutgoingMail.State.choices)
    q = SearchFilter(fields=("subject", "to"))

    class Meta:
        model = OutgoingMail
        fields = ["state", "q"]


class ApiTokenFilterSet(django_filters.FilterSet):
    """API tokens by state (``?state=active|expired|revoked``), owner's user name and name."""

    q = SearchFilter(fields=("name", "prefix", "user__username"))
    user = django_filters.CharFilter(field_name="user__username", lookup_expr="iexact", label="User name")
    state = django_filters.ChoiceFilter(choices=TOKEN_STATES, method="filter_state")

    sort_fields = {
        "created": ("created_at", "pk"),
        "name": ("name", "pk"),
        "user": ("user__username", "created_at"),
        "expires": ("expires_at", "pk"),
        "used": ("last_used_at", "pk"),
    }

    class Meta:
        model = ApiToken
        fields = ["q", "user", "state"]

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        now = timezone.now()
        if value == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if value == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if value == "active":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        return queryset


class GroupRoleMappingFilterSet(django_filters.FilterSet):
    q = SearchFilter(fields=("group",))
    role = django_filters.ChoiceFilter(choices=Role.choices)

    sort_fields = {"group": ("group", "role"), "role": ("role", "group")}

    class Meta:
        model = GroupRoleMapping
        fields = ["q", "role"]
