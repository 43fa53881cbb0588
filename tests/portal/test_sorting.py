"""The shared sort mechanism: ?sort=field / -field from an allow-list, header links that keep the other filters."""

from __future__ import annotations

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
    assert 'href="?status=InService&amp;sort=domain"' in domain and 'hx-target="#results"' in domain
    assert plain == "X"
    assert Template('{% sort_header "name" "Profile" %}').render(Context({"request": request})) == "Profile"
