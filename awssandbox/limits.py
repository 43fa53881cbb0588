"""Rate limits in the AWS sandbox: a token bucket per (account, region, service, operation family).

A call takes one token from its bucket; a bucket holds at most ``burst`` tokens and gains ``rate`` tokens a second.
A call that finds its bucket empty is answered as AWS answers throttling (SageMaker ``ThrottlingException``, Cost
Explorer ``LimitExceededException``, HTTP 400, AWS JSON ``__type``), which botocore's standard and adaptive retry modes
recognise and retry. Limits are off unless switched on: in process with :func:`registry.configure` (tests, the
benchmarks) or over HTTP on the sandbox server (``/_sandbox/limits``); ``manage.py sandbox`` (and so the demo) switches
them on when the setting ``AWS_SANDBOX_RATE_LIMITS`` is true. Fault injection (:mod:`awssandbox.faults`) is
separate and applies first.

Buckets read the sandbox's clock (:meth:`awssandbox.clock.SandboxClock.monotonic`), so advancing it (in process with
``clock.advance(seconds)``, over HTTP with ``POST /_sandbox/clock {"advance": seconds}``) refills them as that much
time would; the clock is also injectable (:attr:`LimitRegistry.clock`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from awssandbox.clock import clock as sandbox_clock
from awssandbox.faults import THROTTLE_CODES

# ASSUMED defaults, (tokens a second, burst). AWS publishes no per-operation request rates for the SageMaker
# control plane ("Amazon SageMaker AI endpoints and quotas" in the AWS General Reference lists resource counts, not
# API rates) and says only that Cost Explorer API requests are throttled ("Cost Explorer API" page of the Billing
# and Cost Management user guide; the figures below are the ones commonly seen, not published). Correct them here.
DEFAULT_LIMITS: dict[tuple[str, str], tuple[float, int]] = {
    ("sagemaker", "read"): (20.0, 40),  # Describe*, List*, Search
    ("sagemaker", "write"): (5.0, 10),  # Create*, Update*, Delete*, AddTags, DeleteTags, Start*, Stop*
    ("sagemaker", "presign"): (2.0, 5),  # CreatePresignedDomainUrl
    ("ce", "read"): (5.0, 10),  # GetCostAndUsage, GetCostForecast, List*
    ("ce", "write"): (1.0, 2),  # UpdateCostAllocationTagsStatus, StartCostAllocationTagBackfill
}
FAMILIES = sorted({family for _, family in DEFAULT_LIMITS})
_READ_PREFIXES = ("Describe", "List", "Get", "Search", "Query")


class LimitError(ValueError):
    """A limit setting that cannot be applied; the message says why."""


def family_of(service: str, operation: str) -> str:
    if service == "sagemaker" and operation == "CreatePresignedDomainUrl":
        return "presign"
    return "read" if operation.startswith(_READ_PREFIXES) else "write"


@dataclass
class Bucket:
    rate: float
    burst: int
    tokens: float
    stamp: float
    allowed: int = 0
    throttled: int = 0

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.allowed += 1
            return True
        self.throttled += 1
        return False


class LimitRegistry:
    def __init__(self, clock: Callable[[], float] = sandbox_clock.monotonic) -> None:
        self._lock = threading.Lock()
        self.clock = clock
        self.enabled = False
        self._limits = dict(DEFAULT_LIMITS)
        self._buckets: dict[tuple[str, str, str, str], Bucket] = {}

    def configure(self, enabled: bool | None = None, limits: Any = None) -> None:
        """Switch limits on or off and/or change some (service, family) limits; buckets start full again."""
        if enabled is not None and not isinstance(enabled, bool):
            raise LimitError(f"enabled must be true or false, not {enabled!r}.")
        changes = _parse_limits(limits) if limits is not None else {}
        with self._lock:
            if enabled is not None:
                self.enabled = enabled
            self._limits.update(changes)
            self._buckets.clear()

    def reset(self) -> None:
        """Off, the default limits, no buckets, the sandbox's clock."""
        with self._lock:
            self.enabled = False
            self._limits = dict(DEFAULT_LIMITS)
            self._buckets.clear()
            self.clock = sandbox_clock.monotonic

    def allow(self, account: str, region: str, service: str, operation: str) -> bool:
        if not self.enabled:
            return True
        family = family_of(service, operation)
        key = (account, region, service, family)
        with self._lock:
            if (service, family) not in self._limits:
                return True  # a service without limits in the table is not limited
            rate, burst = self._limits[(service, family)]
            now = self.clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = Bucket(rate=rate, burst=burst, tokens=float(burst), stamp=now)
            return bucket.take(now)

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "enabled": self.enabled,
                "limits": [
                    {"service": s, "family": f, "rate": rate, "burst": burst}
                    for (s, f), (rate, burst) in sorted(self._limits.items())
                ],
                "buckets": [
                    {
                        "account": a,
                        "region": r,
                        "service": s,
                        "family": f,
                        "tokens": round(b.tokens, 3),
                        "allowed": b.allowed,
                        "throttled": b.throttled,
                    }
                    for (a, r, s, f), b in sorted(self._buckets.items())
                ],
            }

    def throttled_total(self) -> int:
        with self._lock:
            return sum(b.throttled for b in self._buckets.values())


def _parse_limits(limits: Any) -> dict[tuple[str, str], tuple[float, int]]:
    if not isinstance(limits, list):
        raise LimitError("limits must be a list of {service, family, rate, burst} objects.")
    parsed = {}
    for entry in limits:
        if not isinstance(entry, dict) or set(entry) != {"service", "family", "rate", "burst"}:
            raise LimitError("Each limit needs exactly service, family, rate and burst.")
        key = (entry["service"], entry["family"])
        if key not in DEFAULT_LIMITS:
            known = ", ".join(f"{s}/{f}" for s, f in sorted(DEFAULT_LIMITS))
            raise LimitError(f"No limit {entry['service']!r}/{entry['family']!r}; use one of {known}.")
        rate, burst = entry["rate"], entry["burst"]
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 100_000:
            raise LimitError(f"rate must be a number of tokens a second above 0 (at most 100000), not {rate!r}.")
        if isinstance(burst, bool) or not isinstance(burst, int) or not 1 <= burst <= 100_000:
            raise LimitError(f"burst must be a whole number from 1 to 100000, not {burst!r}.")
        parsed[key] = (float(rate), burst)
    return parsed


registry = LimitRegistry()


def throttle_response(service: str, operation: str) -> tuple[int, dict[str, str], str]:
    """AWS's JSON-protocol throttling answer, which botocore classifies as throttling by its code."""
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "sandbox-rate-limit"}
    body = {"__type": THROTTLE_CODES[service], "message": f"Rate exceeded for {operation}"}
    return 400, headers, json.dumps(body)


def apply(account: str, region: str, service: str, operation: str) -> tuple[int, dict[str, str], str] | None:
    if registry.allow(account, region, service, operation):
        return None
    return throttle_response(service, operation)
