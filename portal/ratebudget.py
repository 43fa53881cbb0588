"""The AWS rate budget: how fast the portal may call each (account, region, service), shared by every worker.

AWS throttles its control planes per account and region (and per operation family inside a service). A budget here
is a token bucket per (account, region, service), kept as GCRA (the "theoretical arrival time" form of a token
bucket): a call reserves the next free slot and waits until it comes, so concurrent callers are paced in the order
they arrived, never all woken together. Every HTTP attempt the gateway's clients make (:mod:`portal.aws`), retries
included, takes a slot before it is sent.

Where the buckets live (``AWS_RATE_BUDGET_STORE``):

- ``redis`` (``auto`` when the Celery broker is Redis): one hash per bucket in Redis, changed by Lua scripts that
  read Redis's own clock, so every worker on every machine shares one budget and no machine's clock matters.
- ``local`` (``auto`` on the embedded default broker): in this process, under a lock; the embedded default runs one
  worker process, so that is the whole portal.

The budget adapts (AIMD, as TCP does): an attempt AWS answers with throttling cuts the bucket's rate by
``AWS_RATE_BUDGET_DECREASE`` (at most once per ``DECREASE_COOLDOWN_SECONDS``: the throttles of one overload arrive
together) and empties its burst; afterwards the rate grows back by ``AWS_RATE_BUDGET_INCREASE`` tokens a second for
every second without throttling, up to the configured size. The decreased rate is shared like the bucket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DECREASE_COOLDOWN_SECONDS = 1.0  # throttles within a second of a decrease belong to the overload already answered
KEY_TTL_SECONDS = 24 * 3600  # a bucket nobody used for a day is forgotten (it would be full again anyway)
KEY_PREFIX = "portal:aws-budget:"
EPSILON = 1e-6  # waits shorter than a microsecond are rounding, not pacing


# service=rate/burst per (account, region); the sources of each figure are in portal/settings.py beside the setting.
DEFAULT_SIZES = "sagemaker=20/20,ce=5/5,tagging=10/10,sts=50/50,iam=10/10,organizations=5/5,*=10/10"


@dataclass(frozen=True)
class BudgetSize:
    """A bucket's configured size: ``rate`` calls a second sustained, ``burst`` calls at once after a quiet spell."""

    rate: float
    burst: int


def parse_sizes(text: str, setting: str = "AWS_RATE_BUDGETS") -> dict[str, BudgetSize]:
    """``"sagemaker=20/20,ce=5/5"`` -> sizes per service (rate per second / burst); a clear error on a bad entry."""
    sizes: dict[str, BudgetSize] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        service, _, size = entry.partition("=")
        rate_text, _, burst_text = size.partition("/")
        try:
            rate, burst = float(rate_text), int(burst_text)
        except ValueError:
            raise ImproperlyConfigured(
                f"{setting}: {entry!r} is not service=rate/burst (e.g. sagemaker=20/20: 20 calls a second, 20 at once)."
            ) from None
        if not service.strip() or not 0 < rate <= 100_000 or not 1 <= burst <= 100_000:
            raise ImproperlyConfigured(
                f"{setting}: {entry!r} needs a service name, a rate above 0 and a burst of at least 1."
            )
        sizes[service.strip()] = BudgetSize(rate, burst)
    return sizes


def size_of(service: str) -> BudgetSize:
    sizes: dict[str, BudgetSize] = settings.AWS_RATE_BUDGETS
    return sizes.get(service) or sizes["*"]


@dataclass(frozen=True)
class Tuning:
    """How the rate adapts: multiply by ``decrease`` on throttling, never below ``min_rate``; gain ``increase``
    tokens a second per second without throttling."""

    decrease: float
    increase: float
    min_rate: float


def tuning() -> Tuning:
    return Tuning(
        decrease=settings.AWS_RATE_BUDGET_DECREASE,
        increase=settings.AWS_RATE_BUDGET_INCREASE,
        min_rate=settings.AWS_RATE_BUDGET_MIN_RATE,
    )


@dataclass(frozen=True)
class BucketState:
    """What a bucket says now: its current (possibly decreased) rate and how many calls it had throttled."""

    rate: float
    throttles: int


