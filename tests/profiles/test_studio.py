"""Open Studio: only on one's own profile; presigned on IAM domains, the access portal on SSO domains."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from domains.models import Domain
from profiles.models import UserProfile
from profiles.studio import PRESIGNED_URL_SECONDS
from tests.factories import UserFactory, grant
from tests.inventory import make_account, sagemaker
from tests.sandbox_network import placement

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(aws_sandbox: None) -> dict[str, Any]:
    from domains.sync import start_inventory_sync

    client = sagemaker()
    iam = client.create_domain(DomainName="research", AuthMode="IAM", DefaultUserSettings={}, **placement())["DomainId"]
    sso = client.create_domain(DomainName="risk", AuthMode="SSO", DefaultUserSettings={}, **placement())["DomainId"]
    maria = UserFactory(username="maria", email="maria@example.com")
    john = UserFactory(username="john", email="john@example.com")
    client.create_user_profile(DomainId=iam, UserProfileName="maria", Tags=[{"Key": "owner", "Value": "maria"}])
    client.create_user_profile(DomainId=iam, UserProfileName="john", Tags=[{"Key": "owner", "Value": "john"}])
    client.create_user_profile(
        DomainId=sso,
        UserProfileName="maria",
        SingleSignOnUserIdentifier="UserName",
        SingleSignOnUserValue="maria",
        Tags=[{"Key": "owner", "Value": "maria"}],
    )
    make_account()
    start_inventory_sync(inline=True)
    for domain in Domain.objects.all():
        grant(maria, "data_scientist", domain)
        grant(john, "data_scientist", domain)
    return {"maria": maria, "john": john, "iam": iam, "sso": sso}


def profile(domain_name: str, name: str) -> UserProfile:
    return UserProfile.objects.get(domain__name=domain_name, name=name)


def test_a_data_scientist_opens_studio_on_their_own_iam_profile(synced: dict[str, Any]) -> None:
    client = Client()
    client.force_login(synced["maria"])
    response = client.post(reverse("profiles:open-studio", args=[profile("research", "maria").pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(f"https://{synced['iam']}.studio.us-east-1.sagemaker.aws/auth?token=")


def test_never_on_another_persons_profile(synced: dict[str, Any]) -> None:
    client = Client()
    client.force_login(synced["maria"])
    response = client.post(reverse("profiles:open-studio", args=[profile("research", "john").pk]))
    assert response.status_code == 404  # not even visible to her
    api = APIClient()
    api.force_authenticate(synced["maria"])
    assert api.post(f"/api/profiles/{profile('research', 'john').pk}/open-studio/").status_code == 404


def test_sso_domains_send_people_to_the_access_portal(synced: dict[str, Any], settings: Any) -> None:
    api = APIClient()
    api.force_authenticate(synced["maria"])
    sso_profile = profile("risk", "maria")
    refused = api.post(f"/api/profiles/{sso_profile.pk}/open-studio/")
    assert refused.status_code == 400 and "access portal" in str(refused.json())
    settings.SSO_ACCESS_PORTAL_URL = "https://example.awsapps.com/start"
    assert api.post(f"/api/profiles/{sso_profile.pk}/open-studio/").json() == {
        "url": "https://example.awsapps.com/start"
    }


def test_the_api_gives_the_presigned_link(synced: dict[str, Any]) -> None:
    api = APIClient()
    api.force_authenticate(synced["maria"])
    answer = api.post(f"/api/profiles/{profile('research', 'maria').pk}/open-studio/")
    assert answer.status_code == 200 and "/auth?token=" in answer.json()["url"]


def test_a_team_lead_who_sees_a_profile_still_cannot_open_it(synced: dict[str, Any]) -> None:
    lead = UserFactory(username="lead")
    grant(lead, "team_lead", Domain.objects.get(name="research"))
    api = APIClient()
    api.force_authenticate(lead)
    answer = api.post(f"/api/profiles/{profile('research', 'maria').pk}/open-studio/")
    assert answer.status_code == 400 and "only on your own profile" in str(answer.json())


def form_action(response: Any) -> str:
    policy = response["Content-Security-Policy"]
    return next(part.strip() for part in policy.split(";") if part.strip().startswith("form-action"))


def test_the_profile_page_lets_the_open_studio_form_redirect_to_studio_and_nowhere_else(
    synced: dict[str, Any], settings: Any
) -> None:
    """Browsers apply form-action to the redirect after a form: without Studio's origin the button does nothing."""
    client = Client()
    client.force_login(synced["maria"])
    page = reverse("profiles:profile-detail", args=[profile("research", "maria").pk])
    assert form_action(client.get(page)) == f"form-action 'self' https://{synced['iam']}.studio.us-east-1.sagemaker.aws"
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:5116"  # the sandbox server: its presigned URLs lead there
    assert form_action(client.get(page)) == "form-action 'self' http://127.0.0.1:5116"
    sso_page = reverse("profiles:profile-detail", args=[profile("risk", "maria").pk])
    assert form_action(client.get(sso_page)) == "form-action 'self'"  # no access portal configured: no button target
    settings.SSO_ACCESS_PORTAL_URL = "https://example.awsapps.com/start"
    assert form_action(client.get(sso_page)) == "form-action 'self' https://example.awsapps.com"


def test_someone_elses_profile_page_allows_no_studio_redirect(synced: dict[str, Any]) -> None:
    lead = UserFactory(username="lead")
    grant(lead, "team_lead", Domain.objects.get(name="research"))
    client = Client()
    client.force_login(lead)
    response = client.get(reverse("profiles:profile-detail", args=[profile("research", "maria").pk]))
    assert response.status_code == 200 and form_action(response) == "form-action 'self'"


def test_the_api_link_opens_the_sandbox_studio_page_once(synced: dict[str, Any]) -> None:
    from awssandbox import studiopage

    api = APIClient()
    api.force_authenticate(synced["maria"])
    url = api.post(f"/api/profiles/{profile('research', 'maria').pk}/open-studio/").json()["url"]
    first = studiopage.open_url(url)
    assert first.status == 200 and first.grant is not None
    assert (first.grant.domain_id, first.grant.profile) == (synced["iam"], "maria")
    assert first.grant.expires - first.grant.issued == timedelta(seconds=PRESIGNED_URL_SECONDS)
    assert studiopage.open_url(url).status == 403
