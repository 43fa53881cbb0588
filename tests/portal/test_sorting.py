"""The shared sort mechanism: ?sort=field / -field from an allow-list, header links that keep the other filters."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from portal.sorting import Sorting

FIELDS = {"name": "name", "domain": ("domain__name", "name")}


def test_a_known_key_orders_by_its_columns_and_the_primary_key() -> None:
    assert Sorting(FIELDS, "domain").order_by() == ["domain__name", "name", "pk"]
    assert Sorting(FIELDS, "-name").order_by() == ["-name", "-pk"]


def test_an_unknown_key_keeps_the_default_order_instead_of_failing() -> None:
    assert Sorting(FIELDS, "password").order_by() == []
    assert Sorting(FIELDS, "-owner__password", default="name").order_by() == ["name", "pk"]
    assert Sorting(FIELDS, "--name").order_by() == []


def test_the_api_name_ordering_is_taken_too() -> None:
    assert Sorting.from_params(FIELDS, params={"ordering": "-domain"}).value == "-domain"
    assert Sorting.from_params(FIELDS, params={"sort": "name", "ordering": "-domain"}).value == "name"


def test_a_header_link_toggles_the_direction_and_keeps_the_filters_but_not_the_page() -> None:
    request = RequestFactory().get("/profiles/", {"status": "InService", "page": "3", "sort": "name"})
    template = Template(
        '{% sort_header "name" "Profile" %}|{% sort_header "domain" "Domain" %}|{% sort_header "x" "X" %}'
    )
    html = template.render(Context({"request": request, "sort": Sorting(FIELDS, "name")}))
    name, domain, plain = html.split("|")
    assert 'href="?status=InService&amp;sort=-name"' in name and "▲" in name
    assert 'href="?status=InService&amp;sort=domain"' in domain and "hx-get" not in domain  # reloads the filters too
    assert plain == "X"
    assert Template('{% sort_header "name" "Profile" %}').render(Context({"request": request})) == "Profile"


LISTS = [
    ("/domains/", "/api/domains/", "domains.filtersets.DomainFilterSet"),
    ("/profiles/", "/api/profiles/", "profiles.filtersets.UserProfileFilterSet"),
    ("/spaces/", "/api/spaces/", "profiles.filtersets.SpaceFilterSet"),
    ("/apps/", "/api/apps/", "profiles.filtersets.AppFilterSet"),
    ("/sync-runs/", "/api/sync-runs/", "portal.filtering.TaskRunFilterSet"),
    ("/costs/runs/", "/api/costs/runs/", "portal.filtering.TaskRunFilterSet"),
    ("/requests/profiles/", "/api/profile-requests/", "onboarding.filtersets.ProfileRequestFilterSet"),
    ("/requests/spaces/", "/api/space-requests/", "onboarding.filtersets.SpaceRequestFilterSet"),
    ("/requests/personas/", "/api/personas/", "onboarding.filtersets.PersonaTemplateFilterSet"),
    ("/offboarding/", "/api/offboardings/", "onboarding.filtersets.OffboardingFilterSet"),
    ("/audit/", "/api/audit/", "portal.filtering.AuditEventFilterSet"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("page", "api", "filterset"), LISTS)
def test_every_sortable_list_sorts_by_every_allowed_key_on_page_and_api(page: str, api: str, filterset: str) -> None:
    from django.test import Client
    from django.utils.module_loading import import_string
    from rest_framework.test import APIClient

    from tests.factories import DomainFactory, UserFactory, UserProfileFactory

    UserProfileFactory(domain=DomainFactory())
    admin = UserFactory(is_superuser=True)
    client, api_client = Client(), APIClient()
    client.force_login(admin)
    api_client.force_authenticate(admin)
    keys = list(import_string(filterset).sort_fields)
    assert keys
    for key in keys:
        for value in (key, f"-{key}"):
            response = client.get(page, {"sort": value})
            assert response.status_code == 200, (page, value)
            assert 'class="sort"' in response.content.decode() or not response.context["object_list"]
            assert api_client.get(api, {"ordering": value}).status_code == 200, (api, value)