class BudgetStore(Protocol):
    def reserve(self, key: str, size: BudgetSize, tune: Tuning) -> float:
        """Reserve the next slot of ``key``; the seconds to wait before using it (0: go now)."""

    def throttled(self, key: str, size: BudgetSize, tune: Tuning) -> float:
        """AWS throttled a call of ``key``: decrease its rate (once per cooldown); the rate now."""

    def state(self, key: str, size: BudgetSize, tune: Tuning) -> BucketState: ...

    def clear(self) -> None: ...


def _effective_rate(
    size: BudgetSize, tune: Tuning, base: float | None, decreased_at: float | None, now: float
) -> float:
    if base is None or decreased_at is None:
        return size.rate
    return min(size.rate, base + tune.increase * max(0.0, now - decreased_at))


@dataclass
class _LocalBucket:
    tat: float = 0.0  # the theoretical arrival time of the next call
    base: float | None = None  # the rate right after the last decrease
    decreased_at: float | None = None
    throttles: int = 0


class LocalStore:
    """Buckets in this process (the embedded default: one worker process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, _LocalBucket] = {}
        self.clock = clock

    def reserve(self, key: str, size: BudgetSize, tune: Tuning) -> float:
        with self._lock:
            now = self.clock()
            bucket = self._buckets.setdefault(key, _LocalBucket(tat=now))
            rate = _effective_rate(size, tune, bucket.base, bucket.decreased_at, now)
            tat = max(bucket.tat, now)
            wait = tat - now - (size.burst - 1) / rate
            wait = wait if wait > EPSILON else 0.0
            bucket.tat = tat + 1 / rate
            return wait

    def throttled(self, key: str, size: BudgetSize, tune: Tuning) -> float:
        with self._lock:
            now = self.clock()
            bucket = self._buckets.setdefault(key, _LocalBucket(tat=now))
            bucket.throttles += 1
            rate = _effective_rate(size, tune, bucket.base, bucket.decreased_at, now)
            if bucket.decreased_at is not None and now - bucket.decreased_at < DECREASE_COOLDOWN_SECONDS:
                return rate
            rate = max(tune.min_rate, rate * tune.decrease)
            bucket.base, bucket.decreased_at = rate, now
            # AWS's bucket is empty: spend ours too, so the next call waits one interval instead of bursting.
            bucket.tat = max(bucket.tat, now + size.burst / rate)
            return rate

    def state(self, key: str, size: BudgetSize, tune: Tuning) -> BucketState:
        with self._lock:
            bucket = self._buckets.get(key) or _LocalBucket()
            rate = _effective_rate(size, tune, bucket.base, bucket.decreased_at, self.clock())
            return BucketState(rate=rate, throttles=bucket.throttles)

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


# Both scripts read Redis's clock (TIME), so workers on machines whose clocks differ share one timeline.
_NOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local base = tonumber(redis.call('HGET', KEYS[1], 'base') or '')
local decreased_at = tonumber(redis.call('HGET', KEYS[1], 'decreased_at') or '')
if base and decreased_at then
  rate = math.min(rate, base + tonumber(ARGV[3]) * math.max(0, now - decreased_at))
end
"""
_RESERVE_LUA = (
    _NOW_LUA
    + """
local burst = tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('HGET', KEYS[1], 'tat') or '0'), now)
local wait = tat - now - (burst - 1) / rate
if wait <= 0.000001 then wait = 0 end
redis.call('HSET', KEYS[1], 'tat', tostring(tat + 1 / rate))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
return tostring(wait)
"""
)
_THROTTLED_LUA = (
    _NOW_LUA
    + """
local burst = tonumber(ARGV[2])
redis.call('HINCRBY', KEYS[1], 'throttles', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
if decreased_at and now - decreased_at < tonumber(ARGV[7]) then
  return tostring(rate)
end
rate = math.max(tonumber(ARGV[5]), rate * tonumber(ARGV[4]))
local tat = math.max(tonumber(redis.call('HGET', KEYS[1], 'tat') or '0'), now + burst / rate)
redis.call('HSET', KEYS[1], 'base', tostring(rate), 'decreased_at', tostring(now), 'tat', tostring(tat))
return tostring(rate)
"""
)
_STATE_LUA = (
    _NOW_LUA
    + """
return {tostring(rate), redis.call('HGET', KEYS[1], 'throttles') or '0'}
"""
)


