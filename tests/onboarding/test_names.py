"""The generic-name rule, one function for every name the portal creates in SageMaker: a profile may not even
start with a generic word; a shared space may (it is shared by design) but may not be made of generic words only."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from onboarding import services
from onboarding.models import SpaceRequest
from tests.onboarding.test_api import api
from tests.onboarding.test_views import client_for
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name", ["team-shared", "shared", "Shared-Team", "test1", "team2-tmp", "default", "team--shared"]
)
def test_a_space_named_with_generic_words_only_is_refused(name: str) -> None:
    message = services.generic_name_error(name, what="space")
    assert message is not None and "generic-name rule" in message


@pytest.mark.parametrize(
    "name", ["team-churn", "shared-forecasting", "churn-model", "testbed-gpu", "team-notebooks", "space0"]
)
def test_a_space_name_that_says_what_it_is_for_passes(name: str) -> None:
    assert services.generic_name_error(name, what="space") is None


def test_the_profile_rule_names_the_rule() -> None:
    with pytest.raises(ValidationError, match="breaks the generic-name rule"):
        services.check_profile_name("team-shared")
    assert services.generic_name_error("team-churn", what="profile") is not None  # stricter for one person


def test_a_space_request_named_team_shared_is_refused_by_service_form_and_api(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.do_submit_space_request(actor=world.lead, **world.space_fields(space_name="team-shared"))
    assert "generic-name rule" in excinfo.value.message_dict["space_name"][0]

    fields = world.space_fields(space_name="team-shared")
    response = client_for(world.lead).post(
        reverse("onboarding:space-request-new"),
        {**fields, "domain": world.research.pk, "expires_on": fields["expires_on"].isoformat()},
    )
    assert response.status_code == 400 and "breaks the generic-name rule" in response.content.decode()

    payload = {**fields, "domain": world.research.arn, "expires_on": fields["expires_on"].isoformat()}
    answer = api(world.lead).post("/api/space-requests/", payload, format="json")
    assert answer.status_code == 400 and "generic-name rule" in answer.json()["space_name"][0]
    assert not SpaceRequest.objects.exists()


def test_profile_and_space_names_are_taken_whatever_their_case(world: World) -> None:
    """SageMaker names are not case sensitive: a synced profile Maria or space Churn-Model takes maria and
    churn-model, so the request is refused with a message instead of failing later at CreateUserProfile."""
    from domains.sync import start_inventory_sync
    from profiles.models import Space, UserProfile
    from tests.inventory import sagemaker

    client = sagemaker()
    client.create_user_profile(DomainId=world.research.domain_id, UserProfileName="Maria")
    client.create_space(DomainId=world.research.domain_id, SpaceName="Churn-Model")
    start_inventory_sync(inline=True)
    assert UserProfile.objects.filter(domain=world.research, name="Maria", removed_at__isnull=True).count() == 1
    assert Space.objects.filter(domain=world.research, name="Churn-Model", removed_at__isnull=True).count() == 1
    with pytest.raises(ValidationError, match="A profile named maria already exists"):
        services.do_submit_profile_request(
            actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
        )
    with pytest.raises(ValidationError) as excinfo:
        services.do_submit_space_request(actor=world.lead, **world.space_fields(space_name="churn-model"))
    assert "already exists or is requested" in excinfo.value.message_dict["space_name"][0]
    start_inventory_sync(inline=True)  # a second sync upserts the same rows, whatever case AWS answers in
    assert UserProfile.objects.filter(domain=world.research, name__iexact="maria").count() == 1
