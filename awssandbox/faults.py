"""Fault injection for the AWS sandbox: throttling, server errors, refusals and added latency.

Rules are matched by service (``sagemaker``, ``ce``, ``tagging`` for the Resource Groups Tagging API, ``iam``) and
operation (``ListUserProfiles`` or ``*``) and fire either on a share of calls (``rate``, drawn from a seeded generator
so a run can be repeated) or on the next ``count`` calls; ``access_denied`` answers as a role without the permission
would. They are set in process (tests) or over HTTP on the sandbox server (``/_sandbox/faults``).
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("throttle", "server_error", "latency", "access_denied")
SERVICES = ("sagemaker", "ce", "tagging", "iam", "identitystore")
# moto's name of a service where it differs from the rules' (and the rate limits') name.
MOTO_SERVICES = {"resourcegroupstaggingapi": "tagging"}

# What each service answers when it throttles: SageMaker says ThrottlingException, Cost Explorer
# LimitExceededException (both retried by botocore's standard and adaptive retry modes).
THROTTLE_CODES = {
    "sagemaker": "ThrottlingException",
    "ce": "LimitExceededException",
    "tagging": "ThrottlingException",
    "iam": "Throttling",
    "identitystore": "ThrottlingException",
}
# IAM speaks the query protocol: errors are XML (IAM API reference, "Common Errors": Throttling, ServiceFailure).
XML_SERVICES = {"iam"}
SERVER_ERROR_CODES = {"iam": "ServiceFailure"}


class FaultError(ValueError):
    """A fault rule that cannot be applied; the message says why."""


@dataclass
class FaultRule:
    service: str
    kind: str
    operation: str = "*"
    rate: float | None = None
    count: int | None = None
    latency_ms: int = 0
    status: int = 500
    after: int = 0  # let this many matching calls through first (to fail a listing halfway, say)
    fired: int = field(default=0)
    seen: int = field(default=0)

    def validate(self) -> None:
        # Rules also arrive as JSON over HTTP: check types first, so a wrong one is refused, not a crash.
        for name in ("service", "kind", "operation"):
            if not isinstance(getattr(self, name), str):
                raise FaultError(f"{name} must be a string, not {getattr(self, name)!r}.")
        if self.rate is not None and (isinstance(self.rate, bool) or not isinstance(self.rate, int | float)):
            raise FaultError(f"rate must be a number, not {self.rate!r}.")
        for name in ("count", "latency_ms", "status", "after"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise FaultError(f"{name} must be a whole number, not {value!r}.")
        if self.service not in SERVICES:
            raise FaultError(f"service must be one of {', '.join(SERVICES)}, not {self.service!r}.")
        if self.kind not in KINDS:
            raise FaultError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}.")
        if (self.rate is None) == (self.count is None):
            raise FaultError("Give exactly one of rate (0 < rate <= 1) or count (a whole number of calls).")
        if self.rate is not None and not 0 < self.rate <= 1:
            raise FaultError(f"rate must be above 0 and at most 1, not {self.rate}.")
        if self.count is not None and self.count < 1:
            raise FaultError(f"count must be at least 1, not {self.count}.")
        if self.kind == "latency" and not 0 < self.latency_ms <= 60_000:
            raise FaultError("latency_ms must be between 1 and 60000 for a latency fault.")
        if self.after < 0:
            raise FaultError(f"after must be 0 or more, not {self.after}.")
        if self.kind == "server_error" and self.status not in (500, 502, 503, 504):
            raise FaultError("status must be 500, 502, 503 or 504 for a server_error fault.")

    def matches(self, service: str, operation: str) -> bool:
        return self.service == service and self.operation in ("*", operation)

    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count


class FaultRegistry:
    def __init__(self, seed: int = 20261124) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._random = random.Random(seed)
        self._seed = seed

    def add(self, **spec: Any) -> FaultRule:
        unknown = set(spec) - {"service", "kind", "operation", "rate", "count", "latency_ms", "status", "after"}
        if unknown:
            raise FaultError(f"Unknown fault fields: {', '.join(sorted(unknown))}.")
        try:
            rule = FaultRule(**spec)
        except TypeError as exc:
            raise FaultError(f"A fault needs service and kind: {exc}") from None
        rule.validate()
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self, seed: int | None = None) -> None:
        with self._lock:
            self._rules.clear()
            self._random = random.Random(self._seed if seed is None else seed)

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(rule) for rule in self._rules]

    def pick(self, service: str, operation: str) -> list[FaultRule]:
        """The rules that fire for this call (latency first, then at most one error)."""
        fired: list[FaultRule] = []
        with self._lock:
            for rule in self._rules:
                if not rule.matches(service, operation) or rule.exhausted():
                    continue
                rule.seen += 1
                if rule.seen <= rule.after:
                    continue
                if rule.rate is not None and self._random.random() >= rule.rate:
                    continue
                if rule.kind != "latency" and any(r.kind != "latency" for r in fired):
                    continue
                rule.fired += 1
                fired.append(rule)
        fired.sort(key=lambda r: r.kind != "latency")
        return fired


registry = FaultRegistry()


def error_response(service: str, rule: FaultRule, operation: str) -> tuple[int, dict[str, str], str]:
    """The HTTP answer AWS gives for this fault: AWS JSON for SageMaker and Cost Explorer, XML for IAM."""
    if rule.kind == "throttle":
        status, code, message = 400, THROTTLE_CODES[service], f"Rate exceeded (sandbox fault on {operation})"
    elif rule.kind == "access_denied":
        # What a role without the operation's IAM permission gets (e.g. no tag:GetResources).
        code = "AccessDenied" if service in XML_SERVICES else "AccessDeniedException"
        status, message = 400, f"Not authorized to perform {operation} (sandbox fault)"
    else:
        status = rule.status
        code = SERVER_ERROR_CODES.get(service, "InternalFailure")
        message = f"Service unavailable (sandbox fault on {operation})"
    if service in XML_SERVICES:
        kind = "Sender" if status < 500 else "Receiver"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            "<RequestId>sandbox-fault</RequestId></ErrorResponse>"
        )
        return status, {"Content-Type": "text/xml", "x-amzn-RequestId": "sandbox-fault"}, body
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "sandbox-fault"}
    return status, headers, json.dumps({"__type": code, "message": message})


def apply(service: str, operation: str) -> tuple[int, dict[str, str], str] | None:
    """Sleep for latency faults; return the error answer when an error fault fires, else None."""
    for rule in registry.pick(service, operation):
        if rule.kind == "latency":
            time.sleep(rule.latency_ms / 1000)
        else:
            return error_response(service, rule, operation)
    return None
