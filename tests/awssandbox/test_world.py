"""The rest of a domain's world: app activity and health checks, a space's idle settings as the service model has
them, tag propagation to apps, and the demo organisation's apps believable: in process and over HTTP alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest

import awssandbox
from awssandbox import organisation
from awssandbox.clock import clock
from awssandbox.studio import studio_state
from portal.sandboxing import demo_inputs
from tests.awssandbox.aws_clients import DEFAULT_ACCOUNT, MODES, make_clients
from tests.awssandbox.contract import call_checked
from tests.sandbox_network import placement

ROLE = "arn:aws:iam::123456789012:role/Exec"


@pytest.fixture(params=MODES)
def client(request: pytest.FixtureRequest) -> Any:
    return make_clients(request)


def make_domain(sm: Any, propagation: str, tags: list[dict[str, str]]) -> str:
    return sm.create_domain(
        DomainName=f"team-{propagation.lower()}",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE},
        **placement(),
        TagPropagation=propagation,
        Tags=tags,
    )["DomainId"]


def tags_of(sm: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}


def test_apps_get_the_domains_and_the_spaces_custom_tags_when_propagation_is_enabled(client: Any) -> None:
    sm = client("sagemaker")
    for propagation in ("ENABLED", "DISABLED"):
        domain_id = make_domain(sm, propagation, [{"Key": "cost-center", "Value": "CC-1"}])
        sm.create_user_profile(DomainId=domain_id, UserProfileName="maria", Tags=[{"Key": "owner", "Value": "m"}])
        sm.create_space(
            DomainId=domain_id,
            SpaceName="lab",
            SpaceSettings={"AppType": "JupyterLab"},
            Tags=[{"Key": "project", "Value": "churn"}, {"Key": "cost-center", "Value": "CC-2"}],
        )
        in_space = sm.create_app(DomainId=domain_id, SpaceName="lab", AppType="JupyterLab", AppName="default")
        on_profile = sm.create_app(
            DomainId=domain_id, UserProfileName="maria", AppType="JupyterServer", AppName="default"
        )
        space_tags = tags_of(sm, in_space["AppArn"])
        profile_tags = tags_of(sm, on_profile["AppArn"])
        assert space_tags["sagemaker:domain-arn"].endswith(domain_id)
        if propagation == "ENABLED":
            assert space_tags["project"] == "churn" and space_tags["cost-center"] == "CC-2"  # the space's wins
            assert profile_tags["cost-center"] == "CC-1" and "owner" not in profile_tags  # domain and space only
        else:
            assert "project" not in space_tags and "cost-center" not in space_tags
            assert "cost-center" not in profile_tags


def test_describe_app_carries_activity_and_health_checks(client: Any) -> None:
    sm = client("sagemaker")
    domain_id = make_domain(sm, "DISABLED", [])
    sm.create_space(DomainId=domain_id, SpaceName="lab", SpaceSettings={"AppType": "JupyterLab"})
    sm.create_app(DomainId=domain_id, SpaceName="lab", AppType="JupyterLab", AppName="default")
    clock.advance(700)
    app = call_checked(sm, "describe_app", DomainId=domain_id, SpaceName="lab", AppType="JupyterLab", AppName="default")
    created = app["CreationTime"]
    assert created < app["LastHealthCheckTimestamp"] <= datetime.now(UTC) + timedelta(seconds=701)
    assert (app["LastHealthCheckTimestamp"] - created).total_seconds() == 600  # checks every 5 minutes (assumed)
    # Seeded with activity before its creation, an app reports its creation instead.
    state = studio_state(DEFAULT_ACCOUNT, "us-east-1")
    state.create_app(
        domain_id=domain_id,
        app_type="CodeEditor",
        name="seeded",
        space="lab",
        created=datetime.now(UTC) - timedelta(days=2),
        last_activity=datetime.now(UTC) - timedelta(days=5),
    )
    seeded = sm.describe_app(DomainId=domain_id, SpaceName="lab", AppType="CodeEditor", AppName="seeded")
    assert seeded["LastUserActivityTimestamp"] == seeded["CreationTime"]


def raw_call(sm: Any, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A signed SageMaker JSON request with a body botocore would not serialize (members the model does not have)."""
    import json
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method="POST",
        url=sm.meta.endpoint_url + "/",
        data=json.dumps(body),
        headers={"X-Amz-Target": f"SageMaker.{operation}", "Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials("x", "x"), "sagemaker", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(request.url, data=request.body, headers=dict(request.headers), method="POST")
    try:
        with urllib.request.urlopen(prepared, timeout=10) as answer:  # noqa: S310 - the loopback sandbox
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_a_spaces_idle_settings_have_no_lifecycle_management(client: Any) -> None:
    """botocore cannot even send LifecycleManagement in a space's idle settings (SpaceIdleSettings has no such
    member); the sandbox refuses it too, over the wire and from the Python seeding API."""
    from awssandbox.studio import StudioError

    sm = client("sagemaker")
    domain_id = make_domain(sm, "DISABLED", [])
    timeout_only = {"AppLifecycleManagement": {"IdleSettings": {"IdleTimeoutInMinutes": 120}}}
    sm.create_space(
        DomainId=domain_id,
        SpaceName="lab",
        SpaceSettings={"AppType": "JupyterLab", "JupyterLabAppSettings": timeout_only},
    )
    with_management = {"AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": "ENABLED"}}}
    state = studio_state(DEFAULT_ACCOUNT, "us-east-1")
    with pytest.raises(StudioError) as exc:
        state.create_space(
            domain_id=domain_id,
            name="other",
            space_settings={"AppType": "JupyterLab", "JupyterLabAppSettings": with_management},
        )
    assert exc.value.code == "ValidationException"
    if "127.0.0.1" in sm.meta.endpoint_url:
        status, body = raw_call(
            sm,
            "UpdateSpace",
            {"DomainId": domain_id, "SpaceName": "lab", "SpaceSettings": {"CodeEditorAppSettings": with_management}},
        )
        assert status == 400 and body["__type"] == "ValidationException", body
    described = sm.describe_space(DomainId=domain_id, SpaceName="lab")["SpaceSettings"]
    assert described["JupyterLabAppSettings"] == timeout_only and "CodeEditorAppSettings" not in described


