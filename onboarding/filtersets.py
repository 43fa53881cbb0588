"""FilterSets of the onboarding lists, shared by pages and API."""

from __future__ import annotations

import django_filters

from domains.filtersets import DomainScopedFilterSet, domain_filter
from onboarding.models import Offboarding, PersonaTemplate, ProfileRequest, Request, SpaceRequest
from portal.filtering import SearchFilter


class RequestFilterSet(DomainScopedFilterSet):
    status = django_filters.ChoiceFilter(choices=Request.Status.choices, empty_label="Any status")
    domain = domain_filter()


class ProfileRequestFilterSet(RequestFilterSet):
    q = SearchFilter(fields=("profile_name", "person__username", "person__email", "requested_by__username"))

    sort_fields = {
        "request": "pk",
        "profile": ("profile_name", "pk"),
        "person": ("person__username", "pk"),
        "domain": ("domain__name", "pk"),
        "persona": ("template__name", "pk"),
        "status": ("status", "pk"),
        "asked": "created_at",
    }

    class Meta:
        model = ProfileRequest
        fields = ["q", "status", "domain"]


class SpaceRequestFilterSet(RequestFilterSet):
    q = SearchFilter(fields=("space_name", "display_name", "requested_by__username", "purpose"))

    sort_fields = {
        "request": "pk",
        "space": ("space_name", "pk"),
        "domain": ("domain__name", "pk"),
        "instance": ("instance_type", "pk"),
        "cost": "estimated_monthly_usd",
        "expires": "expires_on",
        "status": ("status", "pk"),
        "asked_by": ("requested_by__username", "pk"),
    }

    class Meta:
        model = SpaceRequest
        fields = ["q", "status", "domain"]


class PersonaTemplateFilterSet(DomainScopedFilterSet):
    q = SearchFilter(fields=("name", "description", "domain__name"))
    domain = domain_filter()

    sort_fields = {"name": ("name", "pk"), "domain": ("domain__name", "name"), "offered": ("active", "name")}

    class Meta:
        model = PersonaTemplate
        fields = ["q", "domain", "active"]


class OffboardingFilterSet(django_filters.FilterSet):
    q = SearchFilter(fields=("person__display_name", "person__email", "login__username", "reason"))
    status = django_filters.ChoiceFilter(choices=Offboarding.Status.choices, empty_label="Any status")
    sort_fields = {
        "plan": "pk",
        "person": ("person__display_name", "pk"),
        "planned_by": ("requested_by__username", "pk"),
        "approved_by": ("decided_by__username", "pk"),
        "status": ("status", "pk"),
    }

    class Meta:
        model = Offboarding
        fields = ["q", "status"]
