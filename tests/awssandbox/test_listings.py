"""Studio listings as AWS lists them (order, default pages, cursor tokens), case-insensitive profile and space names,
AWS's validation of Describe names and of enums from botocore's model: in process and over HTTP alike."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from awssandbox.clock import clock
from tests.awssandbox.aws_clients import MODES, make_clients
from tests.awssandbox.contract import call_checked
from tests.sandbox_network import placement

ROLE = "arn:aws:iam::123456789012:role/Exec"


@pytest.fixture(params=MODES)
def client(request: pytest.FixtureRequest) -> Any:
    return make_clients(request)


@pytest.fixture
def sm(client: Any) -> Any:
    return client("sagemaker")


@pytest.fixture
def unchecked(client: Any, sm: Any) -> Any:
    """A client that sends what botocore's own validation would refuse, to see the sandbox refuse it."""
    import boto3

    return boto3.client(
        "sagemaker",
        region_name="us-east-1",
        endpoint_url=sm.meta.endpoint_url if "127.0.0.1" in sm.meta.endpoint_url else None,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(parameter_validation=False),
    )


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def make_domain(sm: Any, name: str = "team") -> str:
    return sm.create_domain(
        DomainName=name, AuthMode="IAM", DefaultUserSettings={"ExecutionRole": ROLE}, **placement()
    )["DomainId"]


def later() -> None:
    clock.advance(1)


def test_listings_are_ascending_by_creation_time_by_default_and_honour_sort(sm: Any) -> None:
    domain_id = make_domain(sm)
    for name in ("zed", "amy", "mid"):
        later()
        sm.create_user_profile(DomainId=domain_id, UserProfileName=name)
        sm.create_space(DomainId=domain_id, SpaceName=f"{name}-space")
        sm.create_app(DomainId=domain_id, UserProfileName=name, AppType="JupyterServer", AppName="default")
    later()
    sm.update_user_profile(DomainId=domain_id, UserProfileName="zed", UserSettings={"ExecutionRole": ROLE})
    profiles = call_checked(sm, "list_user_profiles", DomainIdEquals=domain_id)["UserProfiles"]
    assert [p["UserProfileName"] for p in profiles] == ["zed", "amy", "mid"]
    profiles = sm.list_user_profiles(DomainIdEquals=domain_id, SortOrder="Descending")["UserProfiles"]
    assert [p["UserProfileName"] for p in profiles] == ["mid", "amy", "zed"]
    profiles = sm.list_user_profiles(DomainIdEquals=domain_id, SortBy="LastModifiedTime")["UserProfiles"]
    assert [p["UserProfileName"] for p in profiles] == ["amy", "mid", "zed"]
    spaces = call_checked(sm, "list_spaces", DomainIdEquals=domain_id)["Spaces"]
    assert [s["SpaceName"] for s in spaces] == ["zed-space", "amy-space", "mid-space"]
    spaces = sm.list_spaces(DomainIdEquals=domain_id, SortOrder="Descending")["Spaces"]
    assert [s["SpaceName"] for s in spaces] == ["mid-space", "amy-space", "zed-space"]
    apps = call_checked(sm, "list_apps", DomainIdEquals=domain_id)["Apps"]
    assert [a["UserProfileName"] for a in apps] == ["zed", "amy", "mid"]
    apps = sm.list_apps(DomainIdEquals=domain_id, SortBy="CreationTime", SortOrder="Descending")["Apps"]
    assert [a["UserProfileName"] for a in apps] == ["mid", "amy", "zed"]


def test_list_domains_is_ascending_and_pages_ten_by_default(sm: Any) -> None:
    ids = []
    for n in range(12):
        later()
        ids.append(make_domain(sm, f"team-{n}"))
    first = call_checked(sm, "list_domains")
    assert [d["DomainId"] for d in first["Domains"]] == ids[:10] and "NextToken" in first
    second = call_checked(sm, "list_domains", NextToken=first["NextToken"])
    assert [d["DomainId"] for d in second["Domains"]] == ids[10:] and "NextToken" not in second


