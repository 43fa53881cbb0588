"""Contract tests of portal.sandbox.sagemaker: botocore's output shapes, AWS's errors, validation, paging and tags."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.sagemaker.responses import SageMakerResponse

from portal.aws import gateway
from portal.sandbox import sagemaker
from portal.sandbox.sagemaker import StudioError, studio_state
from tests.portal.sandbox.contract import call_checked

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/StudioExecution"
IDLE_90 = {"AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 90}}}
_MISSING = object()


@pytest.fixture
def sagemaker_installed() -> Iterator[None]:
    """This module's methods on moto's SageMakerResponse for the test; whatever was there before comes back after."""
    saved = {name: SageMakerResponse.__dict__.get(name, _MISSING) for name in sagemaker.METHOD_NAMES}
    sagemaker.install()
    try:
        yield
    finally:
        for name, method in saved.items():
            if method is _MISSING:
                delattr(SageMakerResponse, name)
            else:
                setattr(SageMakerResponse, name, method)


@pytest.fixture
def sm(aws_sandbox: None, sagemaker_installed: None) -> Any:
    return gateway().sagemaker(region=REGION)


@pytest.fixture
def unchecked(aws_sandbox: None, sagemaker_installed: None) -> Any:
    """A client that sends what botocore would refuse (below minimums), to see what the sandbox answers."""
    return boto3.client("sagemaker", region_name=REGION, config=Config(parameter_validation=False))


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def make_domain(sm: Any, name: str = "analytics", auth: str = "IAM", **extra: Any) -> str:
    answer = call_checked(sm, "create_domain", DomainName=name, AuthMode=auth,
                          DefaultUserSettings={"ExecutionRole": ROLE}, **extra)
    return answer["DomainId"]


def make_profile(sm: Any, domain_id: str, name: str, **extra: Any) -> str:
    return call_checked(sm, "create_user_profile", DomainId=domain_id, UserProfileName=name, **extra)["UserProfileArn"]


def make_space(sm: Any, domain_id: str, name: str, owner: str, sharing: str = "Private",
               app_type: str = "JupyterLab", **extra: Any) -> str:
    return call_checked(
        sm, "create_space", DomainId=domain_id, SpaceName=name,
        OwnershipSettings={"OwnerUserProfileName": owner}, SpaceSharingSettings={"SharingType": sharing},
        SpaceSettings={"AppType": app_type, "SpaceStorageSettings": {"EbsStorageSettings": {"EbsVolumeSizeInGb": 10}}},
        **extra,
    )["SpaceArn"]


# -- domains -------------------------------------------------------------------------------------------------------


def test_create_domain_answers_realistic_ids_and_allows_duplicate_names(sm: Any) -> None:
    first = call_checked(sm, "create_domain", DomainName="analytics", AuthMode="IAM",
                         DefaultUserSettings={"ExecutionRole": ROLE}, TagPropagation="ENABLED")
    second_id = make_domain(sm, "analytics")
    domain_id = first["DomainId"]
    assert domain_id != second_id
    for value in (domain_id, second_id):
        assert value.startswith("d-") and len(value) == 14
        assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789" for c in value[2:])
    assert first["DomainArn"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/{domain_id}"
    assert first["Url"] == f"https://{domain_id}.studio.{REGION}.sagemaker.aws"
    described = call_checked(sm, "describe_domain", DomainId=domain_id)
    assert described["DomainName"] == "analytics"
    assert described["TagPropagation"] == "ENABLED"
    assert described["AuthMode"] == "IAM"
    assert described["AppNetworkAccessType"] == "PublicInternetOnly"
    assert described["HomeEfsFileSystemId"].startswith("fs-")
    assert described["DefaultUserSettings"] == {"ExecutionRole": ROLE}


def test_domain_is_pending_on_first_describe_then_in_service(sm: Any) -> None:
    domain_id = make_domain(sm)
    assert call_checked(sm, "describe_domain", DomainId=domain_id)["Status"] == "Pending"
    assert call_checked(sm, "describe_domain", DomainId=domain_id)["Status"] == "InService"
    assert call_checked(sm, "list_domains")["Domains"][0]["Status"] == "InService"


def test_domain_ids_repeat_in_a_fresh_sandbox(sm: Any) -> None:
    from portal.sandbox.server import reset_backends

    first = [make_domain(sm, f"d{n}") for n in range(3)]
    reset_backends()
    assert [make_domain(sm, f"d{n}") for n in range(3)] == first


def test_describe_missing_domain_is_resource_not_found(sm: Any) -> None:
    with pytest.raises(ClientError) as exc:
        sm.describe_domain(DomainId="d-000000000000")
    assert error_code(exc) == "ResourceNotFound"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_create_domain_validates_like_aws(sm: Any) -> None:
    cases = [
        ({"DomainName": "bad_name"}, "domainName"),
        ({"DomainName": "-leading"}, "domainName"),
        ({"DomainName": "x" * 64}, "domainName"),
        ({"AuthMode": "LDAP"}, "authMode"),
        ({"AppNetworkAccessType": "Private"}, "appNetworkAccessType"),
        ({"DefaultUserSettings": {"ExecutionRole": "arn:aws:iam::1234:role/short-account"}},
         "defaultUserSettings.executionRole"),
        ({"DefaultUserSettings": {"StudioWebPortal": "ON"}}, "defaultUserSettings.studioWebPortal"),
        ({"DefaultUserSettings": {"JupyterLabAppSettings": {"AppLifecycleManagement": {"IdleSettings": {
            "IdleTimeoutInMinutes": 525601}}}}},
         "defaultUserSettings.jupyterLabAppSettings.appLifecycleManagement.idleSettings.idleTimeoutInMinutes"),
        ({"DefaultUserSettings": {"JupyterLabAppSettings": {"AppLifecycleManagement": {"IdleSettings": {
            "LifecycleManagement": "MAYBE"}}}}},
         "defaultUserSettings.jupyterLabAppSettings.appLifecycleManagement.idleSettings.lifecycleManagement"),
    ]
    for override, field_path in cases:
        params = {"DomainName": "ok", "AuthMode": "IAM", "DefaultUserSettings": {"ExecutionRole": ROLE}, **override}
        with pytest.raises(ClientError) as exc:
            sm.create_domain(**params)
        assert error_code(exc) == "ValidationException", override
        message = exc.value.response["Error"]["Message"]
        assert re.match(r"^\d validation errors? detected: Value ", message), message
        assert f"at '{field_path}' failed to satisfy constraint" in message, message


def test_vpc_only_domain_needs_its_network(sm: Any) -> None:
    with pytest.raises(ClientError) as exc:
        sm.create_domain(DomainName="vpc", AuthMode="SSO", DefaultUserSettings={}, AppNetworkAccessType="VpcOnly")
    assert error_code(exc) == "ValidationException"
    domain_id = make_domain(sm, "vpc", "SSO", AppNetworkAccessType="VpcOnly", VpcId="vpc-0abc",
                            SubnetIds=["subnet-0a", "subnet-0b"])
    described = call_checked(sm, "describe_domain", DomainId=domain_id)
    assert described["VpcId"] == "vpc-0abc" and described["SubnetIds"] == ["subnet-0a", "subnet-0b"]
    assert described["SecurityGroupIdForDomainBoundary"].startswith("sg-")


def test_update_domain_merges_settings(sm: Any) -> None:
    domain_id = make_domain(sm)
    answer = call_checked(
        sm, "update_domain", DomainId=domain_id,
        DefaultUserSettings={"JupyterLabAppSettings": IDLE_90, "StudioWebPortal": "ENABLED"},
        DomainSettingsForUpdate={"ExecutionRoleIdentityConfig": "USER_PROFILE_NAME", "SecurityGroupIds": ["sg-1"]},
        DefaultSpaceSettings={"ExecutionRole": ROLE}, TagPropagation="ENABLED", SubnetIds=["subnet-9"],
    )
    assert answer["DomainArn"].endswith(f":domain/{domain_id}")
    described = call_checked(sm, "describe_domain", DomainId=domain_id)
    assert described["DefaultUserSettings"] == {"ExecutionRole": ROLE, "JupyterLabAppSettings": IDLE_90,
                                                "StudioWebPortal": "ENABLED"}
    assert described["DomainSettings"] == {"ExecutionRoleIdentityConfig": "USER_PROFILE_NAME",
                                           "SecurityGroupIds": ["sg-1"]}
    assert described["DefaultSpaceSettings"] == {"ExecutionRole": ROLE}
    assert described["TagPropagation"] == "ENABLED" and described["SubnetIds"] == ["subnet-9"]
    assert described["LastModifiedTime"] >= described["CreationTime"]
    with pytest.raises(ClientError) as exc:
        sm.update_domain(DomainId=domain_id, AppNetworkAccessType="Nowhere")
    assert error_code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        sm.update_domain(DomainId="d-000000000000", TagPropagation="ENABLED")
    assert error_code(exc) == "ResourceNotFound"


def test_delete_domain_is_refused_while_it_has_members(sm: Any) -> None:
    domain_id = make_domain(sm)
    make_profile(sm, domain_id, "ana")
    with pytest.raises(ClientError) as exc:
        sm.delete_domain(DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Delete"})
    assert error_code(exc) == "ResourceInUse"
    call_checked(sm, "delete_user_profile", DomainId=domain_id, UserProfileName="ana")
    call_checked(sm, "delete_domain", DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Retain"})
    with pytest.raises(ClientError) as exc:
        sm.describe_domain(DomainId=domain_id)
    assert error_code(exc) == "ResourceNotFound"


def test_list_domains_pages_with_opaque_tokens(sm: Any, unchecked: Any) -> None:
    ids = [make_domain(sm, f"domain{n}") for n in range(12)]
    first = call_checked(sm, "list_domains")
    assert len(first["Domains"]) == 10 and first["NextToken"]
    second = call_checked(sm, "list_domains", NextToken=first["NextToken"])
    assert "NextToken" not in second
    assert [d["DomainId"] for d in first["Domains"] + second["Domains"]] == ids
    paged = [d["DomainId"] for page in sm.get_paginator("list_domains").paginate(PaginationConfig={"PageSize": 5})
             for d in page["Domains"]]
    assert paged == ids
    for bad in ({"MaxResults": 101}, {"NextToken": "not-a-token"}):
        with pytest.raises(ClientError) as exc:
            sm.list_domains(**bad)
        assert error_code(exc) == "ValidationException", bad
    with pytest.raises(ClientError) as exc:
        unchecked.list_domains(MaxResults=0)
    assert error_code(exc) == "ValidationException"
    assert "at 'maxResults'" in exc.value.response["Error"]["Message"]


# -- user profiles -----------------------------------------------------------------------------------------------


def test_user_profile_lifecycle_matches_the_model(sm: Any) -> None:
    domain_id = make_domain(sm)
    arn = make_profile(sm, domain_id, "maria-garcia", UserSettings={"ExecutionRole": ROLE},
                       Tags=[{"Key": "team", "Value": "risk"}])
    assert arn == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{domain_id}/maria-garcia"
    described = call_checked(sm, "describe_user_profile", DomainId=domain_id, UserProfileName="maria-garcia")
    assert described["UserProfileArn"] == arn and described["Status"] == "Pending"
    assert described["HomeEfsFileSystemUid"].isdigit()
    assert call_checked(sm, "describe_user_profile", DomainId=domain_id,
                        UserProfileName="maria-garcia")["Status"] == "InService"
    updated = call_checked(sm, "update_user_profile", DomainId=domain_id, UserProfileName="maria-garcia",
                           UserSettings={"JupyterLabAppSettings": IDLE_90})
    assert updated["UserProfileArn"] == arn
    settings = sm.describe_user_profile(DomainId=domain_id, UserProfileName="maria-garcia")["UserSettings"]
    assert settings == {"ExecutionRole": ROLE, "JupyterLabAppSettings": IDLE_90}
    listed = call_checked(sm, "list_user_profiles", DomainIdEquals=domain_id)["UserProfiles"]
    assert [p["UserProfileName"] for p in listed] == ["maria-garcia"]
    assert "UserProfileArn" not in listed[0]  # as AWS: summaries carry no ARN
    call_checked(sm, "delete_user_profile", DomainId=domain_id, UserProfileName="maria-garcia")
    with pytest.raises(ClientError) as exc:
        sm.describe_user_profile(DomainId=domain_id, UserProfileName="maria-garcia")
    assert error_code(exc) == "ResourceNotFound"


def test_user_profile_errors(sm: Any) -> None:
    domain_id = make_domain(sm)
    make_profile(sm, domain_id, "ana")
    with pytest.raises(ClientError) as exc:
        sm.create_user_profile(DomainId=domain_id, UserProfileName="ana")
    assert error_code(exc) == "ResourceInUse"
    with pytest.raises(ClientError) as exc:
        sm.create_user_profile(DomainId="d-000000000000", UserProfileName="ana")
    assert error_code(exc) == "ResourceNotFound"
    with pytest.raises(ClientError) as exc:
        sm.create_user_profile(DomainId=domain_id, UserProfileName="ana.lopez")
    assert error_code(exc) == "ValidationException"
    assert "at 'userProfileName' failed to satisfy constraint" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        sm.create_user_profile(DomainId=domain_id, UserProfileName="bo",
                               UserSettings={"StudioWebPortalSettings": {"HiddenAppTypes": ["Notepad"]}})
    assert error_code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        sm.update_user_profile(DomainId=domain_id, UserProfileName="nobody", UserSettings={})
    assert error_code(exc) == "ResourceNotFound"


def test_sso_rules_for_user_profiles(sm: Any) -> None:
    sso = make_domain(sm, "sso", "SSO")
    iam = make_domain(sm, "iam", "IAM")
    with pytest.raises(ClientError) as exc:
        sm.create_user_profile(DomainId=sso, UserProfileName="ana")
    assert error_code(exc) == "ValidationException"
    make_profile(sm, sso, "ana", SingleSignOnUserIdentifier="UserName", SingleSignOnUserValue="ana@example.com")
    described = call_checked(sm, "describe_user_profile", DomainId=sso, UserProfileName="ana")
    assert described["SingleSignOnUserIdentifier"] == "UserName"
    assert described["SingleSignOnUserValue"] == "ana@example.com"
    with pytest.raises(ClientError) as exc:
        sm.create_user_profile(DomainId=iam, UserProfileName="ana", SingleSignOnUserIdentifier="UserName",
                               SingleSignOnUserValue="ana@example.com")
    assert error_code(exc) == "ValidationException"


def test_list_user_profiles_defaults_to_ten_and_pages(sm: Any, unchecked: Any) -> None:
    domain_id = make_domain(sm)
    state = studio_state(ACCOUNT, REGION)
    names = [f"person-{n:02d}" for n in range(23)]
    for name in names:
        state.create_user_profile(domain_id, name)
    pages = []
    token = None
    while True:
        answer = call_checked(sm, "list_user_profiles", **({"NextToken": token} if token else {}))
        pages.append([p["UserProfileName"] for p in answer["UserProfiles"]])
        token = answer.get("NextToken")
        if not token:
            break
    assert [len(page) for page in pages] == [10, 10, 3]
    assert sum(pages, []) == names  # CreationTime, Ascending: AWS's documented defaults
    paginator = sm.get_paginator("list_user_profiles")
    walked = [p["UserProfileName"] for page in paginator.paginate(DomainIdEquals=domain_id)
              for p in page["UserProfiles"]]
    assert walked == names
    descending = call_checked(sm, "list_user_profiles", SortOrder="Descending", MaxResults=100)["UserProfiles"]
    assert [p["UserProfileName"] for p in descending] == names[::-1]
    contains = call_checked(sm, "list_user_profiles", UserProfileNameContains="person-1")["UserProfiles"]
    assert len(contains) == 10
    assert call_checked(sm, "list_user_profiles", DomainIdEquals="d-000000000000")["UserProfiles"] == []
    for bad in ({"MaxResults": 101}, {"NextToken": "garbage!"}, {"SortBy": "Name"}):
        with pytest.raises(ClientError) as exc:
            sm.list_user_profiles(**bad)
        assert error_code(exc) == "ValidationException", bad
    with pytest.raises(ClientError) as exc:
        unchecked.list_user_profiles(MaxResults=0)
    assert error_code(exc) == "ValidationException"


def test_delete_user_profile_refused_while_it_has_apps_or_spaces(sm: Any) -> None:
    domain_id = make_domain(sm)
    make_profile(sm, domain_id, "ana")
    call_checked(sm, "create_app", DomainId=domain_id, UserProfileName="ana", AppType="JupyterServer",
                 AppName="default")
    with pytest.raises(ClientError) as exc:
        sm.delete_user_profile(DomainId=domain_id, UserProfileName="ana")
    assert error_code(exc) == "ResourceInUse"
    call_checked(sm, "delete_app", DomainId=domain_id, UserProfileName="ana", AppType="JupyterServer",
                 AppName="default")
    make_space(sm, domain_id, "ana-lab", "ana")
    with pytest.raises(ClientError) as exc:
        sm.delete_user_profile(DomainId=domain_id, UserProfileName="ana")
    assert error_code(exc) == "ResourceInUse"
    call_checked(sm, "delete_space", DomainId=domain_id, SpaceName="ana-lab")
    call_checked(sm, "delete_user_profile", DomainId=domain_id, UserProfileName="ana")


# -- spaces --------------------------------------------------------------------------------------------------------


def test_space_lifecycle_matches_the_model(sm: Any) -> None:
    domain_id = make_domain(sm)
    make_profile(sm, domain_id, "ana")
    arn = make_space(sm, domain_id, "model-review", "ana", "Shared", SpaceDisplayName="Model review",
                     Tags=[{"Key": "team", "Value": "risk"}])
    assert arn == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:space/{domain_id}/model-review"
    described = call_checked(sm, "describe_space", DomainId=domain_id, SpaceName="model-review")
    assert described["SpaceSharingSettings"] == {"SharingType": "Shared"}
    assert described["OwnershipSettings"] == {"OwnerUserProfileName": "ana"}
    assert described["SpaceDisplayName"] == "Model review"
    listed = call_checked(sm, "list_spaces", DomainIdEquals=domain_id)["Spaces"]
    assert listed[0]["SpaceSettingsSummary"]["AppType"] == "JupyterLab"
    storage = listed[0]["SpaceSettingsSummary"]["SpaceStorageSettings"]
    assert storage == {"EbsStorageSettings": {"EbsVolumeSizeInGb": 10}}
    assert listed[0]["SpaceSharingSettingsSummary"] == {"SharingType": "Shared"}
    assert listed[0]["OwnershipSettingsSummary"] == {"OwnerUserProfileName": "ana"}
    assert "SpaceArn" not in listed[0]
    call_checked(sm, "update_space", DomainId=domain_id, SpaceName="model-review", SpaceDisplayName="Review",
                 SpaceSettings={"JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.m5.xlarge"}},
                                "SpaceStorageSettings": {"EbsStorageSettings": {"EbsVolumeSizeInGb": 50}}})
    described = sm.describe_space(DomainId=domain_id, SpaceName="model-review")
    assert described["SpaceDisplayName"] == "Review"
    assert described["SpaceSettings"]["AppType"] == "JupyterLab"
    assert described["SpaceSettings"]["SpaceStorageSettings"]["EbsStorageSettings"]["EbsVolumeSizeInGb"] == 50
    call_checked(sm, "delete_space", DomainId=domain_id, SpaceName="model-review")
    with pytest.raises(ClientError) as exc:
        sm.describe_space(DomainId=domain_id, SpaceName="model-review")
    assert error_code(exc) == "ResourceNotFound"


def test_space_errors(sm: Any) -> None:
    domain_id = make_domain(sm)
    make_profile(sm, domain_id, "ana")
    make_space(sm, domain_id, "lab", "ana")
    with pytest.raises(ClientError) as exc:
        make_space(sm, domain_id, "lab", "ana")
    assert error_code(exc) == "ResourceInUse"
    with pytest.raises(ClientError) as exc:
        make_space(sm, domain_id, "other", "nobody")
    assert error_code(exc) == "ResourceNotFound"
    for bad in ({"SpaceSharingSettings": {"SharingType": "Public"}}, {"SpaceDisplayName": "   "},
                {"SpaceDisplayName": "x" * 65}, {"SpaceName": "under_score"}):
        params = {"DomainId": domain_id, "SpaceName": "fine", "OwnershipSettings": {"OwnerUserProfileName": "ana"},
                  "SpaceSharingSettings": {"SharingType": "Private"}, **bad}
        with pytest.raises(ClientError) as exc:
            sm.create_space(**params)
        assert error_code(exc) == "ValidationException", bad
    with pytest.raises(ClientError) as exc:
        sm.update_space(DomainId=domain_id, SpaceName="lab", SpaceSettings={"AppType": "CodeEditor"})
    assert error_code(exc) == "ValidationException"
    assert "AppType" in exc.value.response["Error"]["Message"]


def test_list_spaces_pages(sm: Any) -> None:
    domain_id = make_domain(sm)
    state = studio_state(ACCOUNT, REGION)
    state.create_user_profile(domain_id, "ana")
    for n in range(12):
        state.create_space(domain_id, f"space-{n:02d}", owner="ana", sharing_type="Private",
                           space_settings={"AppType": "JupyterLab"})
    first = call_checked(sm, "list_spaces", DomainIdEquals=domain_id)
    assert len(first["Spaces"]) == 10 and first["NextToken"]
    walked = [s["SpaceName"] for page in sm.get_paginator("list_spaces").paginate(DomainIdEquals=domain_id)
              for s in page["Spaces"]]
    assert walked == [f"space-{n:02d}" for n in range(12)]
    assert len(call_checked(sm, "list_spaces", SpaceNameContains="space-1")["Spaces"]) == 2


# -- apps ----------------------------------------------------------------------------------------------------------


def test_apps_in_spaces_and_on_profiles(sm: Any) -> None:
    domain_id = make_domain(sm)
    profile_arn = make_profile(sm, domain_id, "ana")
    space_arn = make_space(sm, domain_id, "lab", "ana")
    space_app = call_checked(sm, "create_app", DomainId=domain_id, SpaceName="lab", AppType="JupyterLab",
                             AppName="default", ResourceSpec={"InstanceType": "ml.g5.2xlarge"})["AppArn"]
    assert space_app == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:app/{domain_id}/lab/jupyterlab/default"
    profile_app = call_checked(sm, "create_app", DomainId=domain_id, UserProfileName="ana",
                               AppType="KernelGateway", AppName="datascience-ml-m5-xlarge",
                               ResourceSpec={"InstanceType": "ml.m5.xlarge"})["AppArn"]
    described = call_checked(sm, "describe_app", DomainId=domain_id, SpaceName="lab", AppType="JupyterLab",
                             AppName="default")
    assert described["AppArn"] == space_app and described["ResourceSpec"]["InstanceType"] == "ml.g5.2xlarge"
    assert "LastHealthCheckTimestamp" in described
    apps = call_checked(sm, "list_apps", DomainIdEquals=domain_id)["Apps"]
    assert {a["ResourceSpec"]["InstanceType"] for a in apps} == {"ml.g5.2xlarge", "ml.m5.xlarge"}
    assert [a["AppName"] for a in call_checked(sm, "list_apps", SpaceNameEquals="lab")["Apps"]] == ["default"]
    assert len(call_checked(sm, "list_apps", UserProfileNameEquals="ana")["Apps"]) == 1
    with pytest.raises(ClientError) as exc:
        sm.list_apps(UserProfileNameEquals="ana", SpaceNameEquals="lab")
    assert error_code(exc) == "ValidationException"

    space_tags = {t["Key"]: t["Value"] for t in call_checked(sm, "list_tags", ResourceArn=space_app)["Tags"]}
    assert space_tags == {"sagemaker:domain-arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/{domain_id}",
                          "sagemaker:space-arn": space_arn}
    profile_tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=profile_app)["Tags"]}
    assert profile_tags["sagemaker:user-profile-arn"] == profile_arn

    with pytest.raises(ClientError) as exc:
        sm.delete_space(DomainId=domain_id, SpaceName="lab")
    assert error_code(exc) == "ResourceInUse"
    call_checked(sm, "delete_app", DomainId=domain_id, SpaceName="lab", AppType="JupyterLab", AppName="default")
    listed = sm.list_apps(SpaceNameEquals="lab")["Apps"]
    assert [a["Status"] for a in listed] == ["Deleted"]  # AWS keeps deleted apps listed for a while
    with pytest.raises(ClientError) as exc:
        sm.delete_app(DomainId=domain_id, SpaceName="lab", AppType="JupyterLab", AppName="default")
    assert error_code(exc) == "ResourceNotFound"
    # A deleted app can be created again.
    call_checked(sm, "create_app", DomainId=domain_id, SpaceName="lab", AppType="JupyterLab", AppName="default")


def test_app_errors(sm: Any) -> None:
    domain_id = make_domain(sm)
    make_profile(sm, domain_id, "ana")
    make_space(sm, domain_id, "lab", "ana")
    bad_calls = [
        ({"UserProfileName": "ana", "SpaceName": "lab", "AppType": "JupyterLab"}, "ValidationException"),
        ({"AppType": "JupyterLab"}, "ValidationException"),
        ({"UserProfileName": "ana", "AppType": "JupyterLab"}, "ValidationException"),
        ({"SpaceName": "lab", "AppType": "CodeEditor"}, "ValidationException"),
        ({"UserProfileName": "ana", "AppType": "Notebook"}, "ValidationException"),
        ({"SpaceName": "lab", "AppType": "JupyterLab", "ResourceSpec": {"InstanceType": "ml.huge"}},
         "ValidationException"),
        ({"UserProfileName": "nobody", "AppType": "JupyterServer"}, "ResourceNotFound"),
    ]
    for params, expected in bad_calls:
        with pytest.raises(ClientError) as exc:
            sm.create_app(DomainId=domain_id, AppName="default", **params)
        assert error_code(exc) == expected, params
    call_checked(sm, "create_app", DomainId=domain_id, UserProfileName="ana", AppType="JupyterServer",
                 AppName="default")
    with pytest.raises(ClientError) as exc:
        sm.create_app(DomainId=domain_id, UserProfileName="ana", AppType="JupyterServer", AppName="default")
    assert error_code(exc) == "ResourceInUse"
    with pytest.raises(ClientError) as exc:
        sm.describe_app(DomainId=domain_id, UserProfileName="ana", AppType="KernelGateway", AppName="default")
    assert error_code(exc) == "ResourceNotFound"


def test_list_apps_pages(sm: Any) -> None:
    domain_id = make_domain(sm)
    state = studio_state(ACCOUNT, REGION)
    state.create_user_profile(domain_id, "ana")
    for n in range(11):
        state.create_app(domain_id, "KernelGateway", f"kernel-{n:02d}", user_profile_name="ana")
    first = call_checked(sm, "list_apps")
    assert len(first["Apps"]) == 10 and first["NextToken"]
    walked = [a["AppName"] for page in sm.get_paginator("list_apps").paginate() for a in page["Apps"]]
    assert walked == [f"kernel-{n:02d}" for n in range(11)]


# -- presigned URLs ------------------------------------------------------------------------------------------------


def test_presigned_domain_url_rules(sm: Any) -> None:
    iam = make_domain(sm, "iam", "IAM")
    make_profile(sm, iam, "ana")
    make_space(sm, iam, "lab", "ana")
    answer = call_checked(sm, "create_presigned_domain_url", DomainId=iam, UserProfileName="ana",
                          ExpiresInSeconds=60, SessionExpirationDurationInSeconds=1800, SpaceName="lab")
    url = answer["AuthorizedUrl"]
    assert url.startswith(f"https://{iam}.studio.{REGION}.sagemaker.aws/auth?token=")
    assert len(url.split("token=", 1)[1]) >= 20
    assert sm.create_presigned_domain_url(DomainId=iam, UserProfileName="ana")["AuthorizedUrl"] != url

    sso = make_domain(sm, "sso", "SSO")
    make_profile(sm, sso, "bo", SingleSignOnUserIdentifier="UserName", SingleSignOnUserValue="bo")
    cases = [
        ({"DomainId": sso, "UserProfileName": "bo"}, "ValidationException"),
        ({"DomainId": iam, "UserProfileName": "nobody"}, "ResourceNotFound"),
        ({"DomainId": iam, "UserProfileName": "ana", "SpaceName": "nowhere"}, "ResourceNotFound"),
        ({"DomainId": iam, "UserProfileName": "ana", "ExpiresInSeconds": 301}, "ValidationException"),
        ({"DomainId": iam, "UserProfileName": "ana", "SessionExpirationDurationInSeconds": 43201},
         "ValidationException"),
    ]
    for params, expected in cases:
        with pytest.raises(ClientError) as exc:
            sm.create_presigned_domain_url(**params)
        assert error_code(exc) == expected, params


def test_presigned_url_minimums_are_checked_by_the_sandbox_too(unchecked: Any) -> None:
    domain_id = make_domain(unchecked)
    make_profile(unchecked, domain_id, "ana")
    for params in ({"ExpiresInSeconds": 4}, {"SessionExpirationDurationInSeconds": 1799}):
        with pytest.raises(ClientError) as exc:
            unchecked.create_presigned_domain_url(DomainId=domain_id, UserProfileName="ana", **params)
        assert error_code(exc) == "ValidationException", params


# -- tags ----------------------------------------------------------------------------------------------------------


def test_tags_overwrite_by_key_and_delete(sm: Any) -> None:
    domain_id = make_domain(sm, Tags=[{"Key": "team", "Value": "risk"}])
    profile_arn = make_profile(sm, domain_id, "ana")
    domain_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/{domain_id}"
    for arn in (domain_arn, profile_arn):
        added = call_checked(sm, "add_tags", ResourceArn=arn, Tags=[{"Key": "team", "Value": "credit"},
                                                                    {"Key": "cost-center", "Value": "CC-1"}])
        assert added["Tags"]
        call_checked(sm, "add_tags", ResourceArn=arn, Tags=[{"Key": "team", "Value": "markets"}])
        tags = call_checked(sm, "list_tags", ResourceArn=arn)["Tags"]
        assert sorted((t["Key"], t["Value"]) for t in tags) == [("cost-center", "CC-1"), ("team", "markets")]
        call_checked(sm, "delete_tags", ResourceArn=arn, TagKeys=["team", "absent"])
        assert call_checked(sm, "list_tags", ResourceArn=arn)["Tags"] == [{"Key": "cost-center", "Value": "CC-1"}]
    walked = [t for page in sm.get_paginator("list_tags").paginate(ResourceArn=domain_arn) for t in page["Tags"]]
    assert walked == [{"Key": "cost-center", "Value": "CC-1"}]


def test_tag_limits_and_reserved_prefix(sm: Any, unchecked: Any) -> None:
    domain_id = make_domain(sm)
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/{domain_id}"
    with pytest.raises(ClientError) as exc:
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "aws:owner", "Value": "x"}])
    assert error_code(exc) == "ValidationException"
    call_checked(sm, "add_tags", ResourceArn=arn, Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(50)])
    with pytest.raises(ClientError) as exc:
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    assert error_code(exc) == "ValidationException"
    call_checked(sm, "add_tags", ResourceArn=arn, Tags=[{"Key": "k0", "Value": "overwritten"}])  # still 50
    first = call_checked(sm, "list_tags", ResourceArn=arn)
    assert len(first["Tags"]) == 50 and "NextToken" not in first
    with pytest.raises(ClientError) as exc:
        unchecked.list_tags(ResourceArn=arn, MaxResults=10)
    assert error_code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        sm.list_tags(ResourceArn=f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{domain_id}/nobody")
    assert error_code(exc) == "ResourceNotFound"
    with pytest.raises(ClientError) as exc:
        sm.list_tags(ResourceArn=arn, NextToken="bogus")
    assert error_code(exc) == "ValidationException"


def test_tags_on_other_sagemaker_resources_stay_with_moto(sm: Any) -> None:
    arn = sm.create_experiment(ExperimentName="churn")["ExperimentArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "sagemaker:domain-arn", "Value": "arn:x"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "sagemaker:domain-arn", "Value": "arn:x"}]
    sm.delete_tags(ResourceArn=arn, TagKeys=["sagemaker:domain-arn"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []


# -- Python API, installation and the HTTP server ------------------------------------------------------------------


def test_python_api_applies_the_same_validation(aws_sandbox: None) -> None:
    state = studio_state(ACCOUNT, REGION)
    domain = state.create_domain("api", auth_mode="SSO", in_service=True)
    assert domain.status == "InService"
    with pytest.raises(StudioError) as exc:
        state.create_user_profile(domain.domain_id, "bad_name", sso_user_identifier="UserName", sso_user_value="x")
    assert exc.value.code == "ValidationException" and "'userProfileName'" in exc.value.message
    with pytest.raises(StudioError) as exc:
        state.create_user_profile(domain.domain_id, "ana")
    assert exc.value.code == "ValidationException"
    profile = state.create_user_profile(domain.domain_id, "ana", sso_user_identifier="UserName", sso_user_value="a")
    assert profile.arn.endswith(f"user-profile/{domain.domain_id}/ana")
    assert studio_state(ACCOUNT, REGION) is state
    assert studio_state(ACCOUNT, "eu-west-1") is not state


def test_install_is_idempotent_and_keeps_motos_tag_methods(sagemaker_installed: None) -> None:
    sagemaker.install()
    sagemaker.install()
    assert sagemaker.installed()
    wrapped = SageMakerResponse.list_tags
    original = wrapped.__sandbox_original__
    assert not hasattr(original, "__sandbox_original__")
    assert original.__module__ == "moto.sagemaker.responses"


def test_sandbox_server_serves_user_profiles_over_http(sagemaker_installed: None) -> None:
    from portal.sandbox.server import ThreadedSandbox, reset_backends

    reset_backends()
    server = ThreadedSandbox().start()
    try:
        sagemaker.install()  # the server's app installs the sandbox; make sure these methods are the ones served
        client = boto3.client("sagemaker", region_name=REGION, endpoint_url=server.url, aws_access_key_id="test",
                              aws_secret_access_key="test")  # noqa: S106 - the sandbox takes any key
        domain_id = make_domain(client)
        arn = make_profile(client, domain_id, "ana")
        described = call_checked(client, "describe_user_profile", DomainId=domain_id, UserProfileName="ana")
        assert described["UserProfileArn"] == arn
        with pytest.raises(ClientError) as exc:
            client.describe_user_profile(DomainId=domain_id, UserProfileName="nobody")
        assert error_code(exc) == "ResourceNotFound"
    finally:
        server.stop()
        reset_backends()
