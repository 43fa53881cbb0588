"""The AWS gateway: the only place in the project that builds boto3 clients.

Clients are made per (account, region, service). In live mode credentials come from the default chain, with an
optional AssumeRole (role ARN + external id) per account; in sandbox mode the same code talks to the AWS sandbox,
over ``AWS_ENDPOINT_URL`` when it is a server or intercepted in process in tests. Every client shares one botocore
``Config`` (retries, timeouts) and reports each HTTP attempt to :data:`call_counter` and to every open
:func:`tally`. It also holds the one retry policy that steps, provisioning and Celery countdowns follow after
botocore's own retries (:func:`retry_policy`), and the paging helpers (:func:`paginate`, :func:`list_all_tags`).
"""

from __future__ import annotations

import contextlib
import contextvars
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from portal.ratebudget import budget

SANDBOX_ACCESS_KEY = "sandbox-access-key"  # noqa: S105 - the sandbox accepts any credentials
SANDBOX_SECRET_KEY = "sandbox-secret-key"  # noqa: S105

THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "LimitExceededException", "TooManyRequestsException", "RequestLimitExceeded"}
)


class CallCounter:
    """Counts AWS API calls by (service, operation); thread-safe. Benchmarks and task runs read it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def record(self, service: str, operation: str) -> None:
        with self._lock:
            self._counts[(service, operation)] += 1

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)

    def total(self, service: str | None = None) -> int:
        with self._lock:
            return sum(n for (svc, _op), n in self._counts.items() if service is None or svc == service)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    @staticmethod
    def difference(after: dict[tuple[str, str], int], before: dict[tuple[str, str], int]) -> dict[str, int]:
        """Calls made between two snapshots, keyed ``service:Operation``."""
        return {
            f"{svc}:{op}": n - before.get((svc, op), 0)
            for (svc, op), n in sorted(after.items())
            if n - before.get((svc, op), 0)
        }


class CallTally:
    """The HTTP attempts made in one piece of work (a step of a run), keyed ``service:Operation``: every attempt
    (``calls``, what AWS sees and bills), the ones botocore made again after a failed attempt (``retried``) and the
    ones AWS answered with throttling (``throttled``).

    Filled by the gateway's botocore event handlers while the tally is open (:func:`tally`), in this thread or
    task only. :meth:`take` hands over what was counted since the last take, so that work recorded in several
    pieces (a failed attempt, then the retry that succeeded) counts every attempt exactly once.
    """

    KINDS = ("calls", "retried", "throttled")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, Counter[str]] = {kind: Counter() for kind in self.KINDS}
        self._taken: dict[str, Counter[str]] = {kind: Counter() for kind in self.KINDS}

    def add(self, kind: str, key: str) -> None:
        with self._lock:
            self._counts[kind][key] += 1

    def made(self) -> dict[str, int]:
        """Every attempt counted so far, taken or not."""
        with self._lock:
            return dict(sorted(self._counts["calls"].items()))

    def take(self) -> dict[str, dict[str, int]]:
        """What was counted since the last take: ``{"calls": {...}, "retried": {...}, "throttled": {...}}``."""
        with self._lock:
            fresh = {}
            for kind in self.KINDS:
                delta = self._counts[kind] - self._taken[kind]
                fresh[kind] = dict(sorted(delta.items()))
                self._taken[kind] = Counter(self._counts[kind])
            return fresh


# The tallies open in this thread (or asyncio task); nested tallies each see every attempt.
_open_tallies: contextvars.ContextVar[tuple[CallTally, ...]] = contextvars.ContextVar("aws_call_tallies", default=())


@contextlib.contextmanager
def tally() -> Iterator[CallTally]:
    """Count the AWS calls made inside the block, attempt by attempt, retries included."""
    counting = CallTally()
    token = _open_tallies.set((*_open_tallies.get(), counting))
    try:
        yield counting
    finally:
        _open_tallies.reset(token)


call_counter = CallCounter()


def aws_target_problem() -> str | None:
    """Why this process must not reach AWS as configured, or None. Sandbox mode needs the sandbox server's address:
    without it boto3 would call the real AWS endpoints with the sandbox's made-up credentials (slowly failing, and
    recording failed runs). Only the test suite, which intercepts every call in process, sets AWS_SANDBOX_IN_PROCESS.
    """
    if settings.AWS_MODE != "sandbox" or settings.AWS_ENDPOINT_URL or settings.AWS_SANDBOX_IN_PROCESS:
        return None
    return (
        "AWS_MODE=sandbox but AWS_ENDPOINT_URL is not set, so AWS calls would go to the real AWS endpoints. "
        "Point AWS_ENDPOINT_URL at the sandbox (http://127.0.0.1:5055 while `python manage.py demo` runs; manage.py "
        "reads it from the running demo by itself), start one with `python manage.py sandbox --port 5055`, "
        "or set AWS_MODE=live for real AWS."
    )


def require_aws_target() -> None:
    """Refuse (ImproperlyConfigured) to go on when :func:`aws_target_problem` finds one; processes call it at start."""
    problem = aws_target_problem()
    if problem:
        raise ImproperlyConfigured(problem)


@dataclass(frozen=True)
class AccountAccess:
    """How to reach one AWS account: its id and, optionally, the role to assume there."""

    account_id: str
    role_arn: str | None = None
    external_id: str | None = None


def client_config() -> Config:
    return Config(
        # total_max_attempts counts the first attempt too ("max_attempts" would count retries only).
        retries={"mode": settings.AWS_RETRY_MODE, "total_max_attempts": settings.AWS_MAX_ATTEMPTS},
        connect_timeout=settings.AWS_CONNECT_TIMEOUT,
        read_timeout=settings.AWS_READ_TIMEOUT,
        user_agent_appid="sagemaker-governance-portal",
    )


# One loader for every session: service models are read and parsed once per process, not once per assumed role.
_shared_loader = botocore.loaders.create_loader()


def _base_session(credentials: dict[str, str] | None = None) -> boto3.Session:
    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader)
    core.register("before-send", _count_send)
    core.register("needs-retry", _count_outcome)
    if credentials is not None:
        return boto3.Session(botocore_session=core, **credentials)
    if settings.AWS_MODE == "sandbox":
        return boto3.Session(
            botocore_session=core,
            aws_access_key_id=SANDBOX_ACCESS_KEY,
            aws_secret_access_key=SANDBOX_SECRET_KEY,
        )
    return boto3.Session(botocore_session=core)


# Event names carry botocore's service id; the counter uses the names clients are made with.
_SERVICE_NAMES = {"cost-explorer": "ce"}


def _event_key(event_name: str) -> tuple[str, str]:
    _, service, operation = event_name.split(".", 2)
    return _SERVICE_NAMES.get(service, service), operation


def _count_send(event_name: str, **_: Any) -> None:
    # "before-send.<service-id>.<Operation>" fires once per HTTP attempt, retries included: what AWS sees and bills.
    service, operation = _event_key(event_name)
    call_counter.record(service, operation)
    for open_tally in _open_tallies.get():
        open_tally.add("calls", f"{service}:{operation}")


def _count_outcome(
    event_name: str, attempts: int = 1, response: Any = None, caught_exception: Any = None, **_: Any
) -> None:
    # "needs-retry.<service-id>.<Operation>" fires after every HTTP attempt, with its number and its answer. It
    # returns None, so botocore's own retry handler alone decides whether to retry.
    tallies = _open_tallies.get()
    if not tallies:
        return
    service, operation = _event_key(event_name)
    key = f"{service}:{operation}"
    throttled = _is_throttled(response)
    for open_tally in tallies:
        if attempts > 1:
            open_tally.add("retried", key)
        if throttled:
            open_tally.add("throttled", key)


def _is_throttled(response: Any) -> bool:
    if response is None:
        return False
    http, parsed = response
    code = (parsed or {}).get("Error", {}).get("Code") if isinstance(parsed, dict) else None
    return code in THROTTLING_CODES or getattr(http, "status_code", 0) == 429


# The rate budget's name of a service where boto3's is long; the budget is per (account, region, this name).
BUDGET_SERVICES = {"resourcegroupstaggingapi": "tagging"}
OWN_ACCOUNT = "portal"  # the budget's account for calls made with the portal's own credentials (no role assumed)


def attach_budget(client: Any, *, account_id: str, region: str, service: str) -> Any:
    """Make every HTTP attempt of ``client`` (retries included) wait for its slot in the rate budget of
    (account, region, service), and report throttling answers to it so that it slows down."""
    name = BUDGET_SERVICES.get(service, service)

    def take_slot(**_: Any) -> None:
        budget.take(account_id, region, name)

    def report_outcome(response: Any = None, **_: Any) -> None:
        if _is_throttled(response):
            budget.throttled(account_id, region, name)

    # Registered on this client's own event emitter (botocore copies the session's for each client).
    client.meta.events.register_first("before-send", take_slot)
    client.meta.events.register("needs-retry", report_outcome)
    return client


class AwsGateway:
    """Builds and caches boto3 clients for accounts and regions.

    One gateway per process is enough (:func:`gateway`); it caches assumed-role credentials per account until
    shortly before they expire and clients per (account, region, service).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str, str | None, str], Any] = {}
        self._sessions: dict[tuple[str, str | None], tuple[boto3.Session, float | None]] = {}
        self._assuming: dict[tuple[str, str | None], threading.Lock] = {}

    def endpoint_url(self) -> str | None:
        if settings.AWS_MODE != "sandbox":
            return None
        require_aws_target()  # never let a sandbox client fall through to the real endpoints
        return settings.AWS_ENDPOINT_URL

    def client(self, service: str, *, region: str, account: AccountAccess | None = None) -> Any:
        key = (service, region, account.account_id if account else None, account.role_arn if account else "")
        with self._lock:
            cached = self._clients.get(key)
            if cached is not None and self._session_fresh(account):
                return cached
        session = self._session_for(account)
        client = session.client(service, region_name=region, endpoint_url=self.endpoint_url(), config=client_config())
        attach_budget(client, account_id=account.account_id if account else OWN_ACCOUNT, region=region, service=service)
        with self._lock:
            self._clients[key] = client
        return client

    def sagemaker(self, *, region: str, account: AccountAccess | None = None) -> Any:
        return self.client("sagemaker", region=region, account=account)

    def cost_explorer(self, *, account: AccountAccess | None = None) -> Any:
        # Cost Explorer has one endpoint, in us-east-1, whatever the region of the resources.
        return self.client("ce", region="us-east-1", account=account)

    def tagging(self, *, region: str, account: AccountAccess | None = None) -> Any:
        """The Resource Groups Tagging API (GetResources: the tags of many resources a call)."""
        return self.client("resourcegroupstaggingapi", region=region, account=account)

    def identity_store(self, *, region: str, account: AccountAccess | None = None) -> Any:
        """IAM Identity Center's identity store (users, groups, memberships) in the instance's region."""
        return self.client("identitystore", region=region, account=account)

    def sso_admin(self, *, region: str, account: AccountAccess | None = None) -> Any:
        """IAM Identity Center administration: ``ListInstances`` answers the identity store ids."""
        return self.client("sso-admin", region=region, account=account)

    def sts(self, *, region: str | None = None, account: AccountAccess | None = None) -> Any:
        return self.client("sts", region=region or settings.AWS_DEFAULT_REGION, account=account)

    def caller_identity(self, account: AccountAccess | None = None) -> dict[str, str]:
        """Who the portal is in ``account``: proves the credentials (and the assumed role) work."""
        answer = self.sts(account=account).get_caller_identity()
        return {"Account": answer["Account"], "Arn": answer["Arn"], "UserId": answer["UserId"]}

    def clear(self) -> None:
        with self._lock:
            self._clients.clear()
            self._sessions.clear()

    # -- credentials -------------------------------------------------------------------------------------------
    def _session_fresh(self, account: AccountAccess | None) -> bool:
        if account is None or not account.role_arn:
            return True
        entry = self._sessions.get((account.account_id, account.role_arn))
        if entry is None:
            return False
        _session, expires_at = entry
        return expires_at is None or expires_at - time.time() > 300

    def _session_for(self, account: AccountAccess | None) -> boto3.Session:
        if account is None or not account.role_arn:
            return _base_session()
        key = (account.account_id, account.role_arn)
        with self._lock:
            assuming = self._assuming.setdefault(key, threading.Lock())
        # One AssumeRole per account at a time: threads that need the same role wait for the first one's session.
        with assuming:
            with self._lock:
                entry = self._sessions.get(key)
            if entry is not None and self._session_fresh(account):
                return entry[0]
            return self._assume(account, key)

    def _assume(self, account: AccountAccess, key: tuple[str, str | None]) -> boto3.Session:
        sts = _base_session().client(
            "sts", region_name=settings.AWS_DEFAULT_REGION, endpoint_url=self.endpoint_url(), config=client_config()
        )
        attach_budget(sts, account_id=OWN_ACCOUNT, region=settings.AWS_DEFAULT_REGION, service="sts")
        params: dict[str, Any] = {
            "RoleArn": account.role_arn,
            "RoleSessionName": settings.AWS_ASSUME_ROLE_SESSION_NAME,
            "DurationSeconds": 3600,
        }
        if account.external_id:
            params["ExternalId"] = account.external_id
        creds = sts.assume_role(**params)["Credentials"]
        session = _base_session(
            {
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"],
            }
        )
        with self._lock:
            self._sessions[key] = (session, creds["Expiration"].timestamp())
        return session


