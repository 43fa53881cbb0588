"""A sync ties a domain's profiles to people by their owner tags in a fixed number of queries, however many profiles
the domain has, and an admin's choice for an ambiguous owner tag still wins."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from domains import people
from domains.models import Person, PersonMatch
from profiles import services
from profiles.models import PersonSource, UserProfile
from tests.factories import DomainFactory, UserFactory, UserProfileFactory

pytestmark = pytest.mark.django_db


def profiles_owned_by_known_people(count: int) -> list[UserProfile]:
    domain = DomainFactory()
    for n in range(count):
        Person.objects.create(display_name=f"Owner {n}", email=f"owner{n}@example.com")
    return [UserProfileFactory(domain=domain, tags={"owner": f"owner{n}@example.com"}) for n in range(count)]


def queries_to_link(profiles: list[UserProfile]) -> int:
    with CaptureQueriesContext(connection) as queries:
        counts = services.link_people(UserProfile.objects.filter(pk__in=[p.pk for p in profiles]))
    assert counts == {"profiles_linked": len(profiles), "profiles_unlinked": 0}
    return len(queries)


def test_linking_a_domains_profiles_takes_as_many_queries_for_fifty_profiles_as_for_three() -> None:
    few = queries_to_link(profiles_owned_by_known_people(3))
    Person.objects.all().delete()
    many = profiles_owned_by_known_people(50)
    assert queries_to_link(many) == few
    for profile in UserProfile.objects.filter(pk__in=[p.pk for p in many]).select_related("person"):
        assert profile.person_source == PersonSource.TAG
        assert profile.person is not None and profile.person.email == profile.tags["owner"]


def test_an_admins_choice_for_an_ambiguous_owner_tag_links_the_profile() -> None:
    first = Person.objects.create(display_name="Sam One", email="sam@example.com")
    second = Person.objects.create(display_name="Sam Two", email="SAM@example.com")
    profile = UserProfileFactory(tags={"owner": "sam@example.com"})
    plain = UserProfileFactory(domain=profile.domain, tags={"owner": "lee@example.com"})

    services.link_people(UserProfile.objects.filter(domain=profile.domain))
    profile.refresh_from_db()
    assert profile.person is None  # two people have that email: never guessed
    match = PersonMatch.objects.get(key=profile.arn, status=PersonMatch.Status.OPEN)
    assert set(match.candidates.all()) == {first, second}

    people.do_resolve_match(match, actor=UserFactory(is_superuser=True), person=second)
    services.link_people(UserProfile.objects.filter(domain=profile.domain))  # a later sync keeps the choice
    profile.refresh_from_db()
    plain.refresh_from_db()
    assert (profile.person, profile.person_source) == (second, PersonSource.TAG)
    assert plain.person is not None and plain.person.email == "lee@example.com"
    assert not PersonMatch.objects.filter(status=PersonMatch.Status.OPEN).exists()
