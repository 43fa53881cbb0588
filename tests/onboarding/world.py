"""A small organisation for onboarding tests: domains in the sandbox, synced, with people in every role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from domains.models import Domain
from onboarding.models import PersonaTemplate, SpacePolicy
from profiles.models import UserProfile
from tests.factories import UserFactory, grant
from tests.inventory import ROLE, make_account, sagemaker
from tests.sandbox_network import placement


@dataclass
class World:
    research: Domain
    risk: Domain  # SSO
    other: Domain
    persona: PersonaTemplate
    risk_persona: PersonaTemplate
    other_persona: PersonaTemplate
    admin: Any
    approver: Any
    approver2: Any
    finance: Any
    lead: Any
    scientist: Any
    outsider: Any
    lead_profile: UserProfile

    def space_fields(self, **overrides: Any) -> dict[str, Any]:
        return {
            "domain": self.research,
            "space_name": "churn-model",
            "display_name": "Churn model",
            "app_type": "JupyterLab",
            "instance_type": "ml.m5.large",
            "ebs_size_gb": 50,
            "idle_timeout_minutes": 120,
            "expires_on": timezone.localdate() + timedelta(days=60),
            "purpose": "Churn model for 2027",
            **overrides,
        }


def build_world() -> World:
    from domains.sync import start_inventory_sync

    client = sagemaker()
    ids = {}
    for name, auth in (("research", "IAM"), ("risk", "SSO"), ("other", "IAM")):
        ids[name] = client.create_domain(
            DomainName=name,
            AuthMode=auth,
            DefaultUserSettings={"ExecutionRole": ROLE},
            **placement(),
        )["DomainId"]
    client.create_user_profile(
        DomainId=ids["research"], UserProfileName="leila", Tags=[{"Key": "owner", "Value": "leila"}]
    )
    UserFactory(username="leila", email="leila@example.com")
    make_account()
    start_inventory_sync(inline=True)
    research, risk, other = (Domain.objects.get(name=n) for n in ("research", "risk", "other"))
    people = {
        u: UserFactory(username=u, email=f"{u}@example.com")
        for u in ("admin", "arjun", "bea", "fiona", "maria", "olga")
    }
    grant(people["admin"], "platform_admin")
    grant(people["arjun"], "domain_approver", research)
    grant(people["arjun"], "domain_approver", risk)
    grant(people["bea"], "domain_approver", research)
    grant(people["fiona"], "finance")
    lead = UserFactory(username="leila")
    grant(lead, "team_lead", research)
    grant(lead, "data_scientist", research)
    grant(people["maria"], "data_scientist", research)
    grant(people["maria"], "data_scientist", risk)
    grant(people["olga"], "data_scientist", other)
    grant(people["olga"], "team_lead", other)

    def persona(domain: Domain) -> PersonaTemplate:
        return PersonaTemplate.objects.create(
            domain=domain,
            name="Data scientist",
            execution_role=ROLE,
            allowed_instance_types=["ml.t3.medium", "ml.m5.large"],
            hidden_app_types=["JupyterServer"],
            hidden_ml_tools=["AutoMl"],
            idle_timeout_minutes=90,
        )

    SpacePolicy.objects.create(
        domain=research,
        allowed_instance_types=["ml.t3.medium", "ml.m5.large"],
        max_ebs_gb=100,
        max_days=180,
        auto_approve_quota=0,
    )
    SpacePolicy.objects.create(domain=other, allowed_instance_types=["ml.t3.medium"], auto_approve_quota=5)
    _identity_center(research.account, ("maria", "arjun", "olga"))
    return World(
        research=research,
        risk=risk,
        other=other,
        persona=persona(research),
        risk_persona=persona(risk),
        other_persona=persona(other),
        admin=people["admin"],
        approver=people["arjun"],
        approver2=people["bea"],
        finance=people["fiona"],
        lead=lead,
        scientist=people["maria"],
        outsider=people["olga"],
        lead_profile=UserProfile.objects.get(name="leila"),
    )


def _identity_center(account: Any, user_names: tuple[str, ...]) -> None:
    """IAM Identity Center users (user name = login, same email) for the people of the SSO domain, listed into the
    directory the way the directory sync does."""
    import boto3
    from django.conf import settings

    from domains import people as directory
    from portal.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY

    kwargs = {
        "region_name": "us-east-1",
        "endpoint_url": settings.AWS_ENDPOINT_URL,
        "aws_access_key_id": SANDBOX_ACCESS_KEY,
        "aws_secret_access_key": SANDBOX_SECRET_KEY,
    }
    store_id = boto3.client("sso-admin", **kwargs).list_instances()["Instances"][0]["IdentityStoreId"]
    store = boto3.client("identitystore", **kwargs)
    for name in user_names:
        store.create_user(
            IdentityStoreId=store_id,
            UserName=name,
            DisplayName=name.capitalize(),
            Name={"GivenName": name.capitalize(), "FamilyName": "Example"},
            Emails=[{"Value": f"{name}@example.com", "Primary": True}],
        )
    directory.sync_identity_center(account, "us-east-1")
    directory.match_directory()