_gateway = AwsGateway()


def gateway() -> AwsGateway:
    return _gateway


# -- paging ------------------------------------------------------------------------------------------------------
PAGE_SIZE = 100  # the largest MaxResults the SageMaker list calls accept
TAG_PAGE_SIZE = 100  # ListTags accepts 50 and up


def paginate(client: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of every page of a list call, asked for in the largest pages AWS allows."""
    paginator = client.get_paginator(operation)
    return [
        item
        for page in paginator.paginate(**params, PaginationConfig={"PageSize": PAGE_SIZE})
        for item in page.get(key, [])
    ]


def list_all_tags(client: Any, arn: str) -> dict[str, str]:
    """A SageMaker resource's tags as a dict, every page of them."""
    tags: dict[str, str] = {}
    for page in client.get_paginator("list_tags").paginate(
        ResourceArn=arn, PaginationConfig={"PageSize": TAG_PAGE_SIZE}
    ):
        tags.update({t["Key"]: t.get("Value", "") for t in page.get("Tags", [])})
    return tags


TAGGING_BATCH = 100  # GetResources takes at most 100 ARNs a call (API_GetResources.html, ResourceARNList)
ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})


class ResourceTags:
    """The tags of many resources of one account and region: Resource Groups Tagging API ``GetResources`` calls of
    up to 100 ARNs each, filtered by resource type (``sagemaker:user-profile``...), instead of one ``ListTags`` per
    resource. Where the tagging API is refused (AccessDenied: the role lacks ``tag:GetResources``), it falls back to
    ``ListTags`` for every resource, for the rest of this object's life, and says so in :attr:`refused`.

    GetResources returns tagged resources only: an ARN missing from its answer has no tags. ARNs are matched without
    regard to case (profile names are not case sensitive; app ARNs spell the app type in lower case).
    """

    def __init__(self, *, region: str, account: AccountAccess | None, sagemaker: Any = None) -> None:
        self.region = region
        self.account = account
        self.sagemaker = sagemaker or gateway().sagemaker(region=region, account=account)
        self.refused: str | None = None  # why GetResources could not be used, once it was refused

    def fetch(self, arns: list[str], resource_type: str) -> dict[str, dict[str, str]]:
        """``{arn: {key: value}}`` for every ARN given (``{}`` for an untagged one)."""
        tags: dict[str, dict[str, str]] = {}
        for start in range(0, len(arns), TAGGING_BATCH):
            batch = arns[start : start + TAGGING_BATCH]
            if self.refused is None:
                try:
                    tags.update(self._get_resources(batch, resource_type))
                    continue
                except ClientError as exc:
                    if error_code(exc) not in ACCESS_DENIED_CODES:
                        raise
                    self.refused = describe_error(exc)
            tags.update({arn: list_all_tags(self.sagemaker, arn) for arn in batch})
        return tags

    def _get_resources(self, batch: list[str], resource_type: str) -> dict[str, dict[str, str]]:
        client = gateway().tagging(region=self.region, account=self.account)
        answer = client.get_resources(ResourceARNList=batch, ResourceTypeFilters=[resource_type])
        found = {
            item["ResourceARN"].lower(): {t["Key"]: t.get("Value", "") for t in item.get("Tags", [])}
            for item in answer.get("ResourceTagMappingList", [])
        }
        return {arn: found.get(arn.lower(), {}) for arn in batch}

    def fallback_note(self) -> str:
        """A line for the run when GetResources was refused, else ''."""
        if self.refused is None:
            return ""
        account = self.account.account_id if self.account else "the portal's own account"
        return (
            f"The Resource Groups Tagging API refused GetResources in {account} {self.region} ({self.refused}); "
            f"tags were read with ListTags, one call per resource. Allow tag:GetResources to the portal's role."
        )


