"""The AWS rate budget: pacing, sharing between clients, adaptation on throttling, and the gateway's use of it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis as redis_lib
from django.core.exceptions import ImproperlyConfigured

from awssandbox import faults
from portal.aws import gateway
from portal.ratebudget import BudgetSize, LocalStore, RedisStore, Tuning, budget, parse_sizes

REDIS_URL = "redis://127.0.0.1:6379/13"  # this branch's Redis database
TUNE = Tuning(decrease=0.5, increase=2.0, min_rate=0.5)
SIZE = BudgetSize(rate=10.0, burst=3)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def redis_url() -> str:
    try:
        redis_lib.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis_lib.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return REDIS_URL


def test_a_bucket_lets_its_burst_through_then_paces_calls_at_its_rate() -> None:
    store = LocalStore(clock=FakeClock())
    waits = [store.reserve("a", SIZE, TUNE) for _ in range(5)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == pytest.approx([0.1, 0.2])  # each further call one interval (1/10 s) after the last


def test_buckets_are_per_key() -> None:
    store = LocalStore(clock=FakeClock())
    for _ in range(3):
        store.reserve("111:us-east-1:sagemaker", SIZE, TUNE)
    assert store.reserve("111:eu-west-1:sagemaker", SIZE, TUNE) == 0
    assert store.reserve("111:us-east-1:sagemaker", SIZE, TUNE) > 0


def test_throttling_halves_the_rate_once_per_overload_and_it_grows_back_slowly() -> None:
    clock = FakeClock()
    store = LocalStore(clock=clock)
    assert store.throttled("k", SIZE, TUNE) == 5.0
    assert store.throttled("k", SIZE, TUNE) == 5.0  # the same overload (within a second): no second cut
    assert store.reserve("k", SIZE, TUNE) == pytest.approx(0.2)  # the burst was spent: one interval at 5/s
    clock.now += 1.5  # 1.5 s after the cut: 5 + 2 * 1.5
    assert store.state("k", SIZE, TUNE).rate == pytest.approx(8.0)
    assert store.throttled("k", SIZE, TUNE) == pytest.approx(4.0)
    clock.now += 60
    assert store.state("k", SIZE, TUNE).rate == SIZE.rate  # back to the configured size, never above
    assert store.state("k", SIZE, TUNE).throttles == 3


def test_the_rate_never_falls_below_the_minimum() -> None:
    clock = FakeClock()
    store = LocalStore(clock=clock)
    slow = Tuning(decrease=0.5, increase=0.01, min_rate=0.5)
    for _ in range(20):
        clock.now += 1.1
        rate = store.throttled("k", SIZE, slow)
    assert rate == slow.min_rate


def test_two_redis_clients_share_one_budget(redis_url: str) -> None:
    prefix = f"test-budget-{uuid.uuid4().hex}:"
    first, second = RedisStore(redis_url, prefix=prefix), RedisStore(redis_url, prefix=prefix)
    size = BudgetSize(rate=2.0, burst=3)  # slow enough that the test's own pace does not refill it
    try:
        assert [first.reserve("k", size, TUNE) for _ in range(2)] == [0, 0]
        assert second.reserve("k", size, TUNE) == 0  # the third slot of the burst, taken by the other client
        assert second.reserve("k", size, TUNE) == pytest.approx(0.5, abs=0.05)
        assert first.reserve("k", size, TUNE) == pytest.approx(1.0, abs=0.05)
    finally:
        first.clear()


def test_a_throttle_seen_by_one_redis_client_slows_the_other_and_recovers(redis_url: str) -> None:
    prefix = f"test-budget-{uuid.uuid4().hex}:"
    first, second = RedisStore(redis_url, prefix=prefix), RedisStore(redis_url, prefix=prefix)
    fast_recovery = Tuning(decrease=0.5, increase=50.0, min_rate=0.5)
    try:
        assert first.throttled("k", SIZE, fast_recovery) == pytest.approx(5.0, abs=0.5)
        assert second.state("k", SIZE, fast_recovery).rate < SIZE.rate
        assert second.state("k", SIZE, fast_recovery).throttles == 1
        assert second.reserve("k", SIZE, fast_recovery) > 0  # the shared burst was spent by the decrease
        import time

        time.sleep(0.2)  # 50 calls a second gained per second: back to 10 within 0.1 s
        assert second.state("k", SIZE, fast_recovery).rate == SIZE.rate
    finally:
        first.clear()


def test_the_store_follows_the_broker(settings: Any) -> None:
    settings.AWS_RATE_BUDGET_STORE, settings.AWS_RATE_BUDGET_REDIS_URL = "auto", None
    settings.CELERY_BROKER_URL = "filesystem://"
    budget.use(None)
    assert isinstance(budget.store(), LocalStore)
    settings.CELERY_BROKER_URL = REDIS_URL
    assert isinstance(budget.store(), RedisStore)
    settings.AWS_RATE_BUDGET_STORE, settings.CELERY_BROKER_URL = "redis", "filesystem://"
    with pytest.raises(ImproperlyConfigured, match="needs a Redis"):
        budget.store()


def test_sizes_are_read_from_the_setting_with_a_clear_error() -> None:
    assert parse_sizes("sagemaker=20/20, ce=2.5/5") == {
        "sagemaker": BudgetSize(20.0, 20),
        "ce": BudgetSize(2.5, 5),
    }
    with pytest.raises(ImproperlyConfigured, match="service=rate/burst"):
        parse_sizes("sagemaker=20")
    with pytest.raises(ImproperlyConfigured, match="rate above 0"):
        parse_sizes("sagemaker=0/5")


def test_every_gateway_call_waits_for_its_slot(aws_sandbox: None, settings: Any) -> None:
    client = gateway().sagemaker(region="us-east-1")
    client.list_domains()  # the first call loads botocore's model: slow enough to refill a bucket
    budget.store().clear()
    settings.AWS_RATE_BUDGETS = {**settings.AWS_RATE_BUDGETS, "sagemaker": BudgetSize(1.0, 2)}
    waited: list[float] = []
    budget.sleep = waited.append  # type: ignore[method-assign]
    try:
        for _ in range(4):
            client.list_domains()
        gateway().sagemaker(region="eu-west-1").list_domains()  # another region: its own bucket
    finally:
        del budget.sleep
    assert len(waited) == 2 and all(w > 0 for w in waited)
    assert budget.state("portal", "us-east-1", "sagemaker").rate == 1.0


def test_a_throttled_answer_slows_the_budget_down(aws_sandbox: None, settings: Any, fast_aws_backoff: None) -> None:
    faults.registry.add(service="sagemaker", kind="throttle", operation="ListDomains", count=1)
    gateway().sagemaker(region="us-east-1").list_domains()  # botocore retries the throttled attempt
    state = budget.state("portal", "us-east-1", "sagemaker")
    assert state.throttles == 1
    assert state.rate < settings.AWS_RATE_BUDGETS["sagemaker"].rate