def test_tokens_are_cursors_a_resource_created_during_a_listing_is_neither_repeated_nor_lost(sm: Any) -> None:
    domain_id = make_domain(sm)
    for n in range(6):
        later()
        sm.create_user_profile(DomainId=domain_id, UserProfileName=f"p{n}")
    for order, new_name in (("Ascending", "late-asc"), ("Descending", "late-desc")):
        seen: list[str] = []
        page = sm.list_user_profiles(DomainIdEquals=domain_id, MaxResults=2, SortOrder=order)
        seen += [p["UserProfileName"] for p in page["UserProfiles"]]
        later()
        sm.create_user_profile(DomainId=domain_id, UserProfileName=new_name)  # created mid-listing
        sm.delete_user_profile(DomainId=domain_id, UserProfileName=seen[0])  # and one already listed goes
        while "NextToken" in page:
            page = sm.list_user_profiles(
                DomainIdEquals=domain_id, MaxResults=2, SortOrder=order, NextToken=page["NextToken"]
            )
            seen += [p["UserProfileName"] for p in page["UserProfiles"]]
        assert len(seen) == len(set(seen)), seen  # nothing repeated
        before = {f"p{n}" for n in range(6)} | ({"late-asc"} if order == "Descending" else set())
        assert before - {"p0"} <= set(seen), seen  # nothing that existed when the listing began is lost
    for bad in ("garbage!", "c2J4OjQ="):  # not ours; an offset token of the old kind
        with pytest.raises(ClientError) as exc:
            sm.list_user_profiles(DomainIdEquals=domain_id, NextToken=bad)
        assert code(exc) == "ValidationException"


def test_profile_and_space_names_are_not_case_sensitive(sm: Any) -> None:
    domain_id = make_domain(sm)
    sm.create_user_profile(DomainId=domain_id, UserProfileName="Wei-Chen")
    with pytest.raises(ClientError) as exc:
        sm.create_user_profile(DomainId=domain_id, UserProfileName="wei-chen")
    assert code(exc) == "ResourceInUse"
    described = call_checked(sm, "describe_user_profile", DomainId=domain_id, UserProfileName="WEI-CHEN")
    assert described["UserProfileName"] == "Wei-Chen"  # the name as created
    sm.create_space(
        DomainId=domain_id,
        SpaceName="Lab",
        OwnershipSettings={"OwnerUserProfileName": "wei-chen"},
        SpaceSharingSettings={"SharingType": "Private"},
        SpaceSettings={"AppType": "JupyterLab"},
    )
    with pytest.raises(ClientError) as exc:
        sm.create_space(DomainId=domain_id, SpaceName="LAB")
    assert code(exc) == "ResourceInUse"
    space = call_checked(sm, "describe_space", DomainId=domain_id, SpaceName="lab")
    assert space["SpaceName"] == "Lab" and space["OwnershipSettings"]["OwnerUserProfileName"] == "Wei-Chen"
    sm.create_app(DomainId=domain_id, SpaceName="lab", AppType="JupyterLab", AppName="default")
    app = call_checked(sm, "describe_app", DomainId=domain_id, SpaceName="LAB", AppType="JupyterLab", AppName="default")
    assert app["SpaceName"] == "Lab"
    assert [a["SpaceName"] for a in sm.list_apps(DomainIdEquals=domain_id, SpaceNameEquals="lAb")["Apps"]] == ["Lab"]
    sm.delete_app(DomainId=domain_id, SpaceName="lab", AppType="JupyterLab", AppName="default")
    with pytest.raises(ClientError) as exc:
        sm.delete_user_profile(DomainId=domain_id, UserProfileName="wei-chen")
    assert code(exc) == "ResourceInUse"  # it still owns the space, whatever case the space was named in


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("describe_domain", {"DomainId": "not a domain"}),
        ("describe_user_profile", {"DomainId": "{domain}", "UserProfileName": "bad_name"}),
        ("describe_space", {"DomainId": "{domain}", "SpaceName": "-lead"}),
        ("describe_app", {"DomainId": "{domain}", "UserProfileName": "maria", "AppType": "Notebook", "AppName": "x"}),
        (
            "describe_app",
            {"DomainId": "{domain}", "UserProfileName": "maria", "AppType": "JupyterLab", "AppName": "a.b"},
        ),
    ],
)
def test_malformed_names_and_ids_are_validation_errors(
    sm: Any, unchecked: Any, operation: str, params: dict[str, str]
) -> None:
    domain_id = make_domain(sm)
    sm.create_user_profile(DomainId=domain_id, UserProfileName="maria")
    with pytest.raises(ClientError) as exc:
        getattr(unchecked, operation)(**{k: v.replace("{domain}", domain_id) for k, v in params.items()})
    assert code(exc) == "ValidationException"


