"""Pages of the profiles app: who sees which profiles, spaces and apps; filters; pinned query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import AppFactory, DomainFactory, SpaceFactory, UserFactory, UserProfileFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    risk, research = DomainFactory(name="risk"), DomainFactory(name="research")
    scientist = UserFactory(username="maria")
    grant(scientist, "data_scientist", risk)
    lead = UserFactory(username="leila")
    grant(lead, "team_lead", risk)
    outsider = UserFactory(username="outsider")
    grant(outsider, "domain_approver", research)
    own = UserProfileFactory(domain=risk, name="maria-garcia", owner=scientist)
    other = UserProfileFactory(domain=risk, name="john-smith")
    own_space = SpaceFactory(domain=risk, name="maria-private", sharing_type="Private", owner_profile=own)
    shared = SpaceFactory(domain=risk, name="team-shared", owner_profile=other)
    own_app = AppFactory(domain=risk, user_profile=own, name="lab")
    return {
        "risk": risk,
        "scientist": scientist,
        "lead": lead,
        "outsider": outsider,
        "own": own,
        "other": other,
        "own_space": own_space,
        "shared": shared,
        "own_app": own_app,
    }


def page(user: Any, name: str, *args: Any, **params: Any) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    response = client.get(reverse(name, args=args), params)
    return response.status_code, response.content.decode()


def test_a_data_scientist_sees_only_their_own_profile_and_spaces(world: dict[str, Any]) -> None:
    _, profiles = page(world["scientist"], "profiles:profile-list")
    assert "maria-garcia" in profiles and "john-smith" not in profiles
    _, spaces = page(world["scientist"], "profiles:space-list")
    assert "maria-private" in spaces and "team-shared" not in spaces
    assert page(world["scientist"], "profiles:profile-detail", world["other"].pk)[0] == 404
    assert page(world["scientist"], "profiles:profile-detail", world["own"].pk)[0] == 200


def test_a_team_lead_sees_their_domains_members(world: dict[str, Any]) -> None:
    _, profiles = page(world["lead"], "profiles:profile-list")
    assert "maria-garcia" in profiles and "john-smith" in profiles
    assert page(world["lead"], "profiles:space-detail", world["shared"].pk)[0] == 200


@pytest.mark.parametrize(
    ("url_name", "key"),
    [("profiles:profile-detail", "own"), ("profiles:space-detail", "own_space"), ("profiles:space-detail", "shared")],
)
def test_an_outsider_gets_404(world: dict[str, Any], url_name: str, key: str) -> None:
    assert page(world["outsider"], url_name, world[key].pk)[0] == 404


def test_an_outsider_lists_nothing_of_another_domain(world: dict[str, Any]) -> None:
    for name in ("profiles:profile-list", "profiles:space-list", "profiles:app-list"):
        status, body = page(world["outsider"], name)
        assert status == 200
        assert "maria" not in body and "team-shared" not in body


def test_the_profile_page_shows_settings_spaces_and_apps(world: dict[str, Any]) -> None:
    profile = world["own"]
    profile.hidden_app_types = ["JupyterServer"]
    profile.idle_shutdown, profile.idle_timeout_minutes = "ENABLED", 90
    idle = {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 90}
    profile.settings_snapshot = {"JupyterLabAppSettings": {"AppLifecycleManagement": {"IdleSettings": idle}}}
    profile.save()
    _, body = page(world["scientist"], "profiles:profile-detail", profile.pk)
    assert "JupyterServer" in body and "after 90 min (profile override)" in body
    assert "maria-private" in body and "lab" in body


def test_the_profile_page_shows_the_domain_default_it_follows(world: dict[str, Any]) -> None:
    profile = world["own"]
    idle = {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 120}
    profile.domain.settings_snapshot = {
        "DefaultUserSettings": {"JupyterLabAppSettings": {"AppLifecycleManagement": {"IdleSettings": idle}}}
    }
    profile.domain.save()
    _, body = page(world["scientist"], "profiles:profile-detail", profile.pk)
    assert "after 120 min (domain default)" in body
    _, listing = page(world["scientist"], "profiles:profile-list")
    assert "after 120 min (domain default)" in listing


def test_profile_filters(world: dict[str, Any]) -> None:
    UserProfileFactory(domain=world["risk"], name="no-idle", idle_shutdown="DISABLED")
    _, body = page(world["lead"], "profiles:profile-list", idle_shutdown="DISABLED")
    assert "no-idle" in body and "john-smith" not in body
    _, body = page(world["lead"], "profiles:profile-list", q="garc")
    assert "maria-garcia" in body and "john-smith" not in body


def test_the_app_list_filters_running_apps(world: dict[str, Any]) -> None:
    AppFactory(domain=world["risk"], user_profile=world["other"], name="stopped-one", status="Deleted")
    _, body = page(world["lead"], "profiles:app-list", running="true")
    assert "lab" in body and "stopped-one" not in body


@pytest.mark.parametrize("url_name", ["profiles:profile-list", "profiles:space-list", "profiles:app-list"])
def test_list_pages_keep_a_fixed_number_of_queries(world: dict[str, Any], url_name: str) -> None:
    client = Client()
    client.force_login(world["lead"])

    def grow(n: int) -> None:
        for _ in range(n):
            profile = UserProfileFactory(domain=world["risk"], owner=UserFactory())
            SpaceFactory(domain=world["risk"], owner_profile=profile)
            AppFactory(domain=world["risk"], user_profile=profile)

    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(url_name)).status_code == 200
    grow(8)
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse(url_name)).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


def test_profile_lists_sort_by_an_allowed_column_on_the_page_and_in_the_api(world: dict[str, Any]) -> None:
    UserProfileFactory(domain=world["risk"], name="aaron-first")
    client = Client()
    client.force_login(world["lead"])
    names = lambda response: [p.name for p in response.context["object_list"]]  # noqa: E731
    assert names(client.get(reverse("profiles:profile-list"), {"sort": "name"})) == [
        "aaron-first",
        "john-smith",
        "maria-garcia",
    ]
    descending = client.get(reverse("profiles:profile-list"), {"sort": "-name", "status": "InService"})
    assert names(descending) == ["maria-garcia", "john-smith", "aaron-first"]
    body = descending.content.decode()
    assert 'href="?sort=name&amp;status=InService"' in body or 'href="?status=InService&amp;sort=name"' in body
    assert '<input type="hidden" name="sort" value="-name">' in body  # a filter change keeps the order
    api = APIClient()
    api.force_authenticate(world["lead"])
    for param in ("ordering", "sort"):
        rows = api.get("/api/profiles/", {param: "-name"}).json()["results"]
        assert [r["name"] for r in rows] == ["maria-garcia", "john-smith", "aaron-first"]
    assert api.get("/api/profiles/", {"ordering": "owner__password"}).status_code == 200  # not allowed: ignored


def test_the_filtered_and_sorted_profile_list_pins_its_queries(
    world: dict[str, Any], django_assert_num_queries: Any
) -> None:
    client = Client()
    client.force_login(world["lead"])
    params = {"domain": world["risk"].domain_id, "status": "InService", "sort": "-owner"}
    client.get(reverse("profiles:profile-list"), params)
    # session, user, roles, the domains in scope (filter choices), count, rows
    with django_assert_num_queries(6):
        assert client.get(reverse("profiles:profile-list"), params).status_code == 200
