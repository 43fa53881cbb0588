"""Benchmark: a full inventory sync of a large organisation at the pace AWS allows, and an unchanged resync.

Seeds the in-process AWS sandbox with 3 accounts x 2 regions, 30 domains, 3,000 user profiles, 1,500 spaces and
4,000 apps (``--profiles-scale 10``: 30,000 profiles), switches the sandbox's rate limits on (its assumed AWS limits:
SageMaker reads 20/s, burst 40, per account and region) and runs the sync the way production does: the run's
account-region and domain tasks go to real Celery workers (``--workers`` of them, each a thread pool of
``--threads``; in this process, on Celery's in-memory broker, so they share the in-process sandbox), every AWS call
paced by the portal's rate budget (``AWS_RATE_BUDGETS``; ``--budget-store redis`` keeps it in Redis db 13 as
several machines would). ``--serial`` runs it in process, one step after another, instead.

For the full sync and the unchanged resync it prints: wall time against the floor (the busiest account-region's
calls divided by its rate), the AWS calls by operation and by kind of resource against the minimum (listing pages,
tag pages, describes of changed resources, role assumptions), the share of calls throttled, SQL statements and
rows written.

    DATABASE_URL=postgres://postgres@127.0.0.1/portal_syncscale python benchmarks/inventory_sync.py \
        [--scale 1] [--profiles-scale 10] [--workers 2 --threads 16 | --serial] [--budget-store local|redis]
        [--no-rate-limits]

Parallel workers need PostgreSQL (SQLite takes one writer at a time). A throw-away test database is created from
DATABASE_URL and dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
# The workers run in this process (they must share the in-process sandbox): Celery's in-memory broker carries the
# run's tasks between them.
os.environ["CELERY_BROKER_URL"] = "memory://"

import django  # noqa: E402

django.setup()

import boto3  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

import awssandbox  # noqa: E402
from awssandbox import limits  # noqa: E402
from awssandbox.network import domain_network  # noqa: E402
from domains.models import AwsAccount  # noqa: E402
from domains.sync import run_inventory_sync, start_inventory_sync  # noqa: E402
from portal.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, TAGGING_BATCH, gateway  # noqa: E402
from portal.models import TaskRun  # noqa: E402
from portal.ratebudget import DEFAULT_SIZES, LocalStore, RedisStore, budget, parse_sizes  # noqa: E402

ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
REGIONS = ["us-east-1", "eu-west-1"]
ROLE = "arn:aws:iam::{account}:role/SageMakerGovernancePortal"
PAGE = 100


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
    creds = base.client("sts", region_name="us-east-1").assume_role(
        RoleArn=ROLE.format(account=account), RoleSessionName="bench"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def seed(scale: float, profiles_scale: float = 1.0) -> dict[str, int]:
    domains_per_scope = max(1, round(5 * scale))
    profiles_per_domain = max(1, round(100 * scale * profiles_scale))
    spaces_per_domain = max(1, round(50 * scale))
    profile_apps = round(2500 * scale)  # with one app per space: 4,000 apps at scale 1
    counts: Counter[str] = Counter()
    per_domain: list[tuple[int, int, int]] = []  # (profiles, spaces, apps) of each domain, for the call minimum
    for account in ACCOUNTS:
        session = session_for(account)
        for region in REGIONS:
            client = session.client("sagemaker", region_name=region)
            network = domain_network(account, region, "lob", 0)  # CreateDomain checks the VPC and subnets exist
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
                apps_before = counts["apps"]
                for p in range(profiles_per_domain):
                    name = f"person-{p}"
                    client.create_user_profile(
                        DomainId=domain_id, UserProfileName=name, Tags=[{"Key": "owner", "Value": f"p{p}@example.com"}]
                    )
                    counts["user_profiles"] += 1
                    if counts["profile_apps"] < profile_apps:
                        client.create_app(
                            DomainId=domain_id,
                            UserProfileName=name,
                            AppType="JupyterServer",
                            AppName="default",
                            ResourceSpec={"InstanceType": "system"},
                        )
                        counts["apps"] += 1
                        counts["profile_apps"] += 1
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
                per_domain.append((profiles_per_domain, spaces_per_domain, counts["apps"] - apps_before))
    counts.pop("profile_apps")
    SEEDED_DOMAINS[:] = per_domain
    return dict(counts)


SEEDED_DOMAINS: list[tuple[int, int, int]] = []


def _pages(n: int, size: int = PAGE) -> int:
    return max(1, math.ceil(n / size))


def expected_calls(seeded: dict[str, int], scale: float) -> dict[str, int]:
    """The fewest calls a sync of a fresh inventory can make: every listing page; one describe per domain, profile
    and space (ListApps says all but an app's activity); tag pages of 100 ARNs per kind per domain (the domains':
    per account-region); one AssumeRole per account."""
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


def wait_for(run: TaskRun, timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if not run.is_active:
            return
        time.sleep(0.05)
    raise SystemExit(f"run #{run.pk} did not finish within {timeout} s")


CPU: dict[int, float] = {}  # run id -> CPU seconds this process spent on it (every thread)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_sync(parallel: bool) -> tuple[TaskRun, float, StatementCounter]:
    counter = StatementCounter()
    cpu_before = _cpu()
    limits.registry.configure()  # full buckets and fresh per-bucket counts for this sync
    run, _ = start_inventory_sync(trigger=TaskRun.Trigger.COMMAND, enqueue=parallel)
    started = time.perf_counter()
    if parallel:  # the workers' threads run the SQL; only the per-statement count of the serial run is exact
        wait_for(run)
    else:
        with connection.execute_wrapper(counter):
            run_inventory_sync(run.pk, inline=True)
    elapsed = time.perf_counter() - started
    CPU[run.pk] = _cpu() - cpu_before
    run.refresh_from_db()
    return run, elapsed, counter


def busiest_scope() -> tuple[str, int, int, float]:
    """The sandbox's busiest (account, region, service) bucket in this sync: its name, calls let through, calls
    throttled and its rate."""
    described = limits.registry.describe()
    rates = {(lim["service"], lim["family"]): lim["rate"] for lim in described["limits"]}
    best = max(described["buckets"], key=lambda b: (b["allowed"] + b["throttled"]) / rates[(b["service"], b["family"])])
    name = f"{best['account']} {best['region']} {best['service']}/{best['family']}"
    return name, best["allowed"], best["throttled"], rates[(best["service"], best["family"])]


def report(title: str, run: TaskRun, elapsed: float, sql: StatementCounter | None, minimum: int) -> None:
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
    if sql is not None and sql.statements:
        print(f"   SQL statements: {sql.statements} ({sql.writes} writes)")
    print(
        f"   inventory rows written: {rows} ({run.total('created')} created, {run.total('updated')} updated, "
        f"{run.total('removed')} removed); unchanged: {run.total('unchanged')}"
    )
    if run.errors:
        print(f"   ERRORS: {run.errors[:3]}")
    cpu = CPU.get(run.pk, 0.0)
    print(
        f"   CPU of this process (sandbox, workers, database client): {cpu:.1f} s = {cpu / elapsed:.2f} cores busy "
        f"on average; machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    if limits.registry.enabled:
        name, allowed, throttled, rate = busiest_scope()
        floor = (allowed + throttled) / rate
        budget_rate = settings.AWS_RATE_BUDGETS["sagemaker"].rate
        print(
            f"   floor: the busiest account-region ({name}) made {allowed + throttled} calls at {rate:g}/s = "
            f"{floor:.2f} s; wall time / floor = {elapsed / floor:.2f}x (target <= 1.15x); at the budget's own "
            f"{budget_rate:g}/s: {(allowed + throttled) / budget_rate:.2f} s"
        )


@contextlib.contextmanager
def workers(count: int, threads: int):  # type: ignore[no-untyped-def]
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
    parser.add_argument("--serial", action="store_true", help="run the steps one after another in process")
    parser.add_argument("--budget-store", choices=("local", "redis"), default="local")
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    settings.AWS_ENDPOINT_URL = None
    settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = "adaptive", 8  # production's retry settings
    # Production's budget (the settings' defaults and AWS_RATE_BUDGETS), not the test suite's unbounded one.
    settings.AWS_RATE_BUDGETS = {**parse_sizes(DEFAULT_SIZES), **parse_sizes(os.environ.get("AWS_RATE_BUDGETS", ""))}
    if args.budget_store == "redis":
        store = RedisStore("redis://127.0.0.1:6379/13", prefix="bench-budget:")
        store.clear()
        budget.use(store)
    else:
        budget.use(LocalStore())
    parallel = not args.serial
    try:
        with awssandbox.running(), workers(args.workers, args.threads) if parallel else contextlib.nullcontext():
            gateway().clear()
            settings.AWS_RATE_BUDGET = False  # seeding is not the portal's, and not measured
            started = time.perf_counter()
            seeded = seed(args.scale, args.profiles_scale)
            settings.AWS_RATE_BUDGET = True
            print(f"Seeded {seeded} in {time.perf_counter() - started:.1f} s (database: {connection.vendor})")
            limits.registry.configure(enabled=not args.no_rate_limits)
            mode = "serial, in process" if args.serial else f"{args.workers} workers x {args.threads} threads"
            print(
                f"Sandbox rate limits: {'off' if args.no_rate_limits else 'on'}; sync: {mode}; rate budget: "
                f"{args.budget_store}, sagemaker {settings.AWS_RATE_BUDGETS['sagemaker']}"
            )
            for account in ACCOUNTS:
                AwsAccount.objects.create(
                    account_id=account, name=f"LOB {account}", regions=REGIONS, role_arn=ROLE.format(account=account)
                )
            minimum = expected_calls(seeded, args.scale)
            full, full_s, full_sql = timed_sync(parallel)
            report("full sync", full, full_s, full_sql, sum(minimum.values()))
            again, again_s, again_sql = timed_sync(parallel)
            report("unchanged resync", again, again_s, again_sql, resync_minimum(args.scale))
            print("\n== targets")
            needed = full.aws_call_total - full.aws_throttled_total
            print(
                f"   full sync calls = the minimum ({' + '.join(f'{n} {k}' for k, n in minimum.items())} = "
                f"{sum(minimum.values())}), throttled attempts aside: {needed} -> "
                f"{'met' if needed == sum(minimum.values()) else 'MISSED'}"
            )
            resync_calls = again.aws_call_total - again.aws_throttled_total
            print(
                f"   unchanged resync calls = listing pages only ({resync_minimum(args.scale)}), throttled attempts "
                f"aside: {resync_calls} -> {'met' if resync_calls == resync_minimum(args.scale) else 'MISSED'}"
            )
            share = (full.aws_throttled_total + again.aws_throttled_total) / max(
                1, full.aws_call_total + again.aws_call_total
            )
            print(f"   calls throttled: {share:.2%} (target < 1%)")
            print(
                f"   unchanged resync writes 0 inventory rows: "
                f"{again.total('created') + again.total('updated') + again.total('removed')}"
            )
    finally:
        budget.use(None)
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