def test_the_demo_organisations_apps_and_spaces_are_believable() -> None:
    with awssandbox.running():
        organisation.seed(demo_inputs(), date.today(), with_costs=False)
        now = datetime.now(UTC)
        apps, spaces = [], []
        for account in organisation.DEMO_ACCOUNTS:
            for region in organisation.REGIONS:
                state = studio_state(account, region)
                apps += list(state.apps.values())
                spaces += list(state.spaces.values())
        assert all(a.last_activity is None or a.last_activity >= a.created for a in apps)
        assert any(a.app_type == "JupyterServer" for a in apps)  # Studio Classic
        gpu_idle = [
            a
            for a in apps
            if a.status == "InService"
            and a.resource_spec.get("InstanceType", "").startswith(organisation.GPU_FAMILIES)
            and a.last_activity is not None
            and now - a.last_activity > timedelta(days=7)
        ]
        assert gpu_idle, "a GPU app idle for over a week"
        for space in spaces:
            for key in ("JupyterLabAppSettings", "CodeEditorAppSettings"):
                idle = space.space_settings.get(key, {}).get("AppLifecycleManagement", {}).get("IdleSettings", {})
                assert "LifecycleManagement" not in idle, space.name


def test_a_domains_home_efs_exists_in_efs(client: Any) -> None:
    sm, efs = client("sagemaker"), client("efs")
    domain_id = make_domain(sm, "DISABLED", [])
    described = call_checked(sm, "describe_domain", DomainId=domain_id)
    systems = efs.describe_file_systems(FileSystemId=described["HomeEfsFileSystemId"])["FileSystems"]
    tag = {"Key": "ManagedByAmazonSageMakerResource", "Value": described["DomainArn"]}
    assert systems and tag in systems[0]["Tags"]


def test_the_demo_domains_vpcs_subnets_security_groups_and_file_systems_exist() -> None:
    with awssandbox.running():
        organisation.seed(demo_inputs(), date.today(), with_costs=False)
        checked = 0
        for plan in organisation.DOMAINS:
            state = studio_state(plan.account_id, plan.region)
            role = f"arn:aws:iam::{plan.account_id}:role/Probe"
            credentials = boto3.client("sts", region_name=plan.region, aws_access_key_id="x", aws_secret_access_key="x")
            granted = credentials.assume_role(RoleArn=role, RoleSessionName="check")["Credentials"]
            keys = {
                "aws_access_key_id": granted["AccessKeyId"],
                "aws_secret_access_key": granted["SecretAccessKey"],
                "aws_session_token": granted["SessionToken"],
            }
            ec2 = boto3.client("ec2", region_name=plan.region, **keys)
            efs = boto3.client("efs", region_name=plan.region, **keys)
            for domain in [d for d in state.domains.values() if d.name == plan.name]:
                assert ec2.describe_vpcs(VpcIds=[domain.vpc_id])["Vpcs"]
                subnets = ec2.describe_subnets(SubnetIds=domain.subnet_ids)["Subnets"]
                assert {s["VpcId"] for s in subnets} == {domain.vpc_id} and len(subnets) == 2
                groups = domain.domain_settings["SecurityGroupIds"]
                assert ec2.describe_security_groups(GroupIds=groups)["SecurityGroups"][0]["VpcId"] == domain.vpc_id
                assert efs.describe_file_systems(FileSystemId=domain.home_efs_id)["FileSystems"]
                checked += 1
        assert checked == len(organisation.DOMAINS)
