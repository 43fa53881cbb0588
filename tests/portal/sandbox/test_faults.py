"""Fault injection: throttling, server errors and latency, in process and over HTTP."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from portal.aws import call_counter, gateway
from portal.sandbox import faults
from portal.sandbox.server import ThreadedSandbox, reset_backends


def client(service: str, attempts: int = 1, **extra: Any) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}), **extra)


def test_throttling_answers_each_services_own_code(aws_sandbox: None) -> None:
    faults.registry.add(service="sagemaker", kind="throttle", count=1)
    faults.registry.add(service="ce", kind="throttle", count=1)
    with pytest.raises(ClientError) as sm_error:
        client("sagemaker").list_domains()
    with pytest.raises(ClientError) as ce_error:
        client("ce").get_cost_and_usage(TimePeriod={"Start": "2026-10-01", "End": "2026-10-02"},
                                        Granularity="DAILY", Metrics=["UnblendedCost"])
    assert sm_error.value.response["Error"]["Code"] == "ThrottlingException"
    assert ce_error.value.response["Error"]["Code"] == "LimitExceededException"
    assert client("sagemaker").list_domains()["Domains"] == []  # count=1: the next call goes through


def test_server_errors_carry_the_status_asked_for(aws_sandbox: None) -> None:
    faults.registry.add(service="sagemaker", kind="server_error", operation="ListDomains", count=1, status=503)
    with pytest.raises(ClientError) as exc:
        client("sagemaker").list_domains()
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    client("sagemaker").list_user_profiles()  # another operation is untouched


def test_botocore_retries_injected_throttling_and_the_counter_sees_every_attempt(
    aws_sandbox: None, fast_aws_backoff: None
) -> None:
    faults.registry.add(service="sagemaker", kind="throttle", operation="ListDomains", count=2)
    before = call_counter.snapshot().get(("sagemaker", "ListDomains"), 0)
    assert gateway().sagemaker(region="us-east-1").list_domains()["Domains"] == []
    assert call_counter.snapshot()[("sagemaker", "ListDomains")] - before == 3


def test_with_retries_exhausted_the_error_surfaces(aws_sandbox: None, fast_aws_backoff: None) -> None:
    faults.registry.add(service="sagemaker", kind="throttle", operation="ListDomains", rate=1.0)
    with pytest.raises(ClientError) as exc:
        client("sagemaker", attempts=3).list_domains()
    assert exc.value.response["Error"]["Code"] == "ThrottlingException"


def test_a_rate_fires_on_that_share_of_calls_repeatably(aws_sandbox: None) -> None:
    def failures() -> int:
        faults.registry.clear(seed=42)
        faults.registry.add(service="sagemaker", kind="throttle", rate=0.3)
        sagemaker = client("sagemaker")
        failed = 0
        for _ in range(200):
            try:
                sagemaker.list_domains()
            except ClientError:
                failed += 1
        return failed

    first, second = failures(), failures()
    assert first == second  # the same seed, the same calls fail
    assert 40 <= first <= 80


def test_latency_is_added(aws_sandbox: None) -> None:
    faults.registry.add(service="sagemaker", kind="latency", latency_ms=200, count=1)
    started = time.perf_counter()
    client("sagemaker").list_domains()
    assert time.perf_counter() - started >= 0.2


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"service": "s3", "kind": "throttle", "rate": 0.5}, "service must be one of"),
        ({"service": "sagemaker", "kind": "explode", "rate": 0.5}, "kind must be one of"),
        ({"service": "sagemaker", "kind": "throttle"}, "exactly one of rate"),
        ({"service": "sagemaker", "kind": "throttle", "rate": 1.5}, "rate must be above 0 and at most 1"),
        ({"service": "sagemaker", "kind": "latency", "count": 1}, "latency_ms must be between"),
        ({"service": "sagemaker", "kind": "server_error", "count": 1, "status": 404}, "status must be 500"),
        ({"service": "sagemaker", "kind": "throttle", "count": 1, "when": "now"}, "Unknown fault fields: when"),
    ],
)
def test_invalid_rules_are_refused_with_a_reason(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(faults.FaultError, match=message):
        faults.registry.add(**spec)
    assert faults.registry.rules() == []


def test_faults_are_set_over_http_on_the_sandbox_server() -> None:
    reset_backends()
    server = ThreadedSandbox().start()

    def call(method: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(f"{server.url}/_sandbox/faults", method=method,
                                         data=json.dumps(body).encode() if body is not None else None)
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback test server
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    try:
        assert call("POST", {"service": "sagemaker", "kind": "throttle", "operation": "ListDomains", "count": 1})[0] \
            == 201
        assert call("GET")[1]["faults"][0]["operation"] == "ListDomains"
        remote = client("sagemaker", endpoint_url=server.url)
        with pytest.raises(ClientError) as exc:
            remote.list_domains()
        assert exc.value.response["Error"]["Code"] == "ThrottlingException"
        status, body = call("POST", {"service": "sagemaker", "kind": "throttle"})
        assert status == 400 and "exactly one of rate" in body["error"]
        assert call("DELETE") == (200, {"faults": []})
        assert remote.list_domains()["Domains"] == []
    finally:
        server.stop()
        reset_backends()
