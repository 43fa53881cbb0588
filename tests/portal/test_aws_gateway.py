"""The AWS gateway: one place for clients, with retries, timeouts, AssumeRole and a call counter."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from portal.aws import AccountAccess, call_counter, describe_error, gateway, is_retryable, is_throttling


def test_clients_carry_the_configured_retries_and_timeouts(aws_sandbox: None, settings: Any) -> None:
    settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = "standard", 5
    settings.AWS_CONNECT_TIMEOUT, settings.AWS_READ_TIMEOUT = 2.5, 12.0
    gateway().clear()
    config = gateway().sagemaker(region="eu-west-1").meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}
    assert (config.connect_timeout, config.read_timeout) == (2.5, 12.0)


def test_clients_are_cached_per_service_region_and_account(aws_sandbox: None) -> None:
    gw = gateway()
    assert gw.sagemaker(region="us-east-1") is gw.sagemaker(region="us-east-1")
    assert gw.sagemaker(region="us-east-1") is not gw.sagemaker(region="eu-west-1")
    other = AccountAccess("271828182845", "arn:aws:iam::271828182845:role/Portal")
    assert gw.sagemaker(region="us-east-1", account=other) is not gw.sagemaker(region="us-east-1")


def test_assume_role_lands_in_the_account_and_passes_the_external_id(aws_sandbox: None) -> None:
    sent: list[dict[str, Any]] = []
    access = AccountAccess("271828182845", "arn:aws:iam::271828182845:role/Portal", "ext-123")
    import botocore.session

    original = botocore.session.Session.create_client

    def spy(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service_name, *args, **kwargs)
        if service_name == "sts":
            client.meta.events.register("provide-client-params.sts.AssumeRole",
                                        lambda params, **_: sent.append(dict(params)))
        return client

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session.Session, "create_client", spy)
        identity = gateway().caller_identity(access)
    assert identity["Account"] == "271828182845"
    assert sent and sent[0]["ExternalId"] == "ext-123" and sent[0]["RoleArn"] == access.role_arn


def test_the_counter_counts_calls_by_service_and_operation(aws_sandbox: None) -> None:
    before = call_counter.snapshot()
    gateway().sagemaker(region="us-east-1").list_domains()
    gateway().sagemaker(region="us-east-1").list_domains()
    assert call_counter.difference(call_counter.snapshot(), before) == {"sagemaker:ListDomains": 2}


def test_errors_are_described_and_classified() -> None:
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                             "ResponseMetadata": {"HTTPStatusCode": 400}}, "ListDomains")
    missing = ClientError({"Error": {"Code": "ResourceNotFound", "Message": "No such domain"},
                           "ResponseMetadata": {"HTTPStatusCode": 400}}, "DescribeDomain")
    unavailable = ClientError({"Error": {"Code": "InternalFailure", "Message": ""},
                               "ResponseMetadata": {"HTTPStatusCode": 503}}, "ListApps")
    assert describe_error(missing) == "DescribeDomain: ResourceNotFound: No such domain"
    assert is_throttling(throttled) and not is_throttling(missing)
    assert is_retryable(throttled) and is_retryable(unavailable) and not is_retryable(missing)
    assert is_retryable(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    assert not is_retryable(ValueError("bug"))
