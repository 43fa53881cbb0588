"""Benchmark: a full inventory sync of a large organisation at the pace AWS allows, and an unchanged resync.

Seeds the AWS sandbox with 3 accounts x 2 regions, 30 domains, 3,000 user profiles, 1,500 spaces and 4,000 apps
(``--profiles-scale 10``: 30,000 profiles), switches the sandbox's rate limits on (its assumed AWS limits: SageMaker
reads 20/s, burst 40, per account and region) and runs the sync the way production does: the run's account-region
and domain tasks go to real Celery workers (``--workers`` of them, each a thread pool of ``--threads``), every AWS
call paced by the portal's rate budget (``AWS_RATE_BUDGETS``) with production's retry settings.

By default every part runs in a process of its own, as in production where AWS is remote: the sandbox server
(``manage.py sandbox``, seeded over HTTP, its limits and buckets read and set over ``/_sandbox/limits``) and
``celery worker`` processes on Redis (the broker in db 10, the shared rate budget in db 11 of REDIS, default
redis://127.0.0.1:6379). ``--in-process`` runs the sandbox and the workers in this process instead (Celery's
in-memory broker; ``--budget-store redis`` keeps the budget in Redis db 11 as several machines would), where they
share one interpreter lock. ``--serial`` runs the sync in this process, one step after another, on the in-process
sandbox.

For the full sync and the unchanged resync it prints: wall time against the floor (the busiest account-region's
calls divided by its rate), the AWS calls by operation and by kind of resource against the minimum (listing pages,
tag pages, describes of changed resources, role assumptions), the share of calls throttled, SQL statements (serial
only), rows written and the CPU seconds of each process.

    DATABASE_URL=postgres://postgres@127.0.0.1/portal_syncscale python benchmarks/inventory_sync.py \
        [--scale 1] [--profiles-scale 10] [--workers 2 --threads 16] [--in-process [--budget-store local|redis]
        | --serial] [--no-rate-limits]

Parallel workers need PostgreSQL (SQLite takes one writer at a time). A throw-away database named after
DATABASE_URL's (``<name>_inventory_bench``, apart from the test suite's ``test_<name>``) is created and dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
IN_PROCESS = "--in-process" in sys.argv[1:] or "--serial" in sys.argv[1:]
REDIS = os.environ.get("REDIS", "redis://127.0.0.1:6379")
BROKER_URL = f"{REDIS}/10"
BUDGET_REDIS_URL = f"{REDIS}/11"
# In process, Celery's in-memory broker carries the run's tasks between the workers (they share the in-process
# sandbox); otherwise Redis carries them to the worker processes.
os.environ["CELERY_BROKER_URL"] = "memory://" if IN_PROCESS else BROKER_URL

import django  # noqa: E402

django.setup()

import boto3  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

import awssandbox  # noqa: E402
from awssandbox import limits  # noqa: E402
from domains.models import AwsAccount  # noqa: E402
from domains.sync import run_inventory_sync, start_inventory_sync  # noqa: E402
from portal.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, TAGGING_BATCH, gateway  # noqa: E402
from portal.models import TaskRun  # noqa: E402
from portal.ratebudget import DEFAULT_SIZES, LocalStore, RedisStore, budget, parse_sizes  # noqa: E402

ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
REGIONS = ["us-east-1", "eu-west-1"]
ROLE = "arn:aws:iam::{account}:role/SageMakerGovernancePortal"
PAGE = 100
# Production's retry settings and budget (the settings' defaults and AWS_RATE_BUDGETS), not the test suite's.
RETRY_MODE, MAX_ATTEMPTS = "adaptive", 8
BUDGET_SIZES = ",".join(part for part in (DEFAULT_SIZES, os.environ.get("AWS_RATE_BUDGETS", "")) if part)


class StatementCounter:
    def __init__(self) -> None:
        self.statements = 0
        self.writes = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.statements += 1
        if sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.writes += 1
        return execute(sql, params, many, context)


def session_for(account: str) -> boto3.Session:
    base = boto3.Session(aws_access_key_id=SANDBOX_ACCESS_KEY, aws_secret_access_key=SANDBOX_SECRET_KEY)
    creds = base.client("sts", region_name="us-east-1", endpoint_url=settings.AWS_ENDPOINT_URL).assume_role(
        RoleArn=ROLE.format(account=account), RoleSessionName="bench"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def domain_network(session: boto3.Session, region: str) -> dict[str, Any]:
    """A VPC with two subnets for the account-region's domains, made through EC2's API like the rest of the seed."""
    ec2 = session.client("ec2", region_name=region, endpoint_url=settings.AWS_ENDPOINT_URL)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{region}{zone}")["Subnet"][
            "SubnetId"
        ]
        for n, zone in enumerate(("a", "b"))
    ]
    return {"vpc_id": vpc_id, "subnet_ids": subnet_ids}


def seed(scale: float, profiles_scale: float = 1.0) -> dict[str, int]:
    """Each account-region seeded in a thread of its own (over HTTP, the server works while a client waits); the
    first 2,500 profiles (times the scale) in seeding order get an app each, whichever thread seeds them."""
    domains_per_scope = max(1, round(5 * scale))
    profiles_per_domain = max(1, round(100 * scale * profiles_scale))
    spaces_per_domain = max(1, round(50 * scale))
    profile_apps = round(2500 * scale)  # with one app per space: 4,000 apps at scale 1
    scopes = [(account, region) for account in ACCOUNTS for region in REGIONS]

    def seed_scope(index: int) -> tuple[Counter[str], list[tuple[int, int, int]]]:
        account, region = scopes[index]
        counts: Counter[str] = Counter()
        per_domain: list[tuple[int, int, int]] = []  # (profiles, spaces, apps) of each domain, for the call minimum
        session = session_for(account)
        client = session.client("sagemaker", region_name=region, endpoint_url=settings.AWS_ENDPOINT_URL)
        network = domain_network(session, region)  # CreateDomain checks the VPC and subnets exist
        for d in range(domains_per_scope):
            domain_id = client.create_domain(
                DomainName=f"lob-{account[-2:]}-{region[:2]}-{d}",
                AuthMode="IAM",
                DefaultUserSettings={"ExecutionRole": f"arn:aws:iam::{account}:role/Exec"},
                VpcId=network["vpc_id"],
                SubnetIds=network["subnet_ids"],
                Tags=[{"Key": "lob", "Value": str(d)}],
            )["DomainId"]
            counts["domains"] += 1
            earlier_profiles = (index * domains_per_scope + d) * profiles_per_domain
            with_app = min(profiles_per_domain, max(0, profile_apps - earlier_profiles))
            for p in range(profiles_per_domain):
                name = f"person-{p}"
                client.create_user_profile(
                    DomainId=domain_id, UserProfileName=name, Tags=[{"Key": "owner", "Value": f"p{p}@example.com"}]
                )
                counts["user_profiles"] += 1
                if p < with_app:
                    client.create_app(
                        DomainId=domain_id,
                        UserProfileName=name,
                        AppType="JupyterServer",
                        AppName="default",
                        ResourceSpec={"InstanceType": "system"},
                    )
                    counts["apps"] += 1
            for s in range(spaces_per_domain):
                space = f"space-{s}"
                client.create_space(
                    DomainId=domain_id,
                    SpaceName=space,
                    OwnershipSettings={"OwnerUserProfileName": "person-0"},
                    SpaceSharingSettings={"SharingType": "Shared"},
                    SpaceSettings={"AppType": "JupyterLab"},
                )
                client.create_app(
                    DomainId=domain_id,
                    SpaceName=space,
                    AppType="JupyterLab",
                    AppName="default",
                    ResourceSpec={"InstanceType": "ml.t3.medium"},
                )
                counts["spaces"] += 1
                counts["apps"] += 1
            per_domain.append((profiles_per_domain, spaces_per_domain, with_app + spaces_per_domain))
        return counts, per_domain

    total: Counter[str] = Counter()
    SEEDED_DOMAINS.clear()
    with ThreadPoolExecutor(max_workers=len(scopes)) as pool:
        for counts, per_domain in pool.map(seed_scope, range(len(scopes))):
            total.update(counts)
            SEEDED_DOMAINS.extend(per_domain)
    return dict(total)


SEEDED_DOMAINS: list[tuple[int, int, int]] = []


def _pages(n: int, size: int = PAGE) -> int:
    return max(1, math.ceil(n / size))


def expected_calls(seeded: dict[str, int], scale: float) -> dict[str, int]:
    """The fewest calls a sync of a fresh inventory can make: every listing page; one describe per domain, profile
    and space (ListApps says all but an app's activity); tag pages of 100 ARNs per kind per domain (the domains':
    per account-region); one AssumeRole per account (per worker process: each caches its own credentials)."""
    domains_per_scope = max(1, round(5 * scale))
    scopes = len(ACCOUNTS) * len(REGIONS)
    listing = scopes * _pages(domains_per_scope) + sum(_pages(n) for counts in SEEDED_DOMAINS for n in counts)
    describes = seeded["domains"] + seeded["user_profiles"] + seeded["spaces"]
    tags = scopes * _pages(domains_per_scope, TAGGING_BATCH)
    tags += sum(_pages(n, TAGGING_BATCH) for counts in SEEDED_DOMAINS for n in counts)
    return {"listing pages": listing, "describes": describes, "tag pages": tags, "role assumptions": len(ACCOUNTS)}


def resync_minimum(scale: float) -> int:
    """An unchanged resync: the listing pages only (the roles are still assumed from the full sync)."""
    scopes = len(ACCOUNTS) * len(REGIONS)
    return scopes * _pages(max(1, round(5 * scale))) + sum(_pages(n) for counts in SEEDED_DOMAINS for n in counts)


class InProcessSandbox:
    """The sandbox in this process: its limits through the registry."""

    url = None

    def limits(self, enabled: bool | None = None) -> dict[str, Any]:
        """Change whether limits are on (None: as they are), refill the buckets; the limits and buckets now."""
        limits.registry.configure(enabled=enabled)
        return limits.registry.describe()

    def describe(self) -> dict[str, Any]:
        return limits.registry.describe()


class ChildProcess:
    """A process this benchmark started, in a session of its own (so it and any children stop together), its
    output in a log file; its CPU seconds read from /proc."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def cpu(self) -> float:
        """User + system CPU seconds of the process (every thread) so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def check(self) -> None:
        if self.process.poll() is not None:
            self.log.flush()
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise SystemExit(f"{self.name} exited with {self.process.returncode}:\n{tail}")

    def signal(self, number: int) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, number)


def stop_all(children: list[ChildProcess], timeout: float = 15) -> None:
    """SIGTERM to every child at once (a worker finishes the tasks it runs), SIGKILL to those still running after
    ``timeout`` seconds."""
    for child in children:
        child.signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.signal(signal.SIGKILL)
            child.process.wait(timeout=10)
        child.log.close()


def child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **extra}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerSandbox(ChildProcess):
    """``manage.py sandbox`` on a free loopback port, empty, limits off until :meth:`limits` turns them on."""

    def __init__(self, log_dir: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "manage.py", "sandbox", "--port", str(port), "--empty"]
        env = child_env(AWS_SANDBOX_RATE_LIMITS="false", AWS_SANDBOX_LIFECYCLE_SECONDS="0")
        super().__init__("the sandbox server", command, env, log_dir / "sandbox.log")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            self.check()
            try:
                self._call("GET", "health")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the sandbox server did not answer at {self.url} within 60 s") from None
                time.sleep(0.2)

    def _call(self, method: str, name: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(f"{self.url}/_sandbox/{name}", data=body, method=method)
        with urllib.request.urlopen(request, timeout=30) as answer:
            result: dict[str, Any] = json.load(answer)
            return result

    def limits(self, enabled: bool | None = None) -> dict[str, Any]:
        if enabled is None:
            enabled = self.describe()["enabled"]
        return self._call("POST", "limits", {"enabled": enabled})

    def describe(self) -> dict[str, Any]:
        return self._call("GET", "limits")


class WorkerProcess(ChildProcess):
    """``celery worker`` with a thread pool, on the Redis broker, reading the benchmark's database, calling the
    sandbox server with production's retry settings and rate budget (in Redis, shared by the workers)."""

    def __init__(self, n: int, threads: int, sandbox_url: str, log_dir: Path) -> None:
        self.hostname = f"bench{n}-{os.getpid()}@localhost"
        command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "threads"]
        command += ["--concurrency", str(threads), "--loglevel", "WARNING", "--hostname", self.hostname]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        env = child_env(
            PORTAL_TEST_DATABASE_NAME=str(connection.settings_dict["NAME"]),
            CELERY_BROKER_URL=BROKER_URL,
            AWS_MODE="sandbox",
            AWS_ENDPOINT_URL=sandbox_url,
            AWS_RETRY_MODE=RETRY_MODE,
            AWS_MAX_ATTEMPTS=str(MAX_ATTEMPTS),
            AWS_RATE_BUDGET="true",
            AWS_RATE_BUDGETS=BUDGET_SIZES,
            AWS_RATE_BUDGET_STORE="redis",
            AWS_RATE_BUDGET_REDIS_URL=BUDGET_REDIS_URL,
        )
        super().__init__(f"worker {self.hostname}", command, env, log_dir / f"worker{n}.log")


