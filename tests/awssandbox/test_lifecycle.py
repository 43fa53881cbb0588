"""Contract tests of Studio lifecycles in the sandbox: transitions take clock time, and AWS's rules apply meanwhile.

Every test runs twice: against the sandbox in process, and over HTTP against the sandbox server with plain boto3
clients, setting the clock through ``/_sandbox/clock``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.ec2.models import ec2_backends

from awssandbox.clock import DELETED_APP_VISIBLE_SECONDS, clock
from tests.awssandbox.contract import call_checked
from tests.sandbox_network import DEFAULT_ACCOUNT, placement

ROLE = "arn:aws:iam::123456789012:role/Exec"


class Sandbox:
    """A SageMaker client and the sandbox clock, in process or over the control API."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.sm = boto3.client(
            "sagemaker",
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            endpoint_url=url,
        )

    def control(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.url
        request = urllib.request.Request(f"{self.url}/_sandbox/clock", data=json.dumps(payload).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback test server
            return json.loads(answer.read())

    def takes(self, **seconds: float) -> None:
        """``app_delete=60`` -> app.delete takes 60 s."""
        durations = {key.replace("_", "."): value for key, value in seconds.items()}
        if self.url:
            self.control({"seconds": durations})
        else:
            clock.set(durations)

    def advance(self, seconds: float) -> None:
        if self.url:
            self.control({"advance": seconds})
        else:
            clock.advance(seconds)


@pytest.fixture(params=["in_process", "http"])
def box(request: pytest.FixtureRequest) -> Sandbox:
    if request.param == "in_process":
        request.getfixturevalue("aws_sandbox")
        return Sandbox(None)
    return Sandbox(request.getfixturevalue("sandbox_server"))


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def domain(sm: Any) -> str:
    return sm.create_domain(
        DomainName="team", AuthMode="IAM", DefaultUserSettings={"ExecutionRole": ROLE}, **placement()
    )["DomainId"]


def profile_with_space(sm: Any, domain_id: str) -> None:
    sm.create_user_profile(DomainId=domain_id, UserProfileName="maria")
    sm.create_space(
        DomainId=domain_id,
        SpaceName="notes",
        OwnershipSettings={"OwnerUserProfileName": "maria"},
        SpaceSharingSettings={"SharingType": "Private"},
        SpaceSettings={"AppType": "JupyterLab"},
    )


def space_app(sm: Any, domain_id: str, **extra: Any) -> dict[str, Any]:
    return {"DomainId": domain_id, "SpaceName": "notes", "AppType": "JupyterLab", "AppName": "default", **extra}


def test_transitions_are_instant_unless_a_test_opts_in(box: Sandbox) -> None:
    sm = box.sm
    domain_id = domain(sm)
    profile_with_space(sm, domain_id)
    sm.create_app(**space_app(sm, domain_id))
    assert sm.describe_app(**space_app(sm, domain_id))["Status"] == "InService"
    sm.delete_app(**space_app(sm, domain_id))
    assert sm.describe_app(**space_app(sm, domain_id))["Status"] == "Deleted"
    sm.delete_space(DomainId=domain_id, SpaceName="notes")
    with pytest.raises(ClientError) as exc:
        sm.describe_space(DomainId=domain_id, SpaceName="notes")
    assert code(exc) == "ResourceNotFound"


def test_create_goes_pending_then_in_service(box: Sandbox) -> None:
    sm = box.sm
    box.takes(domain_create=30, profile_create=20, space_create=20, app_create=40)
    domain_id = domain(sm)
    assert call_checked(sm, "describe_domain", DomainId=domain_id)["Status"] == "Pending"
    assert sm.list_domains()["Domains"][0]["Status"] == "Pending"
    box.advance(31)
    assert sm.describe_domain(DomainId=domain_id)["Status"] == "InService"
    profile_with_space(sm, domain_id)
    assert call_checked(sm, "describe_user_profile", DomainId=domain_id, UserProfileName="maria")["Status"] == "Pending"
    assert sm.list_spaces(DomainIdEquals=domain_id)["Spaces"][0]["Status"] == "Pending"
    box.advance(21)
    assert sm.describe_space(DomainId=domain_id, SpaceName="notes")["Status"] == "InService"
    sm.create_app(**space_app(sm, domain_id))
    assert call_checked(sm, "describe_app", **space_app(sm, domain_id))["Status"] == "Pending"
    assert sm.list_apps(DomainIdEquals=domain_id)["Apps"][0]["Status"] == "Pending"
    box.advance(41)
    assert sm.describe_app(**space_app(sm, domain_id))["Status"] == "InService"


def test_update_goes_updating_then_in_service(box: Sandbox) -> None:
    sm = box.sm
    domain_id = domain(sm)
    sm.create_user_profile(DomainId=domain_id, UserProfileName="maria")
    box.takes(profile_update=10, domain_update=10, space_update=10)
    sm.update_user_profile(DomainId=domain_id, UserProfileName="maria", UserSettings={"StudioWebPortal": "DISABLED"})
    sm.update_domain(DomainId=domain_id, DefaultUserSettings={"StudioWebPortal": "ENABLED"})
    assert sm.describe_user_profile(DomainId=domain_id, UserProfileName="maria")["Status"] == "Updating"
    assert sm.describe_domain(DomainId=domain_id)["Status"] == "Updating"
    box.advance(11)
    assert sm.describe_user_profile(DomainId=domain_id, UserProfileName="maria")["Status"] == "InService"
    assert sm.describe_domain(DomainId=domain_id)["Status"] == "InService"


def test_delete_app_goes_deleting_then_deleted_and_stays_listed_for_a_while(box: Sandbox) -> None:
    sm = box.sm
    domain_id = domain(sm)
    profile_with_space(sm, domain_id)
    sm.create_app(**space_app(sm, domain_id))
    box.takes(app_delete=1200)  # "can take up to 20 minutes"
    sm.delete_app(**space_app(sm, domain_id))
    assert call_checked(sm, "describe_app", **space_app(sm, domain_id))["Status"] == "Deleting"
    sm.delete_app(**space_app(sm, domain_id))  # a second delete while Deleting changes nothing
    box.advance(1199)
    assert sm.list_apps(DomainIdEquals=domain_id, SpaceNameEquals="notes")["Apps"][0]["Status"] == "Deleting"
    box.advance(2)
    assert sm.describe_app(**space_app(sm, domain_id))["Status"] == "Deleted"
    assert sm.list_apps(DomainIdEquals=domain_id)["Apps"][0]["Status"] == "Deleted"
    with pytest.raises(ClientError) as exc:
        sm.delete_app(**space_app(sm, domain_id))
    assert code(exc) == "ResourceNotFound"
    box.advance(DELETED_APP_VISIBLE_SECONDS + 1)
    assert sm.list_apps(DomainIdEquals=domain_id)["Apps"] == []
    with pytest.raises(ClientError) as exc:
        sm.describe_app(**space_app(sm, domain_id))
    assert code(exc) == "ResourceNotFound"


def test_delete_space_and_profile_are_in_use_until_every_app_is_deleted(box: Sandbox) -> None:
    sm = box.sm
    domain_id = domain(sm)
    profile_with_space(sm, domain_id)
    sm.create_app(**space_app(sm, domain_id))
    profile_app = {"DomainId": domain_id, "UserProfileName": "maria", "AppType": "JupyterServer", "AppName": "default"}
    sm.create_app(**profile_app)
    box.takes(app_delete=60, space_delete=30, profile_delete=30)
    sm.delete_app(**space_app(sm, domain_id))
    sm.delete_app(**profile_app)
    with pytest.raises(ClientError) as exc:
        sm.delete_space(DomainId=domain_id, SpaceName="notes")
    assert code(exc) == "ResourceInUse"
    with pytest.raises(ClientError) as exc:
        sm.delete_user_profile(DomainId=domain_id, UserProfileName="maria")
    assert code(exc) == "ResourceInUse"
    box.advance(61)
    sm.delete_space(DomainId=domain_id, SpaceName="notes")
    assert call_checked(sm, "describe_space", DomainId=domain_id, SpaceName="notes")["Status"] == "Deleting"
    with pytest.raises(ClientError) as exc:  # it still owns a space that is Deleting
        sm.delete_user_profile(DomainId=domain_id, UserProfileName="maria")
    assert code(exc) == "ResourceInUse"
    box.advance(31)
    with pytest.raises(ClientError) as exc:
        sm.describe_space(DomainId=domain_id, SpaceName="notes")
    assert code(exc) == "ResourceNotFound"
    sm.delete_user_profile(DomainId=domain_id, UserProfileName="maria")
    assert sm.describe_user_profile(DomainId=domain_id, UserProfileName="maria")["Status"] == "Deleting"
    box.advance(31)
    assert sm.list_user_profiles(DomainIdEquals=domain_id)["UserProfiles"] == []


def test_create_app_needs_an_in_service_space(box: Sandbox) -> None:
    sm = box.sm
    domain_id = domain(sm)
    box.takes(space_create=20)
    profile_with_space(sm, domain_id)
    with pytest.raises(ClientError) as exc:
        sm.create_app(**space_app(sm, domain_id))
    assert code(exc) == "ResourceInUse"
    assert "Pending" in exc.value.response["Error"]["Message"]
    box.advance(21)
    sm.create_app(**space_app(sm, domain_id))
    assert sm.describe_app(**space_app(sm, domain_id))["Status"] == "InService"


def test_update_domain_refuses_network_changes_while_apps_are_live(box: Sandbox) -> None:
    sm = box.sm
    domain_id = domain(sm)
    vpc_id, (first, second) = (sm.describe_domain(DomainId=domain_id)[key] for key in ("VpcId", "SubnetIds"))
    ec2 = ec2_backends[DEFAULT_ACCOUNT]["us-east-1"]
    third = ec2.create_subnet(vpc_id=vpc_id, cidr_block=ec2.get_vpc(vpc_id).cidr_block.replace(".0.0/16", ".9.0/24"))
    group = ec2.create_security_group(name="more", description="another group", vpc_id=vpc_id)
    profile_with_space(sm, domain_id)
    sm.create_app(**space_app(sm, domain_id))
    for change in (
        {"AppNetworkAccessType": "VpcOnly"},
        {"SubnetIds": [first]},
        {"DomainSettingsForUpdate": {"SecurityGroupIds": [group.id]}},
    ):
        with pytest.raises(ClientError) as exc:
            sm.update_domain(DomainId=domain_id, **change)
        assert code(exc) == "ResourceInUse", change
    sm.update_domain(DomainId=domain_id, SubnetIds=[first, second, third.id])  # adding is allowed
    sm.update_domain(DomainId=domain_id, DefaultUserSettings={"StudioWebPortal": "ENABLED"})  # not network
    box.takes(app_delete=60)
    sm.delete_app(**space_app(sm, domain_id))
    with pytest.raises(ClientError) as exc:  # Deleting still counts
        sm.update_domain(DomainId=domain_id, AppNetworkAccessType="VpcOnly")
    assert code(exc) == "ResourceInUse"
    box.advance(61)
    sm.update_domain(DomainId=domain_id, AppNetworkAccessType="VpcOnly", SubnetIds=[first])
    described = sm.describe_domain(DomainId=domain_id)
    assert (described["AppNetworkAccessType"], described["SubnetIds"]) == ("VpcOnly", [first])


def test_delete_domain_is_in_use_while_profiles_or_spaces_remain(box: Sandbox) -> None:
    sm = box.sm
    domain_id = domain(sm)
    sm.create_user_profile(DomainId=domain_id, UserProfileName="maria")
    box.takes(profile_delete=30, domain_delete=60)
    for retention in ({}, {"RetentionPolicy": {"HomeEfsFileSystem": "Delete"}}):
        with pytest.raises(ClientError) as exc:
            sm.delete_domain(DomainId=domain_id, **retention)
        assert code(exc) == "ResourceInUse"
    sm.delete_user_profile(DomainId=domain_id, UserProfileName="maria")
    with pytest.raises(ClientError) as exc:  # the profile is Deleting, not gone
        sm.delete_domain(DomainId=domain_id)
    assert code(exc) == "ResourceInUse"
    box.advance(31)
    with pytest.raises(ClientError) as exc:
        sm.delete_domain(DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Maybe"})
    assert code(exc) == "ValidationException"
    sm.delete_domain(DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Delete"})
    assert sm.describe_domain(DomainId=domain_id)["Status"] == "Deleting"
    box.advance(61)
    with pytest.raises(ClientError) as exc:
        sm.describe_domain(DomainId=domain_id)
    assert code(exc) == "ResourceNotFound"


def test_the_clock_control_api_refuses_what_it_cannot_apply(sandbox_server: str) -> None:
    box = Sandbox(sandbox_server)
    for payload in ({"seconds": {"app.explode": 5}}, {"seconds": {"app.delete": -1}}, {"advance": "soon"}, {"x": 1}):
        with pytest.raises(urllib.error.HTTPError) as exc:
            box.control(payload)
        assert exc.value.code == 400, payload
    answer = box.control({"seconds": {"app.delete": 20}})
    assert answer["seconds"]["app.delete"] == 20 and answer["seconds"]["space.delete"] == 0
    with urllib.request.urlopen(urllib.request.Request(f"{sandbox_server}/_sandbox/clock", method="DELETE")) as reply:  # noqa: S310
        assert json.loads(reply.read())["seconds"]["app.delete"] == 0


def test_seeded_resources_created_long_ago_are_in_service_and_new_ones_pending(aws_sandbox: None) -> None:
    from datetime import UTC, datetime, timedelta

    from awssandbox.studio import studio_state

    clock.set({"domain.create": 60, "profile.create": 60, "app.create": 60})
    state = studio_state("123456789012", "us-east-1")
    long_ago = datetime.now(UTC) - timedelta(days=3)
    seeded = state.create_domain(
        name="old", auth_mode="IAM", default_user_settings={"ExecutionRole": ROLE}, created=long_ago
    )
    fresh = state.create_domain(name="new", auth_mode="IAM", default_user_settings={"ExecutionRole": ROLE})
    assert (seeded.status, fresh.status) == ("InService", "Pending")
    state.create_user_profile(domain_id=seeded.domain_id, name="maria", created=long_ago)
    app = state.create_app(
        domain_id=seeded.domain_id, app_type="JupyterServer", name="default", profile="maria", created=long_ago
    )
    assert app.status == "InService"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", {}),
        ("", {}),
        ("app.delete=20, space.create=5", {"app.delete": 20.0, "space.create": 5.0}),
    ],
)
def test_the_lifecycle_setting_is_parsed(text: str, expected: dict[str, float]) -> None:
    from awssandbox.clock import parse_setting

    assert parse_setting(text) == expected


def test_the_demo_setting_and_one_figure_for_every_transition() -> None:
    from awssandbox.clock import DEMO_SECONDS, VALID, parse_setting

    assert parse_setting("demo") == DEMO_SECONDS and all(0 < v <= 10 for v in DEMO_SECONDS.values())
    assert parse_setting("2") == dict.fromkeys(VALID, 2.0)


@pytest.mark.parametrize("text", ["app.explode=3", "app.delete=soon", "app.delete", "-1", "app.update=5"])
def test_a_wrong_lifecycle_setting_stops_the_sandbox_command(text: str, settings: Any) -> None:
    from django.core.management import CommandError, call_command

    settings.AWS_SANDBOX_LIFECYCLE_SECONDS = text
    with pytest.raises(CommandError, match="AWS_SANDBOX_LIFECYCLE_SECONDS"):
        call_command("sandbox", port=1, empty=True)
