"""Fault injection in the AWS sandbox: throttling, server errors and latency, by rate or count, in process and over
HTTP; and how botocore's retries (through the gateway's clients) meet them."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from awssandbox import faults
from awssandbox.server import ThreadedSandbox, reset_backends
from portal.aws import call_counter, gateway, is_retryable, is_throttling

CE_REQUEST = {
    "TimePeriod": {"Start": "2026-10-01", "End": "2026-10-03"},
    "Granularity": "DAILY",
    "Metrics": ["UnblendedCost"],
}


def client(service: str, attempts: int = 1, mode: str = "standard", **extra: Any) -> Any:
    """A plain boto3 client with exactly ``attempts`` tries in total."""
    return boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"mode": mode, "total_max_attempts": attempts}),
        **extra,
    )


def counted(service: str, operation: str) -> int:
    return call_counter.snapshot().get((service, operation), 0)


def code_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as exc:
        call(*args, **kwargs)
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


# -- what a fault answers ---------------------------------------------------------------------------------------
def test_throttling_answers_each_services_own_code(aws_sandbox: None) -> None:
    faults.registry.add(service="sagemaker", kind="throttle", count=1)
    faults.registry.add(service="ce", kind="throttle", count=1)
    assert code_of(client("sagemaker").list_domains) == ("ThrottlingException", 400)
    assert code_of(client("ce").get_cost_and_usage, **CE_REQUEST) == ("LimitExceededException", 400)
    assert client("sagemaker").list_domains()["Domains"] == []  # count=1: the next call goes through
    client("ce").get_cost_and_usage(**CE_REQUEST)
    assert [(r["service"], r["fired"]) for r in faults.registry.rules()] == [("sagemaker", 1), ("ce", 1)]


def test_iam_faults_answer_in_its_query_protocol(aws_sandbox: None) -> None:
    """IAM errors are XML: botocore parses the code and botocore's retry modes see IAM's Throttling."""
    faults.registry.add(service="iam", kind="throttle", operation="SimulateCustomPolicy", count=1)
    faults.registry.add(service="iam", kind="server_error", operation="SimulateCustomPolicy", count=1)
    iam = client("iam")
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    request = {"PolicyInputList": [policy], "ActionNames": ["s3:GetObject"]}
    assert code_of(iam.simulate_custom_policy, **request) == ("Throttling", 400)
    assert code_of(iam.simulate_custom_policy, **request) == ("ServiceFailure", 500)
    assert iam.simulate_custom_policy(**request)["EvaluationResults"][0]["EvalDecision"] == "allowed"
    assert iam.list_roles()["Roles"] == []  # a rule on one operation leaves the others alone


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_carry_the_status_asked_for_and_only_hit_their_operation(aws_sandbox: None, status: int) -> None:
    faults.registry.add(service="sagemaker", kind="server_error", operation="ListDomains", count=1, status=status)
    code, http_status = code_of(client("sagemaker").list_domains)
    assert http_status == status and code == "InternalFailure"
    client("sagemaker").list_domains()


def test_an_operation_rule_leaves_other_operations_and_services_alone(aws_sandbox: None) -> None:
    faults.registry.add(service="sagemaker", kind="throttle", operation="DescribeDomain", rate=1.0)
    assert client("sagemaker").list_domains()["Domains"] == []
    client("ce").get_cost_and_usage(**CE_REQUEST)
    assert code_of(client("sagemaker").describe_domain, DomainId="d-000000000000")[0] == "ThrottlingException"


def test_latency_is_added_before_the_answer(aws_sandbox: None) -> None:
    faults.registry.add(service="ce", kind="latency", latency_ms=150, count=1)
    ce = client("ce")
    started = time.perf_counter()
    ce.get_cost_and_usage(**CE_REQUEST)
    assert time.perf_counter() - started >= 0.15
    # count=1: only once. The rule says so itself (a busy machine can make any call slower than 0.15 s).
    ce.get_cost_and_usage(**CE_REQUEST)
    (rule,) = faults.registry.rules()
    assert rule["fired"] == 1


def test_latency_and_an_error_can_fire_on_the_same_call(aws_sandbox: None) -> None:
    faults.registry.add(service="sagemaker", kind="latency", latency_ms=100, count=1)
    faults.registry.add(service="sagemaker", kind="throttle", count=1)
    faults.registry.add(service="sagemaker", kind="server_error", count=1)
    started = time.perf_counter()
    assert code_of(client("sagemaker").list_domains)[0] == "ThrottlingException"  # one error per call
    assert time.perf_counter() - started >= 0.1
    assert code_of(client("sagemaker").list_domains)[0] == "InternalFailure"
    client("sagemaker").list_domains()


# -- by count, by rate, after ------------------------------------------------------------------------------------
def test_a_count_fires_on_the_next_calls_only(aws_sandbox: None) -> None:
    faults.registry.add(service="sagemaker", kind="throttle", operation="ListDomains", count=3)
    sagemaker = client("sagemaker")
    outcomes = []
    for _ in range(5):
        try:
            sagemaker.list_domains()
            outcomes.append("ok")
        except ClientError:
            outcomes.append("throttled")
    assert outcomes == ["throttled"] * 3 + ["ok"] * 2


def test_after_lets_calls_through_first(aws_sandbox: None) -> None:
    faults.registry.add(service="ce", kind="server_error", operation="GetCostAndUsage", count=1, after=2)
    ce = client("ce")
    ce.get_cost_and_usage(**CE_REQUEST)
    ce.get_cost_and_usage(**CE_REQUEST)
    assert code_of(ce.get_cost_and_usage, **CE_REQUEST)[0] == "InternalFailure"
    ce.get_cost_and_usage(**CE_REQUEST)


def test_a_rate_fires_on_that_share_of_calls_and_repeats_with_the_seed(aws_sandbox: None) -> None:
    def pattern(seed: int) -> str:
        faults.registry.clear(seed=seed)
        faults.registry.add(service="sagemaker", kind="throttle", operation="ListDomains", rate=0.3)
        sagemaker = client("sagemaker")
        marks = []
        for _ in range(150):
            try:
                sagemaker.list_domains()
                marks.append(".")
            except ClientError:
                marks.append("T")
        return "".join(marks)

    first = pattern(42)
    assert first == pattern(42)  # the same seed, the same calls fail
    assert first != pattern(43)
    assert 25 <= first.count("T") <= 70


# -- retries -----------------------------------------------------------------------------------------------------
def test_the_gateway_retries_throttling_and_the_counter_sees_every_attempt(
    aws_sandbox: None, fast_aws_backoff: None, settings: Any
) -> None:
    settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = "standard", 3
    gateway().clear()
    faults.registry.add(service="sagemaker", kind="throttle", operation="ListDomains", count=2)
    faults.registry.add(service="ce", kind="throttle", operation="GetCostAndUsage", count=2)
    sm_before, ce_before = counted("sagemaker", "ListDomains"), counted("ce", "GetCostAndUsage")
    assert gateway().sagemaker(region="us-east-1").list_domains()["Domains"] == []
    assert gateway().cost_explorer().get_cost_and_usage(**CE_REQUEST)["ResultsByTime"]
    assert counted("sagemaker", "ListDomains") - sm_before == 3  # two throttled tries and the one that worked
    assert counted("ce", "GetCostAndUsage") - ce_before == 3


def test_the_gateway_retries_server_errors_too(aws_sandbox: None, fast_aws_backoff: None) -> None:
    faults.registry.add(service="ce", kind="server_error", operation="GetCostAndUsage", count=1, status=503)
    before = counted("ce", "GetCostAndUsage")
    gateway().cost_explorer().get_cost_and_usage(**CE_REQUEST)
    assert counted("ce", "GetCostAndUsage") - before == 2


def test_with_retries_exhausted_the_error_surfaces(aws_sandbox: None, fast_aws_backoff: None, settings: Any) -> None:
    settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = "standard", 3
    gateway().clear()
    faults.registry.add(service="sagemaker", kind="throttle", operation="ListDomains", count=3)
    before = counted("sagemaker", "ListDomains")
    with pytest.raises(ClientError) as exc:
        gateway().sagemaker(region="us-east-1").list_domains()
    assert exc.value.response["Error"]["Code"] == "ThrottlingException"
    assert exc.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert is_throttling(exc.value) and is_retryable(exc.value)
    assert counted("sagemaker", "ListDomains") - before == 3
    assert gateway().sagemaker(region="us-east-1").list_domains()["Domains"] == []  # the fault is used up


def test_legacy_retry_mode_does_not_retry_cost_explorers_limit_exceeded(aws_sandbox: None) -> None:
    # Only the standard and adaptive modes treat LimitExceededException as throttling.
    faults.registry.add(service="ce", kind="throttle", operation="GetCostAndUsage", count=1)
    with pytest.raises(ClientError) as exc:
        client("ce", attempts=5, mode="legacy").get_cost_and_usage(**CE_REQUEST)
    assert exc.value.response["ResponseMetadata"]["RetryAttempts"] == 0


# -- refused rules ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"service": "s3", "kind": "throttle", "rate": 0.5}, "service must be one of"),
        ({"service": "sagemaker", "kind": "explode", "rate": 0.5}, "kind must be one of"),
        ({"service": "sagemaker", "kind": "throttle"}, "exactly one of rate"),
        ({"service": "sagemaker", "kind": "throttle", "rate": 0.5, "count": 1}, "exactly one of rate"),
        ({"service": "sagemaker", "kind": "throttle", "rate": 1.5}, "rate must be above 0 and at most 1"),
        ({"service": "sagemaker", "kind": "throttle", "rate": 0}, "rate must be above 0 and at most 1"),
        ({"service": "sagemaker", "kind": "throttle", "count": 0}, "count must be at least 1"),
        ({"service": "sagemaker", "kind": "throttle", "count": 1, "after": -1}, "after must be 0 or more"),
        ({"service": "sagemaker", "kind": "latency", "count": 1}, "latency_ms must be between"),
        ({"service": "sagemaker", "kind": "latency", "count": 1, "latency_ms": 120_000}, "latency_ms must be between"),
        ({"service": "sagemaker", "kind": "server_error", "count": 1, "status": 404}, "status must be 500"),
        ({"service": "sagemaker", "kind": "throttle", "count": 1, "when": "now"}, "Unknown fault fields: when"),
        ({"kind": "throttle", "count": 1}, "A fault needs service and kind"),
        ({"service": "sagemaker", "kind": "throttle", "count": "2"}, "count must be a whole number"),
        ({"service": "sagemaker", "kind": "throttle", "rate": "0.5"}, "rate must be a number"),
        ({"service": "sagemaker", "kind": "throttle", "rate": True}, "rate must be a number"),
        ({"service": "sagemaker", "kind": "throttle", "count": 1, "operation": 7}, "operation must be a string"),
    ],
)
def test_invalid_rules_are_refused_with_a_reason(spec: dict[str, Any], message: str) -> None:
    faults.registry.clear()
    with pytest.raises(faults.FaultError, match=message):
        faults.registry.add(**spec)
    assert faults.registry.rules() == []


# -- over HTTP -----------------------------------------------------------------------------------------------------
@pytest.fixture
def server() -> Iterator[ThreadedSandbox]:
    reset_backends()
    sandbox = ThreadedSandbox().start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
        reset_backends()


def control(server: ThreadedSandbox, method: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(
        f"{server.url}/_sandbox/faults", method=method, data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - the loopback test server
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_faults_are_set_listed_and_cleared_over_http(server: ThreadedSandbox) -> None:
    status, added = control(
        server, "POST", {"service": "sagemaker", "kind": "throttle", "operation": "ListDomains", "count": 1}
    )
    assert status == 201 and added["added"]["operation"] == "ListDomains"
    assert control(server, "POST", {"service": "ce", "kind": "throttle", "rate": 1.0})[0] == 201
    listed = control(server, "GET")[1]["faults"]
    assert [(r["service"], r["operation"], r["count"], r["rate"]) for r in listed] == [
        ("sagemaker", "ListDomains", 1, None),
        ("ce", "*", None, 1.0),
    ]

    sagemaker = client("sagemaker", endpoint_url=server.url)
    ce = client("ce", endpoint_url=server.url)
    assert code_of(sagemaker.list_domains)[0] == "ThrottlingException"
    assert code_of(ce.get_cost_and_usage, **CE_REQUEST)[0] == "LimitExceededException"
    assert control(server, "GET")[1]["faults"][0]["fired"] == 1

    assert control(server, "DELETE") == (200, {"faults": []})
    assert sagemaker.list_domains()["Domains"] == []
    ce.get_cost_and_usage(**CE_REQUEST)


def test_invalid_rules_over_http_answer_400_with_the_reason(server: ThreadedSandbox) -> None:
    status, body = control(server, "POST", {"service": "sagemaker", "kind": "throttle"})
    assert status == 400 and "exactly one of rate" in body["error"]
    status, body = control(server, "POST", {"service": "sagemaker", "kind": "throttle", "count": "two"})
    assert status == 400 and "count must be a whole number" in body["error"]
    status, body = control(server, "POST", ["not", "an", "object"])
    assert status == 400 and "JSON object" in body["error"]
    status, body = control(server, "POST", raw=b"{broken")
    assert status == 400
    assert control(server, "GET") == (200, {"faults": []})


def test_a_retrying_client_rides_out_faults_over_http(server: ThreadedSandbox, fast_aws_backoff: None) -> None:
    control(server, "POST", {"service": "ce", "kind": "throttle", "operation": "GetCostAndUsage", "count": 2})
    control(
        server,
        "POST",
        {"service": "ce", "kind": "latency", "operation": "GetCostAndUsage", "count": 1, "latency_ms": 50},
    )
    answer = client("ce", attempts=3, endpoint_url=server.url).get_cost_and_usage(**CE_REQUEST)
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
