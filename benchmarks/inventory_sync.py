"""Benchmark: a full inventory sync of a large organisation, an unchanged resync, and the bare boto3 floor.

Seeds the in-process AWS sandbox with 3 accounts x 2 regions, 30 domains, 3,000 user profiles, 1,500 spaces and
4,000 apps, then prints, for the full sync and the unchanged resync: wall time, AWS calls by operation, SQL
statements and rows written; and the wall time of a plain boto3 loop making the same calls (the floor).

    python benchmarks/inventory_sync.py [--scale 0.1] [--no-rate-limits]

Rate limits of the sandbox are on (its assumed defaults, with the portal's production retry settings:
adaptive mode, 8 attempts); ``--no-rate-limits`` measures without them.

Runs on the database DATABASE_URL names (a throw-away test database is created and dropped), so
``DATABASE_URL=postgres://... python benchmarks/inventory_sync.py`` measures PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

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
from portal.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, client_config, gateway  # noqa: E402
from portal.models import TaskRun  # noqa: E402

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


def seed(scale: float) -> dict[str, int]:
    domains_per_scope = max(1, round(5 * scale))
    profiles_per_domain, spaces_per_domain = max(1, round(100 * scale)), max(1, round(50 * scale))
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


def expected_calls(seeded: dict[str, int], scale: float) -> dict[str, int]:
    """The fewest calls a sync of a fresh inventory can make: every listing page, one describe per resource,
    one tag listing per domain, profile and space, one AssumeRole per account."""
    domains_per_scope = max(1, round(5 * scale))
    pages = len(ACCOUNTS) * len(REGIONS) * -(-domains_per_scope // PAGE)
    pages += sum(-(-n // PAGE) for counts in SEEDED_DOMAINS for n in counts)
    describes = seeded["domains"] + seeded["user_profiles"] + seeded["spaces"] + seeded["apps"]
    tags = seeded["domains"] + seeded["user_profiles"] + seeded["spaces"]
    return {"listing pages": pages, "describes": describes, "tag listings": tags, "role assumptions": len(ACCOUNTS)}


def timed_sync() -> tuple[TaskRun, float, StatementCounter]:
    counter = StatementCounter()
    run, _ = start_inventory_sync(trigger=TaskRun.Trigger.COMMAND, enqueue=False)
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        run_inventory_sync(run.pk, inline=True)
    elapsed = time.perf_counter() - started
    run.refresh_from_db()
    return run, elapsed, counter


def _pages(client: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**params, PaginationConfig={"PageSize": PAGE}):
        items += page.get(key, [])
    return items


def bare_floor() -> tuple[float, Counter[str]]:
    """The same listing and describe calls in a plain loop with no database: what no sync can beat."""
    made: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:  # once per call, however many attempts it took
        made[event_name.rsplit(".", 1)[-1]] += 1

    started = time.perf_counter()
    for account in ACCOUNTS:
        session = session_for(account)
        for region in REGIONS:
            client = session.client("sagemaker", region_name=region, config=client_config())
            client.meta.events.register("after-call.sagemaker", count)
            for domain in _pages(client, "list_domains", "Domains"):
                domain_id = domain["DomainId"]
                client.describe_domain(DomainId=domain_id)
                _pages(client, "list_tags", "Tags", ResourceArn=domain["DomainArn"])
                for profile in _pages(client, "list_user_profiles", "UserProfiles", DomainIdEquals=domain_id):
                    name = profile["UserProfileName"]
                    answer = client.describe_user_profile(DomainId=domain_id, UserProfileName=name)
                    _pages(client, "list_tags", "Tags", ResourceArn=answer["UserProfileArn"])
                for space in _pages(client, "list_spaces", "Spaces", DomainIdEquals=domain_id):
                    answer = client.describe_space(DomainId=domain_id, SpaceName=space["SpaceName"])
                    _pages(client, "list_tags", "Tags", ResourceArn=answer["SpaceArn"])
                for app in _pages(client, "list_apps", "Apps", DomainIdEquals=domain_id):
                    owner = (
                        {"SpaceName": app["SpaceName"]}
                        if app.get("SpaceName")
                        else {"UserProfileName": app["UserProfileName"]}
                    )
                    client.describe_app(DomainId=domain_id, AppType=app["AppType"], AppName=app["AppName"], **owner)
    return time.perf_counter() - started, made


def report(title: str, run: TaskRun, elapsed: float, sql: StatementCounter) -> None:
    rows = sum(run.total(o) for o in ("created", "updated", "removed"))
    listing_pages = sum(n for call, n in run.aws_calls.items() if ":List" in call and call != "sagemaker:ListTags")
    print(f"\n== {title}: run #{run.pk} {run.status} in {elapsed:.2f} s")
    print(f"   AWS calls: {run.aws_call_total}, of which throttled by the sandbox: {run.aws_throttled_total}")
    for call, n in sorted(run.aws_calls.items()):
        print(f"     {call:38s} {n:6d}")
    print(
        f"   SQL statements: {sql.statements} ({sql.writes} writes); per listing page: "
        f"{sql.statements / max(1, listing_pages):.1f}"
    )
    print(
        f"   inventory rows written: {rows} ({run.total('created')} created, {run.total('updated')} updated, "
        f"{run.total('removed')} removed); unchanged: {run.total('unchanged')}"
    )
    if run.errors:
        print(f"   ERRORS: {run.errors[:3]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 30 domains / 3,000 profiles (default)")
    parser.add_argument("--no-rate-limits", action="store_true", help="turn the sandbox's rate limits off")
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    settings.AWS_ENDPOINT_URL = None
    settings.AWS_MAX_ATTEMPTS = 3
    if not args.no_rate_limits:
        settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = "adaptive", 8
    try:
        with awssandbox.running():
            gateway().clear()
            started = time.perf_counter()
            seeded = seed(args.scale)
            print(f"Seeded {seeded} in {time.perf_counter() - started:.1f} s (database: {connection.vendor})")
            limits.registry.configure(enabled=not args.no_rate_limits)  # on after seeding, which is not measured
            print(f"Sandbox rate limits: {'off' if args.no_rate_limits else 'on'}")
            for account in ACCOUNTS:
                AwsAccount.objects.create(
                    account_id=account, name=f"LOB {account}", regions=REGIONS, role_arn=ROLE.format(account=account)
                )
            warm_s, _ = bare_floor()  # a first pass loads botocore's models and moto's code for both contenders
            print(f"(warm-up pass of the bare loop: {warm_s:.2f} s)")
            full, full_s, full_sql = timed_sync()
            report("full sync", full, full_s, full_sql)
            again, again_s, again_sql = timed_sync()
            report("unchanged resync", again, again_s, again_sql)
            floor_s, made = bare_floor()
            succeeded = Counter(full.aws_calls)
            succeeded.subtract(full.aws_throttled)  # each throttled attempt was made again
            same = made == Counter(
                {call.split(":", 1)[1]: n for call, n in succeeded.items() if call.startswith("sagemaker:") and n}
            )
            print(
                f"\n== bare boto3 loop: {sum(made.values())} calls ({'the same' if same else 'NOT the same'} "
                f"as the full sync's SageMaker calls) in {floor_s:.2f} s"
            )
            minimum = expected_calls(seeded, args.scale)
            print("\n== targets")
            needed = full.aws_call_total - full.aws_throttled_total
            print(
                f"   full sync calls = the minimum ({' + '.join(f'{n} {k}' for k, n in minimum.items())} = "
                f"{sum(minimum.values())}), throttled attempts aside: {needed} -> "
                f"{'met' if needed == sum(minimum.values()) else 'MISSED'}"
            )
            listing_pages = minimum["listing pages"]
            print(
                f"   unchanged resync calls = listing pages only ({listing_pages}), throttled attempts aside: "
                f"{again.aws_call_total - again.aws_throttled_total} -> "
                f"{'met' if again.aws_call_total - again.aws_throttled_total == listing_pages else 'MISSED'}"
            )
            print(
                f"   SQL statements per listing page: full {full_sql.statements / listing_pages:.1f}, "
                f"resync {again_sql.statements / listing_pages:.1f} (bounded: no statement per resource)"
            )
            print(
                f"   unchanged resync writes 0 inventory rows: "
                f"{again.total('created') + again.total('updated') + again.total('removed')}"
            )
            print(f"   full sync / bare floor: {full_s / floor_s:.2f}x (target <= 1.3x)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
