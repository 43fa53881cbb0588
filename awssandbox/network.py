"""A Studio domain's network and storage in moto's EC2 and EFS: the VPC, subnets and security group a domain is
placed in, and the home EFS file system SageMaker creates for it.

AWS creates the home file system when it creates the domain (API reference: DescribeDomain's HomeEfsFileSystemId;
developer guide: "Amazon EFS" under "Manage Studio storage") and tags it with the domain it belongs to. ASSUMED, as
AWS documents neither: the tag key ``ManagedByAmazonSageMakerResource`` whose value is the domain's ARN, the creation
token being the domain id, and General Purpose / bursting modes (:data:`HOME_EFS`).

CreateDomain and UpdateDomain place the domain in a VPC, subnets and security groups of the same account and Region
(API reference: CreateDomain's VpcId and SubnetIds, DomainSettings' SecurityGroupIds: "must be in the same VPC as
specified through CreateDomain"): :func:`check_network` holds them to moto's EC2. ASSUMED: the wording of the
ValidationException for an unknown id or one outside the VPC (:data:`NETWORK_MESSAGES`); AWS documents no message.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.exceptions import InvalidSubnetIdError, InvalidVPCIdError
from moto.ec2.models import ec2_backends
from moto.efs.models import efs_backends

HOME_EFS: dict[str, Any] = {
    "tag_key": "ManagedByAmazonSageMakerResource",
    "performance_mode": "generalPurpose",
    "throughput_mode": "bursting",
    "encrypted": True,
}


NETWORK_MESSAGES = {
    "vpc": "Invalid VpcId: the VPC {id} does not exist in this account and Region.",
    "subnet": "Invalid SubnetIds: the subnet {id} does not exist in this account and Region.",
    "subnet_vpc": "Invalid SubnetIds: the subnet {id} is in {other}, not in the domain's VPC {vpc}.",
    "group": "Invalid SecurityGroupIds: the security group {id} does not exist in this account and Region.",
    "group_vpc": "Invalid SecurityGroupIds: the security group {id} is in {other}, not in the domain's VPC {vpc}.",
}


class NetworkError(ValueError):
    """A VPC, subnet or security group that does not exist, or is not in the domain's VPC."""


def check_network(
    account_id: str,
    region: str,
    vpc_id: str | None,
    subnet_ids: list[str] | None = None,
    security_group_ids: list[str] | None = None,
) -> None:
    """Raise :class:`NetworkError` unless the VPC exists in moto's EC2 and the subnets and security groups exist
    and belong to it. A domain placed in no VPC (the Python seeding may leave it out) is not checked."""
    if not vpc_id:
        return
    ec2 = ec2_backends[account_id][region]
    try:
        ec2.get_vpc(vpc_id)
    except InvalidVPCIdError:
        raise NetworkError(NETWORK_MESSAGES["vpc"].format(id=vpc_id)) from None
    for subnet_id in subnet_ids or []:
        try:
            subnet = ec2.get_subnet(subnet_id)
        except InvalidSubnetIdError:
            raise NetworkError(NETWORK_MESSAGES["subnet"].format(id=subnet_id)) from None
        if subnet.vpc_id != vpc_id:
            raise NetworkError(NETWORK_MESSAGES["subnet_vpc"].format(id=subnet_id, other=subnet.vpc_id, vpc=vpc_id))
    for group_id in security_group_ids or []:
        group = ec2.get_security_group_from_id(group_id)
        if group is None:
            raise NetworkError(NETWORK_MESSAGES["group"].format(id=group_id))
        if group.vpc_id != vpc_id:
            raise NetworkError(NETWORK_MESSAGES["group_vpc"].format(id=group_id, other=group.vpc_id, vpc=vpc_id))


def home_file_system(account_id: str, region: str, domain_id: str, domain_arn: str) -> str:
    """Create the domain's home EFS file system in moto's EFS; its id."""
    backend = efs_backends[account_id][region]
    file_system = backend.create_file_system(
        creation_token=domain_id,
        performance_mode=HOME_EFS["performance_mode"],
        encrypted=HOME_EFS["encrypted"],
        kms_key_id=None,  # type: ignore[arg-type]  # moto takes None for the AWS-managed key
        throughput_mode=HOME_EFS["throughput_mode"],
        provisioned_throughput_in_mibps=None,  # type: ignore[arg-type]
        availability_zone_name=None,  # type: ignore[arg-type]
        backup=False,
        tags=[{"Key": HOME_EFS["tag_key"], "Value": domain_arn}],
    )
    return file_system.file_system_id


def domain_network(account_id: str, region: str, name: str, index: int) -> dict[str, Any]:
    """A VPC with two private subnets in two Availability Zones and a security group for a domain, in moto's EC2:
    ``{"vpc_id", "subnet_ids", "security_group_id"}``. ``index`` keeps CIDR blocks apart within a region."""
    ec2 = ec2_backends[account_id][region]
    tags = {"Name": f"{name}-studio"}
    vpc = ec2.create_vpc(cidr_block=f"10.{index}.0.0/16", tags=_tags(tags))
    subnets = [
        ec2.create_subnet(
            vpc_id=vpc.id,
            cidr_block=f"10.{index}.{n}.0/24",
            availability_zone=f"{region}{zone}",
            tags={"subnet": {**tags, "Name": f"{name}-studio-{zone}"}},
        )
        for n, zone in enumerate(("a", "b"))
    ]
    group = ec2.create_security_group(
        name=f"{name}-studio", description=f"Studio apps of {name}", vpc_id=vpc.id, tags=tags
    )
    return {"vpc_id": vpc.id, "subnet_ids": [s.id for s in subnets], "security_group_id": group.id}


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]
