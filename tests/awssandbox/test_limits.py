"""Rate limits in the AWS sandbox: token buckets per account, region, service and operation family, answered as AWS
answers throttling, in process and over HTTP; and a portal flow that rides them out."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from awssandbox import limits
from awssandbox.clock import clock as sandbox_clock
from portal.sandboxing import demo_inputs

CE_REQUEST = {
    "TimePeriod": {"Start": "2026-10-01", "End": "2026-10-03"},
    "Granularity": "DAILY",
    "Metrics": ["UnblendedCost"],
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    fake = Clock()
    limits.registry.clock = fake
    yield fake
    limits.registry.reset()


def client(service: str, endpoint: str | None, region: str = "us-east-1", account: str | None = None) -> Any:
    """A plain boto3 client that does not retry, so each throttled call is seen."""
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    kwargs: dict[str, Any] = {"endpoint_url": endpoint} if endpoint else {}
    if account:
        # Another account: AssumeRole's credentials, the way the portal reaches member accounts.
        sts = boto3.client("sts", region_name=region, aws_access_key_id="x", aws_secret_access_key="x", **kwargs)
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/Portal", RoleSessionName="limits")["Credentials"]
        kwargs.update(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    else:
        kwargs.update(aws_access_key_id="x", aws_secret_access_key="x")
    return boto3.client(service, region_name=region, config=config, **kwargs)


def outcomes(call: Any, times: int, **params: Any) -> str:
    marks = []
    for _ in range(times):
        try:
            call(**params)
            marks.append(".")
        except ClientError as exc:
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            marks.append(exc.response["Error"]["Code"][0])  # T(hrottlingException) or L(imitExceededException)
    return "".join(marks)


def set_limits(endpoint: str | None, **spec: Any) -> dict[str, Any]:
    if endpoint is None:
        limits.registry.configure(**spec)
        return limits.registry.describe()
    return control(endpoint, "POST", "limits", spec)[1]


def control(endpoint: str, method: str, name: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{endpoint}/_sandbox/{name}", data=data, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_limits_are_off_unless_turned_on(endpoint: str | None) -> None:
    assert outcomes(client("sagemaker", endpoint).list_domains, 60) == "." * 60
    assert limits.registry.describe()["enabled"] is False


def test_a_burst_beyond_the_bucket_is_throttled_with_each_services_code(endpoint: str | None, clock: Clock) -> None:
    set_limits(
        endpoint,
        enabled=True,
        limits=[
            {"service": "sagemaker", "family": "read", "rate": 1, "burst": 3},
            {"service": "ce", "family": "read", "rate": 1, "burst": 2},
        ],
    )
    assert outcomes(client("sagemaker", endpoint).list_domains, 5) == "...TT"
    assert outcomes(client("ce", endpoint).get_cost_and_usage, 4, **CE_REQUEST) == "..LL"
    buckets = {(b["service"], b["family"]): b for b in limits.registry.describe()["buckets"]}
    assert (buckets[("sagemaker", "read")]["allowed"], buckets[("sagemaker", "read")]["throttled"]) == (3, 2)
    assert buckets[("ce", "read")]["throttled"] == 2


def test_the_bucket_refills_with_time_up_to_its_burst(endpoint: str | None, clock: Clock) -> None:
    set_limits(endpoint, enabled=True, limits=[{"service": "sagemaker", "family": "read", "rate": 2, "burst": 4}])
    sagemaker = client("sagemaker", endpoint)
    assert outcomes(sagemaker.list_domains, 5) == "....T"
    clock.now += 0.4  # 0.8 of a token: still nothing
    assert outcomes(sagemaker.list_domains, 1) == "T"
    clock.now += 0.1  # one token
    assert outcomes(sagemaker.list_domains, 2) == ".T"
    clock.now += 3600  # a long pause fills the bucket to its burst, no further
    assert outcomes(sagemaker.list_domains, 6) == "....TT"


def test_families_have_their_own_buckets(endpoint: str | None, clock: Clock) -> None:
    set_limits(
        endpoint,
        enabled=True,
        limits=[
            {"service": "sagemaker", "family": "read", "rate": 1, "burst": 1},
            {"service": "sagemaker", "family": "write", "rate": 1, "burst": 1},
        ],
    )
    sagemaker = client("sagemaker", endpoint)
    assert outcomes(sagemaker.list_domains, 2) == ".T"
    with pytest.raises(ClientError) as exc:  # a write still has its token: it reaches the service and fails there
        sagemaker.delete_domain(DomainId="d-000000000000")
    assert exc.value.response["Error"]["Code"] != "ThrottlingException"
    assert outcomes(sagemaker.delete_domain, 1, DomainId="d-000000000000") == "T"


def test_accounts_and_regions_have_their_own_buckets(endpoint: str | None, clock: Clock) -> None:
    set_limits(endpoint, enabled=True, limits=[{"service": "sagemaker", "family": "read", "rate": 1, "burst": 2}])
    home = client("sagemaker", endpoint)
    assert outcomes(home.list_domains, 3) == "..T"
    assert outcomes(client("sagemaker", endpoint, region="eu-west-1").list_domains, 3) == "..T"
    assert outcomes(client("sagemaker", endpoint, account="210987654321").list_domains, 3) == "..T"
    keys = {(b["account"], b["region"]) for b in limits.registry.describe()["buckets"] if b["service"] == "sagemaker"}
    assert keys == {("123456789012", "us-east-1"), ("123456789012", "eu-west-1"), ("210987654321", "us-east-1")}


def test_botocore_retries_a_throttled_call_until_the_bucket_refills(aws_sandbox: None, fast_aws_backoff: None) -> None:
    limits.registry.configure(enabled=True, limits=[{"service": "ce", "family": "read", "rate": 200, "burst": 1}])
    retrying = boto3.client(
        "ce",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "total_max_attempts": 10}),
    )
    for _ in range(5):
        retrying.get_cost_and_usage(**CE_REQUEST)
    assert limits.registry.throttled_total() > 0  # retried, not failed


def test_the_control_api_shows_and_refuses(sandbox_server: str) -> None:
    status, body = control(sandbox_server, "GET", "limits")
    assert status == 200 and body["enabled"] is False
    assert {(e["service"], e["family"]) for e in body["limits"]} == set(limits.DEFAULT_LIMITS)
    for bad, message in [
        ({"enabled": "yes"}, "enabled must be true or false"),
        ({"limits": [{"service": "s3", "family": "read", "rate": 1, "burst": 1}]}, "No limit 's3'/'read'"),
        ({"limits": [{"service": "ce", "family": "read", "rate": 0, "burst": 1}]}, "rate must be"),
        ({"limits": [{"service": "ce", "family": "read", "rate": 1, "burst": 1.5}]}, "burst must be"),
        ({"limits": {"ce": 1}}, "limits must be a list"),
        ({"rate": 1}, "Send"),
        ([], "Send"),
    ]:
        status, body = control(sandbox_server, "POST", "limits", bad)
        assert status == 400 and message in body["error"], (bad, body)
    assert control(sandbox_server, "GET", "limits")[1]["enabled"] is False  # nothing half-applied
    assert control(sandbox_server, "POST", "limits", {"enabled": True})[1]["enabled"] is True
    status, body = control(sandbox_server, "DELETE", "limits")
    assert status == 200 and body == {**body, "enabled": False, "buckets": []}


@pytest.mark.django_db
def test_an_inventory_sync_of_the_demo_organisation_rides_out_the_limits(
    aws_sandbox: None, fast_aws_backoff: None, settings: Any
) -> None:
    from datetime import date

    from awssandbox import organisation
    from domains.models import Domain
    from domains.services import do_add_account
    from domains.sync import start_inventory_sync
    from portal.models import TaskRun
    from profiles.models import UserProfile

    settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = "standard", 8
    organisation.seed(demo_inputs(), date(2026, 11, 24), with_costs=False)
    for account_id, name in organisation.DEMO_ACCOUNTS.items():
        do_add_account(
            actor="test",
            account_id=account_id,
            name=name,
            regions=list(organisation.REGIONS),
            role_arn=organisation.role_arn(account_id),
            external_id=organisation.EXTERNAL_IDS.get(account_id, ""),
            is_payer=account_id == organisation.PAYER_ACCOUNT_ID,
            enabled=True,
        )
    # Small buckets that refill fast: the sync's bursts are throttled, and botocore's retries get through. Time moves
    # by 4 ms a call (0.8 of a token), not with the machine's speed, so the throttling is certain.
    ticks = iter(range(10**9))
    limits.registry.clock = lambda: next(ticks) * 0.004
    limits.registry.configure(
        enabled=True, limits=[{"service": "sagemaker", "family": "read", "rate": 200, "burst": 4}]
    )
    before = limits.registry.throttled_total()
    run, _ = start_inventory_sync(trigger=TaskRun.Trigger.COMMAND, inline=True)
    throttled = limits.registry.throttled_total() - before
    assert run.status == TaskRun.Status.SUCCEEDED, run.errors
    assert Domain.objects.count() == 5 and UserProfile.objects.count() == 39
    assert throttled > 0
    assert run.aws_throttled_total == throttled  # every throttled attempt is on the run
    assert run.aws_throttled and all(key.startswith("sagemaker:") for key in run.aws_throttled)


def test_a_reset_refills_the_buckets_and_keeps_the_limits_on(sandbox_server: str, clock: Clock) -> None:
    set_limits(sandbox_server, enabled=True, limits=[{"service": "sagemaker", "family": "read", "rate": 1, "burst": 1}])
    sagemaker = client("sagemaker", sandbox_server)
    assert outcomes(sagemaker.list_domains, 2) == ".T"
    assert control(sandbox_server, "POST", "reset")[0] == 200
    assert outcomes(sagemaker.list_domains, 2) == ".T"  # still on, with the same limit, from a full bucket


def test_services_outside_the_table_are_not_limited(aws_sandbox: None) -> None:
    limits.registry.configure(enabled=True)
    assert all(limits.registry.allow("123456789012", "us-east-1", "iam", "GetRole") for _ in range(1000))


def test_the_buckets_refill_when_the_sandbox_clock_is_advanced(endpoint: str | None) -> None:
    """No injected clock: the buckets read the sandbox's own clock, which a test advances instead of sleeping."""
    assert limits.registry.clock == sandbox_clock.monotonic
    set_limits(endpoint, enabled=True, limits=[{"service": "sagemaker", "family": "read", "rate": 0.01, "burst": 2}])
    sagemaker = client("sagemaker", endpoint)
    assert outcomes(sagemaker.list_domains, 3) == "..T"
    advance(endpoint, 100)  # one token at 0.01 a second
    assert outcomes(sagemaker.list_domains, 2) == ".T"
    advance(endpoint, 3600)  # a long pause fills the bucket to its burst, no further
    assert outcomes(sagemaker.list_domains, 3) == "..T"


def advance(endpoint: str | None, seconds: float) -> None:
    if endpoint is None:
        sandbox_clock.advance(seconds)
    else:
        assert control(endpoint, "POST", "clock", {"advance": seconds})[0] == 200
