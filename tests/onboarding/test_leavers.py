"""Leavers proposed for offboarding: in the approvers' inbox of the domains where they have profiles, and in the API,
until an offboarding is planned or done for them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from domains import people
from domains.models import Person
from onboarding import services
from onboarding.models import Offboarding
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def leave(person: Person) -> Person:
    Person.objects.filter(pk=person.pk).update(status=Person.Status.LEFT, left_at=timezone.now())
    person.refresh_from_db()
    return person


def proposal_ids(user: Any) -> list[int]:
    answer = client_for(user).get("/api/offboarding-proposals/")
    assert answer.status_code == 200
    return [row["id"] for row in answer.json()["results"]]


def test_a_leaver_with_a_profile_is_proposed_to_the_approvers_of_its_domain(world: World) -> None:
    leila = leave(people.person_for_login(world.lead))
    inbox = client_for(world.approver).get("/requests/").content.decode()
    assert f'id="leaver-{leila.pk}"' in inbox and "Leavers to offboard" in inbox
    assert f"/offboarding/new/?person={leila.pk}" in inbox and "Plan offboarding" in inbox
    row = client_for(world.approver).get("/api/offboarding-proposals/").json()["results"][0]
    assert row["id"] == leila.pk and row["live_profiles"] == 1 and row["login"] == "leila" and row["login_active"]
    assert row["plan_url"] == f"/offboarding/new/?person={leila.pk}"
    # the one-click link leads to the person offboarding form with the person chosen
    form = client_for(world.approver).get(row["plan_url"]).content.decode()
    assert "user profile leila" in form


def test_an_active_person_is_not_proposed(world: World) -> None:
    people.person_for_login(world.lead)
    assert proposal_ids(world.approver) == []
    assert "Leavers to offboard" not in client_for(world.approver).get("/requests/").content.decode()


def test_approvers_of_other_domains_and_non_approvers_do_not_see_the_leaver(world: World) -> None:
    from tests.factories import UserFactory, grant

    leave(people.person_for_login(world.lead))
    other_approver = UserFactory(username="otto")
    grant(other_approver, "domain_approver", world.other)
    assert proposal_ids(other_approver) == []
    assert "Leavers to offboard" not in client_for(other_approver).get("/requests/").content.decode()
    assert client_for(world.scientist).get("/api/offboarding-proposals/").status_code == 404
    assert client_for(world.outsider).get("/api/offboarding-proposals/").status_code == 404
    assert "Leavers to offboard" not in client_for(world.scientist).get("/requests/").content.decode()


def test_a_leaver_drops_out_once_a_plan_is_made_and_returns_if_it_is_cancelled(world: World) -> None:
    leila = leave(people.person_for_login(world.lead))
    plan = services.do_plan_offboarding(actor=world.approver, person=leila, reason="Left")
    assert proposal_ids(world.approver) == []
    assert f'id="leaver-{leila.pk}"' not in client_for(world.approver).get("/requests/").content.decode()
    Offboarding.objects.filter(pk=plan.pk).update(status=Offboarding.Status.CANCELLED)
    assert proposal_ids(world.approver) == [leila.pk]
    Offboarding.objects.filter(pk=plan.pk).update(status=Offboarding.Status.DONE)
    assert proposal_ids(world.approver) == []


def test_a_leaver_without_live_profiles_is_proposed_only_to_admins_while_their_login_is_active(world: World) -> None:
    from profiles.models import UserProfile

    leila = leave(people.person_for_login(world.lead))
    UserProfile.objects.filter(name="leila").update(removed_at=timezone.now())
    assert proposal_ids(world.approver) == []
    assert proposal_ids(world.admin) == [leila.pk]
    type(world.lead).objects.filter(pk=world.lead.pk).update(is_active=False)
    assert proposal_ids(world.admin) == []