# -- retrying after botocore -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """What happens after botocore has spent its own ``AWS_MAX_ATTEMPTS`` on a retryable error (throttling, 5xx,
    connection trouble): the step, the provisioning call or the Celery task tries again, ``attempts`` times in all,
    waiting ``base_seconds`` then twice as long each time, at most ``max_seconds``, with jitter (a random half of
    each wait is dropped, so that workers throttled together do not come back together). In process it sleeps;
    a Celery task uses :meth:`delay` as its countdown instead of sleeping."""

    attempts: int
    base_seconds: float
    max_seconds: float

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        ceiling = min(self.max_seconds, self.base_seconds * 2**retry)
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not security

    def is_final(self, attempt: int) -> bool:
        """Whether attempt number ``attempt`` (0 for the first) is the last one."""
        return attempt >= self.attempts - 1

    def should_retry(self, exc: BaseException, attempt: int) -> bool:
        return is_retryable(exc) and not self.is_final(attempt)


def retry_policy() -> RetryPolicy:
    """The one retry policy, from the settings (read at each use, so tests may change them)."""
    return RetryPolicy(
        attempts=settings.AWS_STEP_ATTEMPTS,
        base_seconds=settings.AWS_STEP_RETRY_SECONDS,
        max_seconds=settings.AWS_STEP_RETRY_MAX_SECONDS,
    )


T = TypeVar("T")


def with_retries(step: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a step in process under :func:`retry_policy`, sleeping between attempts as a Celery task would wait
    for its countdown. The step gets ``final_attempt`` so that it records, rather than raises, its last failure."""
    policy = retry_policy()
    attempt = 0
    while True:
        try:
            return step(*args, final_attempt=policy.is_final(attempt), **kwargs)
        except Exception as exc:
            if not policy.should_retry(exc, attempt):
                raise
            time.sleep(policy.delay(attempt))
            attempt += 1


