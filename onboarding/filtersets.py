"""FilterSets of the onboarding lists, shared by pages and API."""

from __future__ import annotations

import django_filters

from onboarding.models import Offboarding, PersonaTemplate, ProfileRequest, Request, SpaceRequest
from portal.filtering import SearchFilter


class RequestFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Request.Status.choices)
    domain = django_filters.CharFilter(field_name="domain__domain_id", label="Domain id")


class ProfileRequestFilterSet(RequestFilterSet):
    q = SearchFilter(fields=("profile_name", "person__username", "person__email", "requested_by__username"))

    class Meta:
        model = ProfileRequest
        fields = ["q", "status", "domain"]


class SpaceRequestFilterSet(RequestFilterSet):
    q = SearchFilter(fields=("space_name", "display_name", "requested_by__username", "purpose"))

    class Meta:
        model = SpaceRequest
        fields = ["q", "status", "domain"]


class PersonaTemplateFilterSet(django_filters.FilterSet):
    q = SearchFilter(fields=("name", "description", "domain__name"))
    domain = django_filters.CharFilter(field_name="domain__domain_id", label="Domain id")

    class Meta:
        model = PersonaTemplate
        fields = ["q", "domain", "active"]


class OffboardingFilterSet(django_filters.FilterSet):
    q = SearchFilter(fields=("person__username", "person__email", "reason"))
    status = django_filters.ChoiceFilter(choices=Offboarding.Status.choices)

    class Meta:
        model = Offboarding
        fields = ["q", "status"]
