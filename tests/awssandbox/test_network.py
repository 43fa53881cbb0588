"""CreateDomain and UpdateDomain place a domain in a VPC, subnets and security groups that exist in the same account
and Region's EC2, the subnets and groups in that VPC: in process and over HTTP alike."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.awssandbox.aws_clients import MODES, make_clients
from tests.sandbox_network import studio_network

ROLE = "arn:aws:iam::123456789012:role/Exec"


@pytest.fixture(params=MODES)
def sm(request: pytest.FixtureRequest) -> Any:
    return make_clients(request)("sagemaker")


def create(sm: Any, vpc_id: str, subnets: list[str], groups: list[str] | None = None) -> str:
    extra = {"DomainSettings": {"SecurityGroupIds": groups}} if groups is not None else {}
    return sm.create_domain(
        DomainName="team",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE},
        VpcId=vpc_id,
        SubnetIds=subnets,
        **extra,
    )["DomainId"]


def refused(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as exc:
        call(**params)
    assert exc.value.response["Error"]["Code"] == "ValidationException"
    return exc.value.response["Error"]["Message"]


def test_a_domain_in_a_real_vpc_with_its_subnets_and_group_is_created(sm: Any) -> None:
    net = studio_network()
    domain_id = create(sm, net["VpcId"], net["SubnetIds"], [net["GroupId"]])
    described = sm.describe_domain(DomainId=domain_id)
    assert (described["VpcId"], described["SubnetIds"]) == (net["VpcId"], net["SubnetIds"])
    assert described["DomainSettings"]["SecurityGroupIds"] == [net["GroupId"]]


def test_create_domain_refuses_unknown_or_foreign_network_ids(sm: Any) -> None:
    net, other = studio_network(), studio_network()
    message = refused(create, sm=sm, vpc_id="vpc-0123456789abcdef0", subnets=net["SubnetIds"])
    assert "VpcId" in message and "vpc-0123456789abcdef0" in message
    message = refused(create, sm=sm, vpc_id=net["VpcId"], subnets=[net["SubnetIds"][0], "subnet-0badbadbadbadbad0"])
    assert "SubnetIds" in message and "subnet-0badbadbadbadbad0" in message
    message = refused(create, sm=sm, vpc_id=net["VpcId"], subnets=other["SubnetIds"])
    assert "SubnetIds" in message and other["VpcId"] in message and net["VpcId"] in message
    message = refused(create, sm=sm, vpc_id=net["VpcId"], subnets=net["SubnetIds"], groups=["sg-0badbadbadbadbad0"])
    assert "SecurityGroupIds" in message and "sg-0badbadbadbadbad0" in message
    message = refused(create, sm=sm, vpc_id=net["VpcId"], subnets=net["SubnetIds"], groups=[other["GroupId"]])
    assert "SecurityGroupIds" in message and other["GroupId"] in message
    assert sm.list_domains()["Domains"] == []  # nothing half-created


def test_a_vpc_of_another_region_is_unknown_here(sm: Any) -> None:
    elsewhere = studio_network(region="eu-west-1")
    message = refused(create, sm=sm, vpc_id=elsewhere["VpcId"], subnets=elsewhere["SubnetIds"])
    assert "VpcId" in message


def test_update_domain_checks_new_subnets_and_groups_against_the_domains_vpc(sm: Any) -> None:
    net, other = studio_network(), studio_network()
    domain_id = create(sm, net["VpcId"], net["SubnetIds"])
    refused(sm.update_domain, DomainId=domain_id, SubnetIds=[*net["SubnetIds"], other["SubnetIds"][0]])
    refused(sm.update_domain, DomainId=domain_id, SubnetIds=["subnet-0badbadbadbadbad0"])
    refused(sm.update_domain, DomainId=domain_id, DomainSettingsForUpdate={"SecurityGroupIds": [other["GroupId"]]})
    assert sm.describe_domain(DomainId=domain_id)["SubnetIds"] == net["SubnetIds"]  # nothing applied
    sm.update_domain(DomainId=domain_id, DomainSettingsForUpdate={"SecurityGroupIds": [net["GroupId"]]})
    sm.update_domain(DomainId=domain_id, SubnetIds=net["SubnetIds"][:1])
    described = sm.describe_domain(DomainId=domain_id)
    assert described["SubnetIds"] == net["SubnetIds"][:1]
    assert described["DomainSettings"]["SecurityGroupIds"] == [net["GroupId"]]
