"""A Studio domain's network and storage in moto's EC2 and EFS: the VPC, subnets and security group a domain is
placed in, and the home EFS file system SageMaker creates for it.

AWS creates the home file system when it creates the domain (API reference: DescribeDomain's HomeEfsFileSystemId;
developer guide: "Amazon EFS" under "Manage Studio storage") and tags it with the domain it belongs to. ASSUMED, as
AWS documents neither: the tag key ``ManagedByAmazonSageMakerResource`` whose value is the domain's ARN, the creation
token being the domain id, and General Purpose / bursting modes (:data:`HOME_EFS`).
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models import ec2_backends
from moto.efs.models import efs_backends

HOME_EFS: dict[str, Any] = {
    "tag_key": "ManagedByAmazonSageMakerResource",
    "performance_mode": "generalPurpose",
    "throughput_mode": "bursting",
    "encrypted": True,
}


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
