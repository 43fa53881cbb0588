"""The AWS gateway: one place for clients, with retries, timeouts, AssumeRole and a call counter."""

from __future__ import annotations

import time
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoRegionError,
    ReadTimeoutError,
)

from awssandbox import faults
from portal.aws import (
    AccountAccess,
    CallCounter,
    RetryPolicy,
    call_counter,
    call_with_retries,
    describe_error,
    error_code,
    gateway,
    is_retryable,
    is_throttling,
    tally,
)

OTHER = "271828182845"
ROLE = f"arn:aws:iam::{OTHER}:role/PortalGovernance"


def client_error(code: str, message: str = "", status: int = 400, operation: str = "ListDomains") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


def assume_role_calls() -> int:
    return call_counter.snapshot().get(("sts", "AssumeRole"), 0)


@pytest.fixture
def assume_role_params(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The parameters of every AssumeRole call the gateway's STS clients make."""
    sent: list[dict[str, Any]] = []
    original = botocore.session.Session.create_client

    def spy(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        made = original(self, service_name, *args, **kwargs)
        if service_name == "sts":
            made.meta.events.register(
                "provide-client-params.sts.AssumeRole", lambda params, **_: sent.append(dict(params))
            )
        return made

    monkeypatch.setattr(botocore.session.Session, "create_client", spy)
    return sent


# -- configuration -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("mode", "attempts"), [("standard", 5), ("adaptive", 8)])
def test_clients_carry_the_configured_retries_and_timeouts(
    aws_sandbox: None, settings: Any, mode: str, attempts: int
) -> None:
    settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = mode, attempts
    settings.AWS_CONNECT_TIMEOUT, settings.AWS_READ_TIMEOUT = 2.5, 12.0
    gateway().clear()
    for made in (gateway().sagemaker(region="eu-west-1"), gateway().cost_explorer(), gateway().sts()):
        config = made.meta.config
        assert config.retries == {"mode": mode, "total_max_attempts": attempts}
        assert (config.connect_timeout, config.read_timeout) == (2.5, 12.0)
        assert config.user_agent_appid == "sagemaker-governance-portal"


def test_cost_explorer_is_always_in_us_east_1_and_sts_in_the_default_region(aws_sandbox: None, settings: Any) -> None:
    settings.AWS_DEFAULT_REGION = "eu-central-1"
    gateway().clear()
    # botocore names Cost Explorer's region "aws-global"; its one endpoint is in us-east-1
    assert gateway().cost_explorer().meta.endpoint_url == "https://ce.us-east-1.amazonaws.com"
    assert gateway().sts().meta.region_name == "eu-central-1"
    assert gateway().sagemaker(region="ap-southeast-2").meta.region_name == "ap-southeast-2"


def test_a_read_timeout_is_applied_and_counts_as_retryable(sandbox_server: str, settings: Any) -> None:
    settings.AWS_READ_TIMEOUT, settings.AWS_MAX_ATTEMPTS = 0.3, 1
    gateway().clear()
    faults.registry.add(service="sagemaker", kind="latency", operation="ListDomains", latency_ms=1200, count=1)
    started = time.perf_counter()
    with pytest.raises(ReadTimeoutError) as exc:
        gateway().sagemaker(region="us-east-1").list_domains()
    assert time.perf_counter() - started < 1.0
    assert is_retryable(exc.value) and not is_throttling(exc.value)


# -- caching -----------------------------------------------------------------------------------------------------
def test_clients_are_cached_per_service_region_and_account(aws_sandbox: None) -> None:
    gw = gateway()
    home = gw.sagemaker(region="us-east-1")
    assert gw.sagemaker(region="us-east-1") is home
    assert gw.client("sagemaker", region="us-east-1") is home
    assert gw.sagemaker(region="eu-west-1") is not home
    assert gw.cost_explorer() is gw.cost_explorer()
    assert gw.cost_explorer() is not gw.client("sagemaker", region="us-east-1")
    other = AccountAccess(OTHER, ROLE, "ext-1")
    in_other = gw.sagemaker(region="us-east-1", account=other)
    assert in_other is not home
    assert gw.sagemaker(region="us-east-1", account=other) is in_other
    assert gw.sagemaker(region="us-east-1", account=AccountAccess(OTHER, ROLE, "ext-1")) is in_other  # by value
    gw.clear()
    assert gw.sagemaker(region="us-east-1") is not home


# -- AssumeRole --------------------------------------------------------------------------------------------------
def test_assume_role_lands_in_the_account_and_passes_the_external_id(
    aws_sandbox: None, assume_role_params: list[dict[str, Any]], settings: Any
) -> None:
    access = AccountAccess(OTHER, ROLE, "ext-123")
    identity = gateway().caller_identity(access)
    assert identity["Account"] == OTHER
    assert ":assumed-role/PortalGovernance/" in identity["Arn"]
    assert assume_role_params == [
        {
            "RoleArn": ROLE,
            "RoleSessionName": settings.AWS_ASSUME_ROLE_SESSION_NAME,
            "DurationSeconds": 3600,
            "ExternalId": "ext-123",
        }
    ]
    assert gateway().caller_identity()["Account"] == "123456789012"  # no role: the sandbox's own account


def test_without_an_external_id_none_is_sent(aws_sandbox: None, assume_role_params: list[dict[str, Any]]) -> None:
    gateway().caller_identity(AccountAccess(OTHER, ROLE))
    assert "ExternalId" not in assume_role_params[0]


def test_an_account_without_a_role_uses_the_portals_own_credentials(
    aws_sandbox: None, assume_role_params: list[dict[str, Any]]
) -> None:
    assert gateway().caller_identity(AccountAccess(OTHER))["Account"] == "123456789012"
    assert assume_role_params == []


def test_assumed_credentials_are_shared_per_account_and_renewed_before_they_expire(aws_sandbox: None) -> None:
    gw = gateway()
    access = AccountAccess(OTHER, ROLE, "ext-9")
    before = assume_role_calls()
    gw.sagemaker(region="us-east-1", account=access)
    gw.sagemaker(region="eu-west-1", account=access)
    gw.cost_explorer(account=access)
    assert assume_role_calls() - before == 1  # one AssumeRole for every client in the account
    session, _expires = gw._sessions[(OTHER, ROLE)]
    gw._sessions[(OTHER, ROLE)] = (session, time.time() + 60)  # less than five minutes left
    renewed = gw.sagemaker(region="us-east-1", account=access)
    assert assume_role_calls() - before == 2
    assert gw.sagemaker(region="us-east-1", account=access) is renewed


def test_each_account_sees_only_its_own_resources(aws_sandbox: None) -> None:
    other = AccountAccess(OTHER, ROLE, "ext-1")
    iam_other = gateway().client("iam", region="us-east-1", account=other)
    iam_other.create_role(RoleName="OnlyInOther", AssumeRolePolicyDocument="{}")
    home_roles = {r["RoleName"] for r in gateway().client("iam", region="us-east-1").list_roles()["Roles"]}
    other_roles = {r["RoleName"] for r in iam_other.list_roles()["Roles"]}
    assert "OnlyInOther" in other_roles and "OnlyInOther" not in home_roles


# -- the call counter --------------------------------------------------------------------------------------------
def test_the_counter_counts_calls_by_service_and_operation(aws_sandbox: None) -> None:
    before = call_counter.snapshot()
    gateway().sagemaker(region="us-east-1").list_domains()
    gateway().sagemaker(region="eu-west-1").list_domains()
    gateway().cost_explorer().list_cost_allocation_tags()
    gateway().sts().get_caller_identity()
    assert call_counter.difference(call_counter.snapshot(), before) == {
        "ce:ListCostAllocationTags": 1,
        "sagemaker:ListDomains": 2,
        "sts:GetCallerIdentity": 1,
    }


def test_the_counter_includes_retried_attempts(aws_sandbox: None, fast_aws_backoff: None, settings: Any) -> None:
    settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = "standard", 4
    gateway().clear()
    faults.registry.add(service="sagemaker", kind="throttle", operation="ListDomains", count=3)
    before = call_counter.total("sagemaker")
    answer = gateway().sagemaker(region="us-east-1").list_domains()
    assert answer["ResponseMetadata"]["RetryAttempts"] == 3
    assert call_counter.total("sagemaker") - before == 4


def test_call_counter_totals_differences_and_reset() -> None:
    counter = CallCounter()
    counter.record("sagemaker", "ListDomains")
    counter.record("sagemaker", "ListDomains")
    before = counter.snapshot()
    counter.record("ce", "GetCostAndUsage")
    counter.record("sagemaker", "ListApps")
    assert counter.total() == 4 and counter.total("sagemaker") == 3 and counter.total("iam") == 0
    assert CallCounter.difference(counter.snapshot(), before) == {"ce:GetCostAndUsage": 1, "sagemaker:ListApps": 1}
    counter.reset()
    assert counter.snapshot() == {} and counter.total() == 0


# -- errors ------------------------------------------------------------------------------------------------------
def test_errors_are_described_in_one_line() -> None:
    assert (
        describe_error(client_error("ResourceNotFound", "No such domain", operation="DescribeDomain"))
        == "DescribeDomain: ResourceNotFound: No such domain"
    )
    assert (
        describe_error(client_error("InternalFailure", "  ", 503, "ListApps"))
        == "ListApps: InternalFailure: no message"
    )
    assert (
        describe_error(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
        == 'EndpointConnectionError: Could not connect to the endpoint URL: "http://127.0.0.1:9"'
    )
    assert describe_error(NoRegionError()) == "NoRegionError: You must specify a region."
    assert describe_error(ValueError("bug")) == "ValueError: bug"


@pytest.mark.parametrize(
    "code",
    ["ThrottlingException", "Throttling", "LimitExceededException", "TooManyRequestsException", "RequestLimitExceeded"],
)
def test_throttling_codes_are_recognised(code: str) -> None:
    assert is_throttling(client_error(code)) and is_retryable(client_error(code))
    assert error_code(client_error(code)) == code


def test_what_is_and_is_not_retryable() -> None:
    assert not is_throttling(client_error("ValidationException"))
    assert not is_throttling(ValueError("ThrottlingException"))
    assert error_code(ValueError("x")) is None
    assert not is_retryable(client_error("ResourceNotFound"))
    assert not is_retryable(client_error("ValidationException"))
    assert is_retryable(client_error("InternalFailure", status=500))
    assert is_retryable(client_error("ServiceUnavailable", status=503))
    assert is_retryable(client_error("Whatever", status=502))
    assert is_retryable(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    assert is_retryable(ConnectTimeoutError(endpoint_url="http://127.0.0.1:9"))
    assert not is_retryable(NoRegionError())
    assert not is_retryable(ValueError("bug"))


def test_a_tally_counts_attempts_retries_and_throttling_and_hands_each_over_once(
    aws_sandbox: None, fast_aws_backoff: None, settings: Any
) -> None:
    settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = "standard", 4
    gateway().clear()
    faults.registry.add(service="sagemaker", kind="throttle", operation="ListDomains", count=2)
    client = gateway().sagemaker(region="us-east-1")
    with tally() as outer:
        client.list_domains()
        first = outer.take()
        with tally() as inner:
            client.list_domains()
    assert first == {
        "calls": {"sagemaker:ListDomains": 3},
        "retried": {"sagemaker:ListDomains": 2},
        "throttled": {"sagemaker:ListDomains": 2},
    }
    assert outer.take() == {"calls": {"sagemaker:ListDomains": 1}, "retried": {}, "throttled": {}}
    assert outer.take() == {"calls": {}, "retried": {}, "throttled": {}}
    assert inner.made() == {"sagemaker:ListDomains": 1}  # nested tallies each see the calls made inside them
    client.list_domains()
    assert outer.made() == {"sagemaker:ListDomains": 4}  # closed: calls after the block are not its own


def test_the_retry_policy_doubles_with_jitter_up_to_its_ceiling() -> None:
    policy = RetryPolicy(attempts=4, base_seconds=2.0, max_seconds=10.0)
    for retry, ceiling in enumerate([2.0, 4.0, 8.0, 10.0, 10.0]):
        for _ in range(20):
            assert ceiling / 2 <= policy.delay(retry) <= ceiling
    assert [policy.is_final(n) for n in range(5)] == [False, False, False, True, True]
    assert policy.should_retry(client_error("ThrottlingException"), 0)
    assert not policy.should_retry(client_error("ThrottlingException"), 3)
    assert not policy.should_retry(client_error("AccessDeniedException"), 0)


def test_a_call_is_retried_under_the_policy_then_surfaces(
    aws_sandbox: None, fast_aws_backoff: None, settings: Any
) -> None:
    settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS, settings.AWS_STEP_ATTEMPTS = "standard", 2, 3
    gateway().clear()
    client = gateway().sagemaker(region="us-east-1")
    faults.registry.add(service="sagemaker", kind="server_error", operation="ListDomains", count=5)
    assert call_with_retries(client.list_domains)["Domains"] == []  # 2 + 2 failed attempts, then 1 that worked
    rule = faults.registry.add(service="sagemaker", kind="throttle", operation="ListDomains", rate=1.0)
    with pytest.raises(ClientError):
        call_with_retries(client.list_domains)
    assert rule.seen == 3 * 2
