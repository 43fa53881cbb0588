"""An admin or an approver of the profile's domain links a profile to a person of the directory, from the profile
page and from ``POST /api/profiles/<id>/link-person/``; audited; everyone else gets a 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from domains import people
from domains.models import Person
from portal.models import AuditEvent
from profiles import services
from profiles.models import PersonSource, UserProfile
from tests.onboarding.world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(aws_sandbox: None) -> World:
    return build_world()


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_approver_links_the_profile_from_its_page(world: World) -> None:
    maria = people.person_for_login(world.scientist)
    profile = world.lead_profile
    approver = client_for(world.approver)
    page = approver.get(f"/profiles/{profile.pk}/").content.decode()
    assert 'id="link-person"' in page and f'<option value="{maria.pk}">' in page
    answer = approver.post(f"/profiles/{profile.pk}/link-person/", {"person": maria.pk}, follow=True)
    assert f"Profile leila now belongs to {maria.display_name}." in answer.content.decode()
    profile.refresh_from_db()
    assert profile.person == maria and profile.person_source == PersonSource.ADMIN
    assert profile.owner == world.scientist
    event = AuditEvent.objects.get(action="profile.person_linked")
    assert event.actor == world.approver and event.after["person"] == maria.display_name
    assert event.before["person"] != maria.display_name


def test_choosing_the_automatic_match_undoes_the_link(world: World) -> None:
    maria = people.person_for_login(world.scientist)
    profile = world.lead_profile
    services.do_link_profile(profile, actor=world.admin, person=maria)
    client_for(world.admin).post(f"/profiles/{profile.pk}/link-person/", {"person": ""})
    profile.refresh_from_db()
    assert profile.person != maria and profile.person_source != PersonSource.ADMIN
    assert AuditEvent.objects.filter(action="profile.person_linked").count() == 2


def test_people_without_the_right_see_no_form_and_get_404(world: World) -> None:
    profile = world.lead_profile
    before = (profile.person_id, profile.person_source)
    maria = people.person_for_login(world.scientist)
    for user in (world.scientist, world.lead, world.finance):
        assert 'id="link-person"' not in client_for(user).get(f"/profiles/{profile.pk}/").content.decode()
    for user in (world.scientist, world.lead, world.finance, world.outsider):
        client = client_for(user)
        assert client.post(f"/profiles/{profile.pk}/link-person/", {"person": maria.pk}).status_code == 404
        api = client.post(f"/api/profiles/{profile.pk}/link-person/", {"person": maria.pk}, format="json")
        assert api.status_code == 404
    assert Client().post(f"/api/profiles/{profile.pk}/link-person/", {"person": maria.pk}).status_code == 403
    profile.refresh_from_db()
    assert (profile.person_id, profile.person_source) == before
    assert not AuditEvent.objects.filter(action="profile.person_linked").exists()


def test_the_api_links_and_unlinks(world: World) -> None:
    maria = people.person_for_login(world.scientist)
    profile = world.lead_profile
    api = client_for(world.admin)
    url = f"/api/profiles/{profile.pk}/link-person/"
    answer = api.post(url, {"person": maria.pk}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["person_name"] == maria.display_name
    answer = api.post(url, {"person": None}, content_type="application/json")
    assert answer.status_code == 200
    profile.refresh_from_db()
    assert profile.person_source != PersonSource.ADMIN


def test_bad_input_gets_a_clear_message_and_changes_nothing(world: World) -> None:
    profile = world.lead_profile
    before = (profile.person_id, profile.person_source)
    api = client_for(world.approver)
    url = f"/api/profiles/{profile.pk}/link-person/"
    missing = api.post(url, {"person": 999999}, content_type="application/json")
    assert missing.status_code == 400 and "No such person" in str(missing.json())
    # an approver picks only from the directory they may see: not someone of another domain only
    stranger = Person.objects.create(display_name="Sam Stranger", email="sam@example.com")
    hidden = api.post(url, {"person": stranger.pk}, content_type="application/json")
    assert hidden.status_code == 400 and "No such person" in str(hidden.json())
    page = client_for(world.approver).post(f"/profiles/{profile.pk}/link-person/", {"person": stranger.pk}, follow=True)
    assert "Select a valid choice" in page.content.decode()
    assert api.post(url, {}, content_type="application/json").status_code == 400
    profile.refresh_from_db()
    assert (profile.person_id, profile.person_source) == before
    assert not AuditEvent.objects.filter(action="profile.person_linked").exists()


def test_a_removed_profile_cannot_be_relinked(world: World) -> None:
    UserProfile.objects.filter(pk=world.lead_profile.pk).update(removed_at=timezone.now())
    profile = UserProfile.objects.get(pk=world.lead_profile.pk)
    with pytest.raises(ValidationError, match="gone from AWS"):
        services.do_link_profile(profile, actor=world.admin, person=people.person_for_login(world.scientist))
    assert 'id="link-person"' not in client_for(world.admin).get(f"/profiles/{profile.pk}/").content.decode()