def wait_for_workers(workers: list[WorkerProcess], timeout: float = 120) -> None:
    from portal.celery import app

    deadline = time.monotonic() + timeout
    waiting = {w.hostname for w in workers}
    while waiting:
        for worker in workers:
            worker.check()
        answers = app.control.ping(destination=sorted(waiting), timeout=1.0) or []
        for answer in answers:
            waiting -= set(answer)
        if waiting and time.monotonic() > deadline:
            raise SystemExit(f"workers {sorted(waiting)} did not answer within {timeout} s")


def wait_for(run: TaskRun, children: list[ChildProcess], timeout: float = 3600) -> list[tuple[float, int]]:
    """Wait for the run to end; when each of its steps finished (seconds from now, steps done then)."""
    started = time.monotonic()
    deadline = started + timeout
    done: list[tuple[float, int]] = []
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.steps_done > (done[-1][1] if done else 0):
            done.append((time.monotonic() - started, run.steps_done))
        if not run.is_active:
            return done
        for child in children:
            child.check()
        time.sleep(0.05)
    raise SystemExit(f"run #{run.pk} did not finish within {timeout} s")


class BucketTimeline:
    """The sandbox's per-bucket call counts read every ``every`` seconds while a sync runs, in a thread: when the
    busiest account-region made its calls, so a slow run shows whether it started late, went slower than its rate
    or waited for a tail."""

    def __init__(self, sandbox: InProcessSandbox | ServerSandbox, every: float = 0.25) -> None:
        self.sandbox = sandbox
        self.every = every
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.steps: list[tuple[float, int]] = []  # (seconds, steps done by then), from the run's progress
        self.started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bucket-timeline", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                described = self.sandbox.describe()
            except OSError:  # the sandbox server stopped (the benchmark is stopping): nothing more to sample
                return
            counts = {_bucket_name(b): b["allowed"] + b["throttled"] for b in described["buckets"]}
            self.samples.append((time.perf_counter() - self.started, counts))
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def summary(self, bucket: str, rate: float, elapsed: float) -> str:
        series = [(t, counts.get(bucket, 0)) for t, counts in self.samples]
        total = series[-1][1] if series else 0
        if not total:
            return "no calls sampled"
        first = next(t for t, n in series if n > 0)
        last = next(t for t, n in series if n >= total)
        # The seconds (whole sampled seconds between the first and the last call) it ran below 90% of its rate.
        slow = [
            round(t0)
            for (t0, n0), (t1, n1) in zip(series, series[1:], strict=False)
            if first <= t0 and t1 <= last and t1 - t0 > 0 and (n1 - n0) / (t1 - t0) < 0.9 * rate
        ]
        pace = f"{total / (last - first):.1f} calls/s" if last > first else "all in one sample"
        final = self.samples[-1][1]
        any_last = max(next(t for t, counts in self.samples if counts.get(b, 0) >= n) for b, n in final.items())
        text = (
            f"first call by {first:.2f} s, last by {last:.2f} s ({pace} in between; the last call of "
            f"any account-region by {any_last:.2f} s), run ended at {elapsed:.2f} s; sampled intervals below 90% "
            f"of {rate:g}/s: {len(slow)} of {sum(1 for t, _ in series if first <= t <= last)} "
            f"(at s {sorted(set(slow))[:20]})"
        )
        if self.steps:
            marks = [self.steps[0], *self.steps[len(self.steps) // 2 : len(self.steps) // 2 + 1], self.steps[-1]]
            text += "; steps done: " + ", ".join(f"{n} by {t:.2f} s" for t, n in marks)
            before = max((n for t, n in self.steps if t <= any_last), default=0)
            text += f" ({self.steps[-1][1] - before} of them after the last call)"
        return text


def _bucket_name(bucket: dict[str, Any]) -> str:
    return f"{bucket['account']} {bucket['region']} {bucket['service']}/{bucket['family']}"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_now(children: list[ChildProcess]) -> dict[str, float]:
    """CPU seconds so far of this process and of each child."""
    return {"this process": _cpu(), **{child.name: child.cpu() for child in children}}


Measured = tuple[TaskRun, float, StatementCounter, dict[str, float], dict[str, Any], BucketTimeline]


def timed_sync(parallel: bool, sandbox: InProcessSandbox | ServerSandbox, children: list[ChildProcess]) -> Measured:
    """One sync: the run, its wall time, the SQL count (serial only), the CPU seconds each process spent on it,
    the sandbox's limits and buckets after it and their timeline."""
    counter = StatementCounter()
    sandbox.limits()  # full buckets and fresh per-bucket counts for this sync
    cpu_before = cpu_now(children)
    run, _ = start_inventory_sync(trigger=TaskRun.Trigger.COMMAND, enqueue=parallel)
    timeline = BucketTimeline(sandbox)
    started = time.perf_counter()
    if parallel:  # the workers' threads run the SQL; only the per-statement count of the serial run is exact
        timeline.steps = wait_for(run, children)
    else:
        with connection.execute_wrapper(counter):
            run_inventory_sync(run.pk, inline=True)
    elapsed = time.perf_counter() - started
    cpu = {name: seconds - cpu_before[name] for name, seconds in cpu_now(children).items()}
    timeline.stop()
    run.refresh_from_db()
    return run, elapsed, counter, cpu, sandbox.describe(), timeline


def busiest_scope(described: dict[str, Any]) -> tuple[str, int, int, float]:
    """The sandbox's busiest (account, region, service) bucket in this sync: its name, calls let through, calls
    throttled and its rate."""
    rates = {(lim["service"], lim["family"]): lim["rate"] for lim in described["limits"]}
    best = max(described["buckets"], key=lambda b: (b["allowed"] + b["throttled"]) / rates[(b["service"], b["family"])])
    return _bucket_name(best), best["allowed"], best["throttled"], rates[(best["service"], best["family"])]


def report(title: str, measured: Measured, minimum: int) -> None:
    run, elapsed, sql, cpu, described, timeline = measured
    rows = sum(run.total(o) for o in ("created", "updated", "removed"))
    print(f"\n== {title}: run #{run.pk} {run.status} in {elapsed:.2f} s")
    share = run.aws_throttled_total / max(1, run.aws_call_total)
    print(
        f"   AWS calls: {run.aws_call_total} (minimum {minimum}), throttled by the sandbox: "
        f"{run.aws_throttled_total} ({share:.2%})"
    )
    for call, n in sorted(run.aws_calls.items()):
        print(f"     {call:48s} {n:6d}")
    by_kind = ", ".join(f"{kind} {n.get('aws_calls', 0)}" for kind, n in run.counts.items())
    print(f"   calls by kind of resource: {by_kind}")
    if sql.statements:
        print(f"   SQL statements: {sql.statements} ({sql.writes} writes)")
    print(
        f"   inventory rows written: {rows} ({run.total('created')} created, {run.total('updated')} updated, "
        f"{run.total('removed')} removed); unchanged: {run.total('unchanged')}"
    )
    if run.errors:
        print(f"   ERRORS: {run.errors[:3]}")
    total = sum(cpu.values())
    shares = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in cpu.items())
    print(
        f"   CPU: {total:.1f} s = {total / elapsed:.2f} cores busy on average ({shares}); machine load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    if described["enabled"] and described["buckets"]:
        name, allowed, throttled, rate = busiest_scope(described)
        floor = (allowed + throttled) / rate
        budget_rate = settings.AWS_RATE_BUDGETS["sagemaker"].rate
        print(
            f"   floor: the busiest account-region ({name}) made {allowed + throttled} calls at {rate:g}/s = "
            f"{floor:.2f} s; wall time / floor = {elapsed / floor:.2f}x (target <= 1.15x); at the budget's own "
            f"{budget_rate:g}/s: {(allowed + throttled) / budget_rate:.2f} s"
        )
        print(f"   its timeline: {timeline.summary(name, rate, elapsed)}")


@contextlib.contextmanager
def in_process_workers(count: int, threads: int) -> Iterator[None]:
    """``count`` real Celery workers in this process, each a pool of ``threads`` threads."""
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    with contextlib.ExitStack() as stack:
        for n in range(count):
            stack.enter_context(
                start_worker(
                    app,
                    pool="threads",
                    concurrency=threads,
                    perform_ping_check=False,
                    loglevel="WARNING",
                    hostname=f"bench{n}@localhost",
                    shutdown_timeout=60,
                )
            )
        yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 30 domains / 3,000 profiles (default)")
    parser.add_argument("--profiles-scale", type=float, default=1.0, help="10 = ten times the profiles")
    parser.add_argument("--no-rate-limits", action="store_true", help="turn the sandbox's rate limits off")
    parser.add_argument("--workers", type=int, default=2, help="Celery workers (default 2)")
    parser.add_argument("--threads", type=int, default=16, help="threads in each worker's pool (default 16)")
    parser.add_argument(
        "--in-process", action="store_true", help="the sandbox and the workers in this process (one GIL)"
    )
    parser.add_argument("--serial", action="store_true", help="run the steps one after another in process")
    parser.add_argument(
        "--budget-store", choices=("local", "redis"), default="local", help="with --in-process: where the budget is"
    )
    args = parser.parse_args()
    # A benchmark stopped with SIGTERM stops its sandbox and workers and drops its database too (they are in
    # sessions of their own, so nothing else reaches them).
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    setup_test_environment()
    if connection.vendor != "sqlite":  # a name of its own, never the test suite's test_<name> on the same server
        connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_inventory_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = RETRY_MODE, MAX_ATTEMPTS
    settings.AWS_RATE_BUDGETS = parse_sizes(BUDGET_SIZES)
    if IN_PROCESS and args.budget_store == "redis":
        store = RedisStore(BUDGET_REDIS_URL, prefix="bench-budget:")
        store.clear()
        budget.use(store)
    elif IN_PROCESS:
        budget.use(LocalStore())
    else:
        settings.AWS_RATE_BUDGET_STORE, settings.AWS_RATE_BUDGET_REDIS_URL = "redis", BUDGET_REDIS_URL
        RedisStore(BUDGET_REDIS_URL).clear()  # the workers' budget (its default key prefix) starts full
    try:
        with tempfile.TemporaryDirectory(prefix="inventory-bench-") as logs, contextlib.ExitStack() as stack:
            children: list[ChildProcess] = []
            sandbox: InProcessSandbox | ServerSandbox
            if IN_PROCESS:
                settings.AWS_ENDPOINT_URL = None
                stack.enter_context(awssandbox.running())
                sandbox = InProcessSandbox()
                if not args.serial:
                    stack.enter_context(in_process_workers(args.workers, args.threads))
            else:
                stack.callback(stop_all, children)  # whatever was started by then, also on failure
                sandbox = ServerSandbox(Path(logs))
                children.append(sandbox)
                sandbox.wait_ready()
                settings.AWS_ENDPOINT_URL = sandbox.url
            gateway().clear()
            started = time.perf_counter()
            seeded = seed(args.scale, args.profiles_scale)
            where = "in process" if IN_PROCESS else f"over HTTP at {sandbox.url}"
            print(f"Seeded {seeded} {where} in {time.perf_counter() - started:.1f} s (database: {connection.vendor})")
            if not IN_PROCESS:
                from portal.celery import app

                app.control.purge()  # a queue left over from an earlier run must not feed these workers
                workers: list[WorkerProcess] = []
                for n in range(args.workers):
                    workers.append(WorkerProcess(n, args.threads, sandbox.url, Path(logs)))
                    children.append(workers[-1])
                wait_for_workers(workers)
            sandbox.limits(enabled=not args.no_rate_limits)
            mode = (
                "serial, in process"
                if args.serial
                else f"{args.workers} workers x {args.threads} threads "
                + ("in this process" if IN_PROCESS else "in processes of their own")
            )
            store_name = args.budget_store if IN_PROCESS else "redis"
            print(
                f"Sandbox: {'in process' if IN_PROCESS else 'a server process'}, rate limits "
                f"{'off' if args.no_rate_limits else 'on'}; sync: {mode}; rate budget: {store_name}, sagemaker "
                f"{settings.AWS_RATE_BUDGETS['sagemaker']}; retries {RETRY_MODE}, {MAX_ATTEMPTS} attempts"
            )
            for account in ACCOUNTS:
                AwsAccount.objects.create(
                    account_id=account, name=f"LOB {account}", regions=REGIONS, role_arn=ROLE.format(account=account)
                )
            minimum = expected_calls(seeded, args.scale)
            parallel = not args.serial
            full = timed_sync(parallel, sandbox, children)
            report("full sync", full, sum(minimum.values()))
            again = timed_sync(parallel, sandbox, children)
            report("unchanged resync", again, resync_minimum(args.scale))
            full_run, again_run = full[0], again[0]
            print("\n== targets")
            # Each worker process assumes an account's role once and caches the credentials, so a role assumption
            # per account and worker process is the most there can be, and a resync may still find a worker that
            # had not needed an account yet.
            processes = 1 if IN_PROCESS else args.workers
            roles = minimum.pop("role assumptions")
            full_roles, again_roles = (run.aws_calls.get("sts:AssumeRole", 0) for run in (full_run, again_run))
            needed = full_run.aws_call_total - full_run.aws_throttled_total - full_roles
            print(
                f"   full sync calls = the minimum ({' + '.join(f'{n} {k}' for k, n in minimum.items())} = "
                f"{sum(minimum.values())}), throttled attempts and role assumptions aside: {needed} -> "
                f"{'met' if needed == sum(minimum.values()) else 'MISSED'}; role assumptions {full_roles} "
                f"(one per account per worker process: {roles} to {roles * processes}) -> "
                f"{'met' if roles <= full_roles <= roles * processes else 'MISSED'}"
            )
            resync_calls = again_run.aws_call_total - again_run.aws_throttled_total - again_roles
            print(
                f"   unchanged resync calls = listing pages only ({resync_minimum(args.scale)}), throttled attempts "
                f"and role assumptions ({again_roles}) aside: {resync_calls} -> "
                f"{'met' if resync_calls == resync_minimum(args.scale) else 'MISSED'}"
            )
            share = (full_run.aws_throttled_total + again_run.aws_throttled_total) / max(
                1, full_run.aws_call_total + again_run.aws_call_total
            )
            print(f"   calls throttled: {share:.2%} (target < 1%)")
            print(
                f"   unchanged resync writes 0 inventory rows: "
                f"{sum(again_run.total(o) for o in ('created', 'updated', 'removed'))}"
            )
    finally:
        budget.use(None)
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
