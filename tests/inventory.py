"""Building small organisations in the AWS sandbox through its public API, for inventory tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from django.conf import settings

from domains.models import AwsAccount
from portal.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY
from tests.sandbox_network import placement

ACCOUNT_ID = "123456789012"  # what plain sandbox credentials reach
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/SageMakerExecution"


def sagemaker(region: str = REGION) -> Any:
    """A client that is not the portal's (its calls are not counted as the portal's), on the sandbox in use:
    the in-process one, or the server at ``settings.AWS_ENDPOINT_URL``."""
    return boto3.client(
        "sagemaker",
        region_name=region,
        endpoint_url=settings.AWS_ENDPOINT_URL,
        aws_access_key_id=SANDBOX_ACCESS_KEY,
        aws_secret_access_key=SANDBOX_SECRET_KEY,
    )


@dataclass
class Org:
    domains: dict[str, str] = field(default_factory=dict)  # name -> domain id
    profiles: list[tuple[str, str]] = field(default_factory=list)  # (domain id, profile name)
    spaces: list[tuple[str, str]] = field(default_factory=list)
    apps: list[tuple[str, str, str]] = field(default_factory=list)  # (domain id, owner, app name)


def build_org(
    domains: int = 2, profiles: int = 3, spaces: int = 1, apps_per_profile: int = 1, region: str = REGION
) -> Org:
    client = sagemaker(region)
    org = Org()
    for d in range(domains):
        name = f"team{d}"
        answer = client.create_domain(
            DomainName=name,
            AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": ROLE},
            **placement(region),
            Tags=[{"Key": "team", "Value": name}],
        )
        domain_id = answer["DomainId"]
        org.domains[name] = domain_id
        for p in range(profiles):
            profile = f"person{p}-{name}"
            client.create_user_profile(
                DomainId=domain_id,
                UserProfileName=profile,
                UserSettings={
                    "ExecutionRole": ROLE,
                    "JupyterLabAppSettings": {
                        "AppLifecycleManagement": {
                            "IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 60 + p}
                        }
                    },
                },
                Tags=[{"Key": "owner", "Value": f"person{p}"}],
            )
            org.profiles.append((domain_id, profile))
            for a in range(apps_per_profile):
                app_name = f"app{a}"
                client.create_app(
                    DomainId=domain_id,
                    UserProfileName=profile,
                    AppType="JupyterServer",
                    AppName=app_name if a else "default",
                    ResourceSpec={"InstanceType": "system"},
                )
                org.apps.append((domain_id, profile, app_name if a else "default"))
        for s in range(spaces):
            space = f"shared{s}-{name}"
            client.create_space(
                DomainId=domain_id,
                SpaceName=space,
                SpaceDisplayName=f"Shared {s}",
                OwnershipSettings={"OwnerUserProfileName": f"person0-{name}"},
                SpaceSharingSettings={"SharingType": "Shared"},
                SpaceSettings={
                    "AppType": "JupyterLab",
                    "SpaceStorageSettings": {"EbsStorageSettings": {"EbsVolumeSizeInGb": 20}},
                },
            )
            org.spaces.append((domain_id, space))
            client.create_app(
                DomainId=domain_id,
                SpaceName=space,
                AppType="JupyterLab",
                AppName="default",
                ResourceSpec={"InstanceType": "ml.t3.medium"},
            )
            org.apps.append((domain_id, space, "default"))
    return org


def make_account(account_id: str = ACCOUNT_ID, regions: list[str] | None = None, **fields: Any) -> AwsAccount:
    return AwsAccount.objects.create(
        account_id=account_id, name=f"Account {account_id}", regions=regions or [REGION], **fields
    )
