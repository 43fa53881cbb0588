"""The people pages and API: scoping (outsiders get 404), filters, pinned query counts, resolving a match."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from domains.models import Person, PersonMatch
from tests.factories import DomainFactory, UserFactory, UserProfileFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory() -> dict[str, Any]:
    research, other = DomainFactory(name="research"), DomainFactory(name="other")
    approver, outsider, admin = UserFactory(), UserFactory(), UserFactory()
    grant(approver, "domain_approver", research)
    grant(outsider, "domain_approver", other)
    grant(admin, "platform_admin")
    ana = Person.objects.create(display_name="Ana Lopez", email="ana@example.com")
    bo = Person.objects.create(display_name="Bo Left", email="bo@example.com", status="left")
    UserProfileFactory(domain=research, name="ana", person=ana, person_source="tag")
    UserProfileFactory(domain=other, name="ana-other", person=ana, person_source="tag")
    UserProfileFactory(domain=research, name="bo", person=bo, person_source="sso", sso_user_value="bo")
    return {
        "research": research,
        "other": other,
        "approver": approver,
        "outsider": outsider,
        "admin": admin,
        "ana": ana,
        "bo": bo,
    }


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_outsider_gets_404_on_a_person_of_another_domain(directory: dict[str, Any]) -> None:
    bo = directory["bo"]
    assert client_for(directory["outsider"]).get(f"/people/{bo.pk}/").status_code == 404
    assert client_for(directory["outsider"]).get(f"/api/people/{bo.pk}/").status_code == 404
    assert client_for(directory["approver"]).get(f"/people/{bo.pk}/").status_code == 200


def test_a_person_shows_only_the_profiles_the_viewer_may_see(directory: dict[str, Any]) -> None:
    ana = directory["ana"]
    body = client_for(directory["outsider"]).get(f"/people/{ana.pk}/").content.decode()
    assert "ana-other" in body and ">ana<" not in body
    admin_body = client_for(directory["admin"]).get(f"/people/{ana.pk}/").content.decode()
    assert "Profiles in 2 domains" in admin_body


def test_the_list_filters_by_status_search_and_domain(directory: dict[str, Any]) -> None:
    client = client_for(directory["admin"])
    assert [p["display_name"] for p in client.get("/api/people/?status=left").json()["results"]] == ["Bo Left"]
    assert [p["display_name"] for p in client.get("/api/people/?q=ANA").json()["results"]] == ["Ana Lopez"]
    other = directory["other"].domain_id
    assert [p["display_name"] for p in client.get(f"/api/people/?domain={other}").json()["results"]] == ["Ana Lopez"]
    match = PersonMatch.objects.create(subject="owner_tag", key="arn:x", label="x", reason="two people")
    match.candidates.add(directory["ana"])
    assert [p["display_name"] for p in client.get("/api/people/?status=ambiguous").json()["results"]] == ["Ana Lopez"]
    page = client.get("/people/?status=left").content.decode()
    assert "Bo Left" in page and "Ana Lopez" not in page


def test_the_api_gives_profiles_and_columns(directory: dict[str, Any]) -> None:
    ana = directory["ana"]
    answer = client_for(directory["admin"]).get(f"/api/people/{ana.pk}/").json()
    assert sorted(p["name"] for p in answer["profiles"]) == ["ana", "ana-other"]
    assert set(answer["columns"]) == {"spend", "findings"}


def test_the_people_list_pins_its_query_count(directory: dict[str, Any], django_assert_num_queries: Any) -> None:
    client = client_for(directory["admin"])
    client.get("/people/")
    for n in range(10):
        person = Person.objects.create(display_name=f"Extra {n}", email=f"x{n}@example.com")
        UserProfileFactory(domain=directory["research"], name=f"x{n}", person=person)
    with django_assert_num_queries(15):  # session, user, grants, scope, count, people, 2 prefetches, 5 columns, 2 admin
        assert client.get("/people/").status_code == 200


def test_an_admin_resolves_a_match_from_the_page_and_others_cannot(directory: dict[str, Any]) -> None:
    ana, bo = directory["ana"], directory["bo"]
    match = PersonMatch.objects.create(subject="owner_tag", key="arn:x", label="x", reason="two people")
    match.candidates.add(ana, bo)
    assert client_for(directory["approver"]).get("/people/matches/").status_code == 404
    response = client_for(directory["approver"]).post(f"/api/people/matches/{match.pk}/resolve/", {"person": bo.pk})
    assert response.status_code == 404
    response = client_for(directory["admin"]).post(f"/api/people/matches/{match.pk}/resolve/", {"person": 999})
    assert response.status_code == 400
    client_for(directory["admin"]).post(f"/people/matches/{match.pk}/resolve/", {"person": bo.pk})
    match.refresh_from_db()
    assert match.status == "resolved" and match.chosen == bo
