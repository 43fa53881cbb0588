"""FilterSets of the profiles app, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from portal.filtering import InventoryFilterSet, SearchFilter, YesNoAny
from profiles.models import App, Space, UserProfile


class MemberFilterSet(InventoryFilterSet):
    domain = django_filters.CharFilter(field_name="domain__domain_id", label="Domain id")
    account = django_filters.CharFilter(field_name="domain__account__account_id", label="Account id")
    region = django_filters.CharFilter(field_name="domain__region")
    status = django_filters.CharFilter()


class UserProfileFilterSet(MemberFilterSet):
    q = SearchFilter(fields=("name", "sso_user_value", "owner__username", "owner__email"))
    idle_shutdown = django_filters.ChoiceFilter(
        choices=(("ENABLED", "Enabled"), ("DISABLED", "Disabled"), ("unset", "Not set")),
        method="filter_idle",
        label="Idle shutdown",
    )
    has_owner = django_filters.BooleanFilter(
        field_name="owner", lookup_expr="isnull", exclude=True, label="Owner known", widget=YesNoAny
    )

    class Meta:
        model = UserProfile
        fields = ["q", "domain", "account", "region", "status", "idle_shutdown", "has_owner"]

    def filter_idle(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(idle_shutdown="") if value == "unset" else qs.filter(idle_shutdown=value)


class SpaceFilterSet(MemberFilterSet):
    q = SearchFilter(fields=("name", "display_name", "owner_profile_name"))
    sharing_type = django_filters.ChoiceFilter(choices=(("Private", "Private"), ("Shared", "Shared")))
    app_type = django_filters.ChoiceFilter(choices=(("JupyterLab", "JupyterLab"), ("CodeEditor", "Code Editor")))
    instance_type = django_filters.CharFilter()

    class Meta:
        model = Space
        fields = ["q", "domain", "account", "region", "status", "sharing_type", "app_type", "instance_type"]


class AppFilterSet(MemberFilterSet):
    q = SearchFilter(fields=("name", "user_profile_name", "space_name", "instance_type"))
    app_type = django_filters.CharFilter()
    instance_type = django_filters.CharFilter()
    running = django_filters.BooleanFilter(method="filter_running", label="Running", widget=YesNoAny)

    class Meta:
        model = App
        fields = ["q", "domain", "account", "region", "status", "app_type", "instance_type", "running"]

    def filter_running(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        running = Q(status="InService")
        return qs.filter(running) if value else qs.exclude(running)