def call_with_retries(method: Callable[..., T], **params: Any) -> T:
    """One AWS call (or a small helper that makes some) under :func:`retry_policy`."""
    policy = retry_policy()
    attempt = 0
    while True:
        try:
            return method(**params)
        except (ClientError, BotoCoreError) as exc:
            if not policy.should_retry(exc, attempt):
                raise
            time.sleep(policy.delay(attempt))
            attempt += 1


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, or None."""
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code")
    return None


def is_throttling(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLING_CODES


def is_retryable(exc: BaseException) -> bool:
    """Worth trying again later: throttling, AWS-side 5xx errors, and connection trouble.

    botocore has already retried such a call ``AWS_MAX_ATTEMPTS`` times; this decides whether the task retries too.
    """
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return is_throttling(exc) or status >= 500 or error_code(exc) in {"InternalFailure", "ServiceUnavailable"}
    return isinstance(exc, EndpointConnectionError | ConnectionClosedError | ConnectTimeoutError | ReadTimeoutError)


def describe_error(exc: BaseException) -> str:
    """A one-line, human explanation of an AWS failure, for task runs and pages."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        op = exc.operation_name
        return f"{op}: {err.get('Code', 'Error')}: {err.get('Message', '').strip() or 'no message'}"
    if isinstance(exc, BotoCoreError):
        return f"{type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"