class RedisStore:
    """Buckets in Redis, shared by every worker on every machine that uses this Redis."""

    def __init__(self, url: str, prefix: str = KEY_PREFIX) -> None:
        import redis

        self.prefix = prefix
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._reserve = self.client.register_script(_RESERVE_LUA)
        self._throttled = self.client.register_script(_THROTTLED_LUA)
        self._state = self.client.register_script(_STATE_LUA)

    def _args(self, size: BudgetSize, tune: Tuning) -> list[Any]:
        return [
            size.rate,
            size.burst,
            tune.increase,
            tune.decrease,
            tune.min_rate,
            KEY_TTL_SECONDS,
            DECREASE_COOLDOWN_SECONDS,
        ]

    def reserve(self, key: str, size: BudgetSize, tune: Tuning) -> float:
        return float(self._reserve(keys=[self.prefix + key], args=self._args(size, tune)))

    def throttled(self, key: str, size: BudgetSize, tune: Tuning) -> float:
        return float(self._throttled(keys=[self.prefix + key], args=self._args(size, tune)))

    def state(self, key: str, size: BudgetSize, tune: Tuning) -> BucketState:
        rate, throttles = self._state(keys=[self.prefix + key], args=self._args(size, tune))
        return BucketState(rate=float(rate), throttles=int(throttles))

    def clear(self) -> None:
        for key in self.client.scan_iter(match=self.prefix + "*", count=500):
            self.client.delete(key)


class RateBudget:
    """The portal's budget: picks the store from the settings, paces calls, and adapts on throttling."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._store: BudgetStore | None = None
        self._store_for: tuple[str, str | None] | None = None
        self.sleep: Callable[[float], None] = time.sleep

    def store(self) -> BudgetStore:
        kind, url = store_choice()
        with self._lock:
            if self._store is None or self._store_for != (kind, url):
                self._store = RedisStore(url) if kind == "redis" and url else LocalStore()
                self._store_for = (kind, url)
            return self._store

    def use(self, store: BudgetStore | None) -> None:
        """Put a store in place (tests, benchmarks), or go back to the settings' choice with None."""
        with self._lock:
            self._store = store
            self._store_for = store_choice() if store is not None else None

    @staticmethod
    def key(account: str, region: str, service: str) -> str:
        return f"{account}:{region}:{service}"

    def take(self, account: str, region: str, service: str) -> float:
        """Wait for this (account, region, service)'s next slot; the seconds waited."""
        if not settings.AWS_RATE_BUDGET:
            return 0.0
        wait = self.store().reserve(self.key(account, region, service), size_of(service), tuning())
        if wait > 0:
            self.sleep(wait)
        return wait

    def throttled(self, account: str, region: str, service: str) -> float:
        if not settings.AWS_RATE_BUDGET:
            return size_of(service).rate
        return self.store().throttled(self.key(account, region, service), size_of(service), tuning())

    def state(self, account: str, region: str, service: str) -> BucketState:
        return self.store().state(self.key(account, region, service), size_of(service), tuning())


def store_choice() -> tuple[str, str | None]:
    """("redis", url) or ("local", None), from AWS_RATE_BUDGET_STORE and the broker."""
    choice = settings.AWS_RATE_BUDGET_STORE
    broker = settings.CELERY_BROKER_URL or ""
    url = settings.AWS_RATE_BUDGET_REDIS_URL or (broker if broker.startswith(("redis://", "rediss://")) else None)
    if choice == "redis" or (choice == "auto" and url):
        if not url:
            raise ImproperlyConfigured(
                "AWS_RATE_BUDGET_STORE=redis needs a Redis: set AWS_RATE_BUDGET_REDIS_URL or use Redis as the broker."
            )
        return "redis", url
    return "local", None


budget = RateBudget()
