"""A real network for the Studio domains tests create: CreateDomain checks its VpcId and SubnetIds against the
sandbox's EC2 (the sandbox server of the HTTP tests runs in this process, so both modes see the same EC2)."""

from __future__ import annotations

import itertools
from typing import Any

from awssandbox.network import domain_network

DEFAULT_ACCOUNT = "123456789012"  # moto's account for credentials it did not issue
_index = itertools.count()


def studio_network(region: str = "us-east-1", account: str = DEFAULT_ACCOUNT, name: str = "team") -> dict[str, Any]:
    """CreateDomain's ``VpcId`` and ``SubnetIds``: a new VPC with two subnets (and a security group, ``"GroupId"``
    kept apart so the dict can be passed on as keyword arguments with ``pop``)."""
    net = domain_network(account, region, name, next(_index) % 200 + 50)
    return {"VpcId": net["vpc_id"], "SubnetIds": net["subnet_ids"], "GroupId": net["security_group_id"]}


def placement(region: str = "us-east-1", account: str = DEFAULT_ACCOUNT) -> dict[str, Any]:
    """Only CreateDomain's ``VpcId`` and ``SubnetIds``."""
    net = studio_network(region, account)
    net.pop("GroupId")
    return net
