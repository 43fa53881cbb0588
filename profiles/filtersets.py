"""FilterSets of the profiles app, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from domains.filtersets import (
    APP_STATUSES,
    RESOURCE_STATUSES,
    DomainScopedFilterSet,
    account_filter,
    domain_filter,
    region_filter,
    status_filter,
)
from portal.filtering import InventoryFilterSet, SearchFilter, YesNoAny
from profiles.models import App, Space, UserProfile


class MemberFilterSet(DomainScopedFilterSet, InventoryFilterSet):
    """Domain, account and region among the domains the person may see; the statuses SageMaker reports."""

    domain = domain_filter()
    account = account_filter("domain__account__account_id")
    region = region_filter("domain__region")
    status = status_filter(RESOURCE_STATUSES)


class UserProfileFilterSet(MemberFilterSet):
    q = SearchFilter(fields=("name", "sso_user_value", "owner__username", "owner__email"))
    idle_shutdown = django_filters.ChoiceFilter(
        choices=(("ENABLED", "Enabled"), ("DISABLED", "Disabled"), ("unset", "Not set")),
        method="filter_idle",
        label="Idle shutdown",
        empty_label="Any",
    )
    has_owner = django_filters.BooleanFilter(
        field_name="owner", lookup_expr="isnull", exclude=True, label="Owner known", widget=YesNoAny
    )

    sort_fields = {
        "name": "name",
        "domain": ("domain__name", "name"),
        "owner": ("owner__username", "sso_user_value", "name"),
        "status": ("status", "name"),
        "idle": ("idle_shutdown", "idle_timeout_minutes", "name"),
    }

    class Meta:
        model = UserProfile
        fields = ["q", "domain", "account", "region", "status", "idle_shutdown", "has_owner"]

    def filter_idle(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(idle_shutdown="") if value == "unset" else qs.filter(idle_shutdown=value)


class SpaceFilterSet(MemberFilterSet):
    q = SearchFilter(fields=("name", "display_name", "owner_profile_name"))
    sharing_type = django_filters.ChoiceFilter(
        choices=(("Private", "Private"), ("Shared", "Shared")), label="Sharing", empty_label="Any"
    )
    app_type = django_filters.ChoiceFilter(
        choices=(("JupyterLab", "JupyterLab"), ("CodeEditor", "Code Editor")), label="App", empty_label="Any"
    )
    instance_type = django_filters.CharFilter()

    sort_fields = {
        "name": "name",
        "domain": ("domain__name", "name"),
        "sharing": ("sharing_type", "name"),
        "owner": ("owner_profile_name", "name"),
        "app": ("app_type", "name"),
        "instance": ("instance_type", "name"),
        "ebs": ("ebs_size_gb", "name"),
        "idle": ("idle_timeout_minutes", "name"),
        "status": ("status", "name"),
    }

    class Meta:
        model = Space
        fields = ["q", "domain", "account", "region", "status", "sharing_type", "app_type", "instance_type"]


class AppFilterSet(MemberFilterSet):
    status = status_filter(APP_STATUSES)
    q = SearchFilter(fields=("name", "user_profile_name", "space_name", "instance_type"))
    app_type = django_filters.CharFilter()
    instance_type = django_filters.CharFilter()
    running = django_filters.BooleanFilter(method="filter_running", label="Running", widget=YesNoAny)

    sort_fields = {
        "name": "name",
        "domain": ("domain__name", "name"),
        "on": ("space_name", "user_profile_name", "name"),
        "type": ("app_type", "name"),
        "instance": ("instance_type", "name"),
        "status": ("status", "name"),
        "started": "aws_created_at",
        "activity": "last_user_activity",
    }

    class Meta:
        model = App
        fields = ["q", "domain", "account", "region", "status", "app_type", "instance_type", "running"]

    def filter_running(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        running = Q(status="InService")
        return qs.filter(running) if value else qs.exclude(running)
