"""Plain boto3 clients for contract tests that run twice: against the in-process sandbox and over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

MODES = ("in_process", "http")
DEFAULT_ACCOUNT = "123456789012"  # moto's account for credentials it did not issue


def make_clients(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``client(service, region="us-east-1", account=None)``: a boto3 client on the sandbox of ``request.param``;
    with ``account``, credentials from STS AssumeRole into that account (as the portal gets them)."""
    if request.param == "in_process":
        request.getfixturevalue("aws_sandbox")
        endpoint = None
    else:
        endpoint = request.getfixturevalue("sandbox_server")

    def client(service: str, region: str = "us-east-1", account: str | None = None) -> Any:
        keys: dict[str, str] = {"aws_access_key_id": "x", "aws_secret_access_key": "x"}
        if account is not None:
            sts = boto3.client("sts", region_name=region, endpoint_url=endpoint, **keys)
            credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/Probe", RoleSessionName="contract")[
                "Credentials"
            ]
            keys = {
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            }
        return boto3.client(service, region_name=region, endpoint_url=endpoint, **keys)

    return client
