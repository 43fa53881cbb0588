"""Contract tests of the sandbox's SageMaker Studio operations: AWS's shapes, errors, paging and tags."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from awssandbox.server import ThreadedSandbox
from tests.awssandbox.contract import call_checked
from tests.sandbox_network import placement

ROLE = "arn:aws:iam::123456789012:role/Exec"
IDLE = {"AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 90}}}


@pytest.fixture
def sm(aws_sandbox: None) -> Any:
    return boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def domain(sm: Any, name: str = "team", auth: str = "IAM", **extra: Any) -> str:
    answer = call_checked(
        sm,
        "create_domain",
        DomainName=name,
        AuthMode=auth,
        DefaultUserSettings={"ExecutionRole": ROLE},
        **placement(),
        **extra,
    )
    return answer["DomainId"]


def test_domains_get_realistic_ids_and_are_never_overwritten(sm: Any) -> None:
    first, second = domain(sm), domain(sm)
    assert first != second
    assert all(d.startswith("d-") and len(d) == 14 and d[2:].isalnum() and d[2:].islower() for d in (first, second))
    described = call_checked(sm, "describe_domain", DomainId=first)
    assert described["DomainArn"] == f"arn:aws:sagemaker:us-east-1:123456789012:domain/{first}"
    assert described["Url"] == f"https://{first}.studio.us-east-1.sagemaker.aws"
    assert described["Status"] == "InService"


def test_a_missing_domain_is_resource_not_found(sm: Any) -> None:
    with pytest.raises(ClientError) as exc:
        sm.describe_domain(DomainId="d-000000000000")
    assert code(exc) == "ResourceNotFound"


def test_update_domain_keeps_settings_it_is_not_given(sm: Any) -> None:
    domain_id = domain(sm, TagPropagation="ENABLED")
    call_checked(
        sm,
        "update_domain",
        DomainId=domain_id,
        DefaultUserSettings={"StudioWebPortal": "DISABLED", "JupyterLabAppSettings": IDLE},
    )
    described = sm.describe_domain(DomainId=domain_id)
    assert described["DefaultUserSettings"]["ExecutionRole"] == ROLE
    assert described["DefaultUserSettings"]["StudioWebPortal"] == "DISABLED"
    assert described["TagPropagation"] == "ENABLED"
    with pytest.raises(ClientError) as exc:
        sm.update_domain(DomainId=domain_id, AppNetworkAccessType="Everywhere")
    assert code(exc) == "ValidationException"


def test_user_profile_lifecycle_answers_in_aws_shapes(sm: Any) -> None:
    domain_id = domain(sm)
    arn = call_checked(
        sm,
        "create_user_profile",
        DomainId=domain_id,
        UserProfileName="maria-garcia",
        UserSettings={"JupyterLabAppSettings": IDLE},
        Tags=[{"Key": "owner", "Value": "maria"}],
    )
    assert arn["UserProfileArn"].endswith(f":user-profile/{domain_id}/maria-garcia")
    described = call_checked(sm, "describe_user_profile", DomainId=domain_id, UserProfileName="maria-garcia")
    assert described["UserSettings"]["JupyterLabAppSettings"] == IDLE
    call_checked(
        sm,
        "update_user_profile",
        DomainId=domain_id,
        UserProfileName="maria-garcia",
        UserSettings={"StudioWebPortalSettings": {"HiddenAppTypes": ["JupyterServer"]}},
    )
    listed = call_checked(sm, "list_user_profiles", DomainIdEquals=domain_id)
    assert [p["UserProfileName"] for p in listed["UserProfiles"]] == ["maria-garcia"]
    assert "UserProfileArn" not in listed["UserProfiles"][0]  # as AWS: summaries carry no ARN
    call_checked(sm, "delete_user_profile", DomainId=domain_id, UserProfileName="maria-garcia")
    with pytest.raises(ClientError) as exc:
        sm.describe_user_profile(DomainId=domain_id, UserProfileName="maria-garcia")
    assert code(exc) == "ResourceNotFound"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"UserProfileName": "maria_garcia"}, "ValidationException"),
        ({"UserProfileName": "-maria"}, "ValidationException"),
        ({"UserProfileName": "a" * 64}, "ValidationException"),
        ({"UserProfileName": "ok", "UserSettings": {"ExecutionRole": "not-a-role"}}, "ValidationException"),
        ({"UserProfileName": "ok", "UserSettings": {"StudioWebPortal": "MAYBE"}}, "ValidationException"),
        (
            {
                "UserProfileName": "ok",
                "UserSettings": {
                    "JupyterLabAppSettings": {"AppLifecycleManagement": {"IdleSettings": {"IdleTimeoutInMinutes": 30}}}
                },
            },
            "ValidationException",
        ),
        ({"UserProfileName": "ok", "Tags": [{"Key": "aws:owner", "Value": "x"}]}, "ValidationException"),
        (
            {"UserProfileName": "ok", "SingleSignOnUserIdentifier": "UserName", "SingleSignOnUserValue": "maria"},
            "ValidationException",
        ),
    ],
)
def test_invalid_profiles_are_refused_as_aws_refuses_them(sm: Any, params: dict[str, Any], error: str) -> None:
    domain_id = domain(sm)
    # botocore checks only types and minimums; switch that off to see what the service itself answers.
    unchecked = boto3.client(
        "sagemaker",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(parameter_validation=False),
    )
    with pytest.raises(ClientError) as exc:
        unchecked.create_user_profile(DomainId=domain_id, **params)
    assert code(exc) == error


def test_sso_domains_need_the_sso_user(sm: Any) -> None:
    domain_id = domain(sm, auth="SSO")
    with pytest.raises(ClientError) as exc:
        sm.create_user_profile(DomainId=domain_id, UserProfileName="maria")
    assert code(exc) == "ValidationException"
    call_checked(
        sm,
        "create_user_profile",
        DomainId=domain_id,
        UserProfileName="maria",
        SingleSignOnUserIdentifier="UserName",
        SingleSignOnUserValue="maria.garcia",
    )
    assert (
        sm.describe_user_profile(DomainId=domain_id, UserProfileName="maria")["SingleSignOnUserValue"] == "maria.garcia"
    )


def test_a_second_profile_with_the_same_name_is_resource_in_use(sm: Any) -> None:
    domain_id = domain(sm)
    sm.create_user_profile(DomainId=domain_id, UserProfileName="maria")
    with pytest.raises(ClientError) as exc:
        sm.create_user_profile(DomainId=domain_id, UserProfileName="maria")
    assert code(exc) == "ResourceInUse"


def test_spaces_apps_and_their_rules(sm: Any) -> None:
    domain_id = domain(sm)
    sm.create_user_profile(DomainId=domain_id, UserProfileName="lead")
    with pytest.raises(ClientError) as exc:
        sm.create_space(
            DomainId=domain_id,
            SpaceName="s",
            OwnershipSettings={"OwnerUserProfileName": "nobody"},
            SpaceSharingSettings={"SharingType": "Shared"},
        )
    assert code(exc) == "ResourceNotFound"
    call_checked(
        sm,
        "create_space",
        DomainId=domain_id,
        SpaceName="fraud-models",
        SpaceDisplayName="Fraud models",
        OwnershipSettings={"OwnerUserProfileName": "lead"},
        SpaceSharingSettings={"SharingType": "Shared"},
        SpaceSettings={
            "AppType": "JupyterLab",
            "SpaceStorageSettings": {"EbsStorageSettings": {"EbsVolumeSizeInGb": 50}},
        },
    )
    described = call_checked(sm, "describe_space", DomainId=domain_id, SpaceName="fraud-models")
    assert described["SpaceSharingSettings"] == {"SharingType": "Shared"}
    listed = call_checked(sm, "list_spaces", DomainIdEquals=domain_id)
    assert listed["Spaces"][0]["SpaceSettingsSummary"]["AppType"] == "JupyterLab"
    with pytest.raises(ClientError) as exc:
        sm.update_space(DomainId=domain_id, SpaceName="fraud-models", SpaceSettings={"AppType": "CodeEditor"})
    assert code(exc) == "ValidationException"
    call_checked(sm, "update_space", DomainId=domain_id, SpaceName="fraud-models", SpaceDisplayName="Fraud")

    app = call_checked(
        sm,
        "create_app",
        DomainId=domain_id,
        SpaceName="fraud-models",
        AppType="JupyterLab",
        AppName="default",
        ResourceSpec={"InstanceType": "ml.g5.xlarge"},
    )
    tags = {t["Key"]: t["Value"] for t in call_checked(sm, "list_tags", ResourceArn=app["AppArn"])["Tags"]}
    assert tags["sagemaker:domain-arn"].endswith(f"domain/{domain_id}")
    assert tags["sagemaker:space-arn"].endswith(f"space/{domain_id}/fraud-models")
    apps = call_checked(sm, "list_apps", DomainIdEquals=domain_id)["Apps"]
    assert apps[0]["ResourceSpec"]["InstanceType"] == "ml.g5.xlarge"
    described_app = call_checked(
        sm, "describe_app", DomainId=domain_id, SpaceName="fraud-models", AppType="JupyterLab", AppName="default"
    )
    assert described_app["AppArn"] == app["AppArn"]
    with pytest.raises(ClientError) as exc:
        sm.list_apps(DomainIdEquals=domain_id, UserProfileNameEquals="lead", SpaceNameEquals="fraud-models")
    assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        sm.delete_space(DomainId=domain_id, SpaceName="fraud-models")
    assert code(exc) == "ResourceInUse"  # its app still runs
    call_checked(
        sm, "delete_app", DomainId=domain_id, SpaceName="fraud-models", AppType="JupyterLab", AppName="default"
    )
    assert sm.list_apps(DomainIdEquals=domain_id)["Apps"][0]["Status"] == "Deleted"  # still listed, as AWS does
    call_checked(sm, "delete_space", DomainId=domain_id, SpaceName="fraud-models")
    with pytest.raises(ClientError) as exc:
        sm.delete_domain(DomainId=domain_id)
    assert code(exc) == "ResourceInUse"  # the profile remains


def test_a_profile_with_apps_cannot_be_deleted(sm: Any) -> None:
    domain_id = domain(sm)
    sm.create_user_profile(DomainId=domain_id, UserProfileName="maria")
    sm.create_app(DomainId=domain_id, UserProfileName="maria", AppType="JupyterServer", AppName="default")
    with pytest.raises(ClientError) as exc:
        sm.delete_user_profile(DomainId=domain_id, UserProfileName="maria")
    assert code(exc) == "ResourceInUse"


def test_listings_page_with_aws_defaults_and_bounds(sm: Any) -> None:
    domain_id = domain(sm)
    for n in range(23):
        sm.create_user_profile(DomainId=domain_id, UserProfileName=f"person-{n}")
    first = call_checked(sm, "list_user_profiles", DomainIdEquals=domain_id)
    assert len(first["UserProfiles"]) == 10 and "NextToken" in first  # AWS's default page is 10
    names = [
        p["UserProfileName"]
        for page in sm.get_paginator("list_user_profiles").paginate(
            DomainIdEquals=domain_id, PaginationConfig={"PageSize": 7}
        )
        for p in page["UserProfiles"]
    ]
    assert sorted(names) == sorted(f"person-{n}" for n in range(23)) and len(set(names)) == 23
    unchecked = boto3.client(
        "sagemaker",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(parameter_validation=False),
    )
    for bad in (0, 101):
        with pytest.raises(ClientError) as exc:
            unchecked.list_user_profiles(DomainIdEquals=domain_id, MaxResults=bad)
        assert code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        sm.list_user_profiles(DomainIdEquals=domain_id, NextToken="garbage!")
    assert code(exc) == "ValidationException"


def test_add_tags_overwrites_by_key_and_delete_tags_removes(sm: Any) -> None:
    domain_id = domain(sm, Tags=[{"Key": "team", "Value": "a"}])
    arn = sm.describe_domain(DomainId=domain_id)["DomainArn"]
    call_checked(sm, "add_tags", ResourceArn=arn, Tags=[{"Key": "team", "Value": "b"}, {"Key": "cc", "Value": "1"}])
    tags = call_checked(sm, "list_tags", ResourceArn=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("cc", "1"), ("team", "b")]
    call_checked(sm, "delete_tags", ResourceArn=arn, TagKeys=["cc"])
    assert [t["Key"] for t in sm.list_tags(ResourceArn=arn)["Tags"]] == ["team"]
    with pytest.raises(ClientError) as exc:
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(50)])
    assert code(exc) == "ValidationException"  # 51 tags in all


def test_tags_of_other_resources_still_reach_moto(sm: Any) -> None:
    sm.create_model(ModelName="churn", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "img"})
    arn = sm.describe_model(ModelName="churn")["ModelArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "a"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "a"}]


def test_presigned_urls_are_for_iam_domains_and_existing_profiles(sm: Any) -> None:
    iam = domain(sm)
    sm.create_user_profile(DomainId=iam, UserProfileName="maria")
    url = call_checked(sm, "create_presigned_domain_url", DomainId=iam, UserProfileName="maria", ExpiresInSeconds=60)[
        "AuthorizedUrl"
    ]
    assert url.startswith(f"https://{iam}.studio.us-east-1.sagemaker.aws/auth?token=")
    with pytest.raises(ClientError) as exc:
        sm.create_presigned_domain_url(DomainId=iam, UserProfileName="nobody")
    assert code(exc) == "ResourceNotFound"
    with pytest.raises(ClientError) as exc:
        sm.create_presigned_domain_url(DomainId=iam, UserProfileName="maria", ExpiresInSeconds=600)
    assert code(exc) == "ValidationException"
    sso = domain(sm, name="sso", auth="SSO")
    sm.create_user_profile(
        DomainId=sso, UserProfileName="maria", SingleSignOnUserIdentifier="UserName", SingleSignOnUserValue="maria"
    )
    with pytest.raises(ClientError) as exc:
        sm.create_presigned_domain_url(DomainId=sso, UserProfileName="maria")
    assert code(exc) == "ValidationException"


def test_new_resources_can_answer_pending_before_in_service(sm: Any) -> None:
    from awssandbox.studio import studio_state

    domain_id = domain(sm)
    studio_state("123456789012", "us-east-1").pending_describes = 2
    sm.create_user_profile(DomainId=domain_id, UserProfileName="maria")
    statuses = [sm.describe_user_profile(DomainId=domain_id, UserProfileName="maria")["Status"] for _ in range(3)]
    assert statuses == ["Pending", "Pending", "InService"]


def test_accounts_and_regions_are_isolated(sm: Any) -> None:
    domain(sm)
    other_region = boto3.client("sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    assert other_region.list_domains()["Domains"] == []
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    creds = sts.assume_role(RoleArn="arn:aws:iam::271828182845:role/Portal", RoleSessionName="test")["Credentials"]
    other_account = boto3.client(
        "sagemaker",
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    assert other_account.list_domains()["Domains"] == []


def test_the_sandbox_server_serves_the_same_operations_over_http() -> None:
    from awssandbox.server import reset_backends

    server = ThreadedSandbox().start()
    try:
        sm = boto3.client(
            "sagemaker",
            region_name="us-east-1",
            endpoint_url=server.url,
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        domain_id = sm.create_domain(DomainName="remote", AuthMode="IAM", DefaultUserSettings={}, **placement())[
            "DomainId"
        ]
        call_checked(sm, "create_user_profile", DomainId=domain_id, UserProfileName="maria")
        assert (
            call_checked(sm, "list_user_profiles", DomainIdEquals=domain_id)["UserProfiles"][0]["UserProfileName"]
            == "maria"
        )
    finally:
        server.stop()
        reset_backends()
