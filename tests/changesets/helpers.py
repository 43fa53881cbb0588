"""Planned changes on the onboarding test organisation (``tests.onboarding.world``)."""

from __future__ import annotations

from typing import Any

from changesets import services
from changesets.models import ChangeSet
from changesets.planning import PlannedChange
from domains.sync import start_inventory_sync
from profiles.models import App
from tests.inventory import sagemaker
from tests.onboarding.world import World

IDLE = "JupyterLabAppSettings.AppLifecycleManagement.IdleSettings"


def idle_change(world: World, minutes: int = 120, name: str = "leila") -> PlannedChange:
    profile = world.research.user_profiles.get(name=name)
    return PlannedChange(
        operation="UpdateUserProfile",
        resource_arn=profile.arn,
        resource_kind="profile",
        request={
            "DomainId": world.research.domain_id,
            "UserProfileName": name,
            "UserSettings": {
                "JupyterLabAppSettings": {
                    "AppLifecycleManagement": {
                        "IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": minutes}
                    }
                }
            },
        },
        before={f"UserSettings.{IDLE}.IdleTimeoutInMinutes": None},
        after={
            f"UserSettings.{IDLE}.LifecycleManagement": "ENABLED",
            f"UserSettings.{IDLE}.IdleTimeoutInMinutes": minutes,
        },
    )


def domain_idle_change(world: World, minutes: int = 90) -> PlannedChange:
    return PlannedChange(
        operation="UpdateDomain",
        resource_arn=world.research.arn,
        resource_kind="domain",
        request={
            "DomainId": world.research.domain_id,
            "DefaultUserSettings": {
                "JupyterLabAppSettings": {
                    "AppLifecycleManagement": {
                        "IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": minutes}
                    }
                }
            },
        },
        after={f"DefaultUserSettings.{IDLE}.IdleTimeoutInMinutes": minutes},
    )


def tag_change(world: World, key: str = "cost-center", value: str = "cc-42") -> PlannedChange:
    return PlannedChange(
        operation="AddTags",
        resource_arn=world.research.arn,
        resource_kind="domain",
        request={"ResourceArn": world.research.arn, "Tags": [{"Key": key, "Value": value}]},
        after={f"Tags.{key}": value},
    )


def network_change(world: World) -> PlannedChange:
    return PlannedChange(
        operation="UpdateDomain",
        resource_arn=world.research.arn,
        resource_kind="domain",
        request={"DomainId": world.research.domain_id, "AppNetworkAccessType": "VpcOnly"},
        before={"AppNetworkAccessType": "PublicInternetOnly"},
        after={"AppNetworkAccessType": "VpcOnly"},
    )


def running_app(world: World, name: str = "default") -> App:
    """A JupyterLab app on leila's private space, synced into the inventory."""
    client = sagemaker()
    domain_id = world.research.domain_id
    client.create_space(
        DomainId=domain_id,
        SpaceName="leila-space",
        OwnershipSettings={"OwnerUserProfileName": "leila"},
        SpaceSharingSettings={"SharingType": "Private"},
        SpaceSettings={"AppType": "JupyterLab"},
    )
    client.create_app(DomainId=domain_id, SpaceName="leila-space", AppType="JupyterLab", AppName=name)
    start_inventory_sync(inline=True)
    return App.objects.get(domain=world.research, name=name, space_name="leila-space")


def delete_app_change(app: App) -> PlannedChange:
    return PlannedChange(
        operation="DeleteApp",
        resource_arn=app.arn,
        resource_kind="app",
        request={
            "DomainId": app.domain.domain_id,
            "SpaceName": app.space_name,
            "AppType": app.app_type,
            "AppName": app.name,
        },
        before={"Status": app.status},
    )


def proposed(world: World, *changes: PlannedChange, by: Any = None, **kwargs: Any) -> ChangeSet:
    return services.propose(by or world.approver, world.research, "Test change set", list(changes), **kwargs)