def test_unknown_but_well_formed_names_are_resource_not_found(sm: Any) -> None:
    domain_id = make_domain(sm)
    calls = [
        ("describe_domain", {"DomainId": "d-000000000000"}),
        ("describe_user_profile", {"DomainId": domain_id, "UserProfileName": "nobody"}),
        ("describe_space", {"DomainId": domain_id, "SpaceName": "nowhere"}),
        ("describe_app", {"DomainId": domain_id, "SpaceName": "nowhere", "AppType": "JupyterLab", "AppName": "x"}),
    ]
    for operation, params in calls:
        with pytest.raises(ClientError) as exc:
            getattr(sm, operation)(**params)
        assert code(exc) == "ResourceNotFound", operation


def _enum(shape: str) -> list[str]:
    return botocore.session.get_session().get_service_model("sagemaker").shape_for(shape).enum


@pytest.mark.parametrize(
    ("member", "shape", "bad"),
    [
        ("HiddenAppTypes", "AppType", "Notebook"),
        ("HiddenMlTools", "MlTools", "Hammer"),
        ("HiddenInstanceTypes", "AppInstanceType", "ml.x99.huge"),
    ],
)
def test_hidden_lists_are_checked_against_the_service_model(
    sm: Any, unchecked: Any, member: str, shape: str, bad: str
) -> None:
    domain_id = make_domain(sm)
    every = _enum(shape)
    sm.create_user_profile(
        DomainId=domain_id, UserProfileName="all", UserSettings={"StudioWebPortalSettings": {member: every}}
    )
    with pytest.raises(ClientError) as exc:
        unchecked.create_user_profile(
            DomainId=domain_id, UserProfileName="bad", UserSettings={"StudioWebPortalSettings": {member: [bad]}}
        )
    assert code(exc) == "ValidationException" and bad in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        unchecked.update_domain(DomainId=domain_id, DefaultUserSettings={"StudioWebPortalSettings": {member: [bad]}})
    assert code(exc) == "ValidationException"


def test_resource_spec_instance_types_are_checked_against_the_service_model(sm: Any, unchecked: Any) -> None:
    domain_id = make_domain(sm)
    sm.create_user_profile(DomainId=domain_id, UserProfileName="maria")
    newest = _enum("AppInstanceType")[-1]  # whatever botocore knows last is accepted
    sm.create_app(
        DomainId=domain_id,
        UserProfileName="maria",
        AppType="KernelGateway",
        AppName="gpu",
        ResourceSpec={"InstanceType": newest},
    )
    with pytest.raises(ClientError) as exc:
        unchecked.create_app(
            DomainId=domain_id,
            UserProfileName="maria",
            AppType="KernelGateway",
            AppName="bad",
            ResourceSpec={"InstanceType": "ml.x99.huge"},
        )
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        unchecked.create_space(
            DomainId=domain_id,
            SpaceName="lab",
            SpaceSettings={
                "AppType": "JupyterLab",
                "JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "big"}},
            },
        )
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        unchecked.update_user_profile(
            DomainId=domain_id,
            UserProfileName="maria",
            UserSettings={"KernelGatewayAppSettings": {"DefaultResourceSpec": {"InstanceType": "big"}}},
        )
    assert code(exc) == "ValidationException"


def test_name_contains_filters_match_without_regard_to_case(sm: Any) -> None:
    """Assumed (``wire.NAME_CONTAINS_CASE_SENSITIVE``): the names are not case sensitive, so neither are the filters."""
    domain_id = make_domain(sm)
    for name in ("Wei-Chen", "amy-chen", "bob"):
        sm.create_user_profile(DomainId=domain_id, UserProfileName=name)
        sm.create_space(DomainId=domain_id, SpaceName=f"{name}-Lab")
    profiles = call_checked(sm, "list_user_profiles", DomainIdEquals=domain_id, UserProfileNameContains="CHEN")
    assert sorted(p["UserProfileName"] for p in profiles["UserProfiles"]) == ["Wei-Chen", "amy-chen"]
    spaces = call_checked(sm, "list_spaces", DomainIdEquals=domain_id, SpaceNameContains="wei-chen-lab")
    assert [s["SpaceName"] for s in spaces["Spaces"]] == ["Wei-Chen-Lab"]
    assert sm.list_spaces(DomainIdEquals=domain_id, SpaceNameContains="nobody")["Spaces"] == []
