"""Benchmark: the governance engine over a large inventory, fully and after a sync that changed 1% of it.

Writes, straight into a throw-away database, 30 domains, 3,000 user profiles, 1,500 spaces and 4,000 apps (at
``--scale 1``) with the settings shapes the inventory sync stores, mixed so that every inventory check has work:
domains with and without idle shutdown, Studio Classic landings, generic and duplicate profile names, idle GPU apps,
missing tags. Then prints, each with its wall time and SQL statements:

- the first full evaluation (every finding opens);
- a second, unchanged full evaluation (the scheduled one, most days);
- an incremental evaluation after 1% of the profiles, spaces and apps changed (what follows a sync), all domains'
  changes in one call and, as the sync does it, one call per domain.

    python benchmarks/governance.py [--scale 1] [--runs 3]

Runs on the database DATABASE_URL names, so ``DATABASE_URL=postgres://... python benchmarks/governance.py``
measures PostgreSQL. The statement count must not grow with ``--scale``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from domains.models import AwsAccount, Domain  # noqa: E402
from governance import engine  # noqa: E402
from governance.models import Finding  # noqa: E402
from portal.registry import registry  # noqa: E402
from profiles.models import App, Space, UserProfile  # noqa: E402

ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
REGIONS = ["us-east-1", "eu-west-1"]


class Statements:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def idle(state: str, minutes: int | None) -> dict[str, Any]:
    settings: dict[str, Any] = {"LifecycleManagement": state}
    if minutes:
        settings["IdleTimeoutInMinutes"] = minutes
    return {"AppLifecycleManagement": {"IdleSettings": settings}}


def domain_snapshot(d: int, account: str) -> dict[str, Any]:
    """Every third domain enforces idle shutdown; every fifth lands in Studio Classic; every seventh has no KMS key;
    every other keeps a home EFS; some cap the idle timeout that spaces may set."""
    users: dict[str, Any] = {"ExecutionRole": f"arn:aws:iam::{account}:role/Exec{d}"}
    if d % 3 == 0:
        users["JupyterLabAppSettings"] = idle("ENABLED", 120)
        users["CodeEditorAppSettings"] = idle("ENABLED", 120)
    if d % 5 == 0:
        users["StudioWebPortal"] = "DISABLED"
        users["DefaultLandingUri"] = "app:JupyterServer:"
    snapshot: dict[str, Any] = {
        "DefaultUserSettings": users,
        "DefaultSpaceSettings": {"JupyterLabAppSettings": idle("ENABLED", 240 if d % 4 else 600)},
        "DomainSettings": {"DockerSettings": {"EnableDockerAccess": "ENABLED" if d % 6 == 0 else "DISABLED"}},
    }
    if d % 7:
        snapshot["KmsKeyId"] = f"arn:aws:kms:us-east-1:{account}:key/{d}"
    if d % 2 == 0:
        snapshot["HomeEfsFileSystemId"] = f"fs-{d:08d}"
    if d % 4 == 1:
        users["JupyterLabAppSettings"] = {
            "AppLifecycleManagement": {
                "IdleSettings": {
                    "LifecycleManagement": "ENABLED",
                    "IdleTimeoutInMinutes": 60,
                    "MaxIdleTimeoutInMinutes": 240,
                }
            }
        }
    return snapshot


def seed(scale: float) -> dict[str, int]:
    n_domains = max(1, round(30 * scale))
    per_domain = {"profiles": 100, "spaces": 50, "apps": 133}
    now = timezone.now()
    accounts = [AwsAccount.objects.create(account_id=a, name=f"account {a}") for a in ACCOUNTS]
    domains = []
    for d in range(n_domains):
        account = accounts[d % len(accounts)]
        region = REGIONS[d % len(REGIONS)]
        domain_id = f"d-bench{d:06d}"
        domains.append(
            Domain(
                account=account,
                region=region,
                domain_id=domain_id,
                arn=f"arn:aws:sagemaker:{region}:{account.account_id}:domain/{domain_id}",
                name=f"lob-{d}",
                status="InService",
                auth_mode="SSO" if d % 2 else "IAM",
                network_access_type="VpcOnly" if d % 4 else "PublicInternetOnly",
                settings_snapshot=domain_snapshot(d, account.account_id),
                tags=({"cost-center": f"cc-{d}"} if d % 3 else {})
                | ({"data-classification": "restricted"} if d % 8 == 0 else {}),
            )
        )
    Domain.objects.bulk_create(domains)
    profiles = []
    for domain in domains:
        for p in range(per_domain["profiles"]):
            name = ("team-shared" if p == 0 else f"person-{p}") if p % 40 else f"Person-{p - 1}"
            own: dict[str, Any] = {}
            if p % 10 == 1:
                own["JupyterLabAppSettings"] = idle("ENABLED", 600)  # over the cap
            if p % 25 == 2:
                own["StudioWebPortal"] = "DISABLED"
            profiles.append(
                UserProfile(
                    domain=domain,
                    name=name,
                    arn=f"{domain.arn.replace(':domain/', ':user-profile/')}/{name}",
                    status="InService",
                    sso_user_value=f"person{p}" if domain.auth_mode == "SSO" else "",
                    tags={"owner": f"p{p}@example.com", "sagemaker:domain-arn": domain.arn} if p % 9 else {},
                    settings_snapshot=own,
                )
            )
    UserProfile.objects.bulk_create(profiles, batch_size=1000)
    by_domain: dict[int, list[UserProfile]] = defaultdict(list)
    for profile in UserProfile.objects.only("pk", "domain_id", "name"):
        by_domain[profile.domain_id].append(profile)
    spaces = []
    for domain in domains:
        for s in range(per_domain["spaces"]):
            shared = s % 2 == 0
            owner = by_domain[domain.pk][s % len(by_domain[domain.pk])]
            snapshot: dict[str, Any] = {"AppType": "JupyterLab" if s % 3 else "CodeEditor"}
            if s % 8 in (0, 1):  # shared and private spaces with a timeout of their own
                snapshot["JupyterLabAppSettings"] = idle("ENABLED", 900)
                snapshot["JupyterLabAppSettings"]["AppLifecycleManagement"]["IdleSettings"].pop("LifecycleManagement")
            if s % 11 == 0:
                snapshot["RemoteAccess"] = "ENABLED"
            spaces.append(
                Space(
                    domain=domain,
                    name=f"space-{s}",
                    arn=f"{domain.arn.replace(':domain/', ':space/')}/space-{s}",
                    sharing_type="Shared" if shared else "Private",
                    owner_profile_name=owner.name,
                    owner_profile=owner,
                    app_type=snapshot["AppType"],
                    status="InService",
                    tags={"sagemaker:domain-arn": domain.arn} if s % 5 else {},
                    settings_snapshot=snapshot,
                )
            )
    Space.objects.bulk_create(spaces, batch_size=1000)
    space_rows: dict[int, list[Space]] = defaultdict(list)
    for space in Space.objects.only("pk", "domain_id", "name"):
        space_rows[space.domain_id].append(space)
    apps = []
    for domain in domains:
        for a in range(per_domain["apps"]):
            on_space = a % 3 == 0
            space = space_rows[domain.pk][a % len(space_rows[domain.pk])] if on_space else None
            profile = None if on_space else by_domain[domain.pk][a % len(by_domain[domain.pk])]
            app_type = "JupyterLab" if on_space else ("JupyterServer" if a % 4 == 1 else "KernelGateway")
            instance = "ml.g5.xlarge" if a % 17 == 0 else "ml.t3.medium"
            name = f"app-{a}"
            apps.append(
                App(
                    domain=domain,
                    space=space,
                    user_profile=profile,
                    space_name=space.name if space else "",
                    user_profile_name=profile.name if profile else "",
                    app_type=app_type,
                    name=name,
                    arn=f"{domain.arn.replace(':domain/', ':app/')}/{a}/{app_type.lower()}/{name}",
                    status="InService" if a % 13 else "Deleted",
                    instance_type=instance,
                    aws_created_at=now - timedelta(days=20),
                    last_user_activity=now - timedelta(hours=(a % 6) * 12),
                )
            )
    App.objects.bulk_create(apps, batch_size=1000)
    return {"domains": len(domains), "profiles": len(profiles), "spaces": len(spaces), "apps": len(apps)}


def change_one_percent(round_: int) -> dict[int, set[str]]:
    """Change 1% of the profiles, spaces and apps as a sync would store them; answer their ARNs per domain."""
    changed: dict[int, set[str]] = defaultdict(set)
    flip = "ENABLED" if round_ % 2 else "DISABLED"
    for profile in list(UserProfile.objects.order_by("pk")[round_ % 100 :: 100]):
        profile.settings_snapshot = {"JupyterLabAppSettings": idle(flip, 60)}
        profile.save(update_fields=["settings_snapshot"])
        changed[profile.domain_id].add(profile.arn)
    for space in list(Space.objects.order_by("pk")[round_ % 100 :: 100]):
        space.settings_snapshot = {**space.settings_snapshot, "RemoteAccess": flip}
        space.save(update_fields=["settings_snapshot"])
        changed[space.domain_id].add(space.arn)
    for app in list(App.objects.order_by("pk")[round_ % 100 :: 100]):
        app.last_user_activity = timezone.now() - timedelta(hours=48 if round_ % 2 else 1)
        app.save(update_fields=["last_user_activity"])
        changed[app.domain_id].add(app.arn)
    return changed


def timed(work: Any) -> tuple[float, int]:
    statements = Statements()
    started = time.perf_counter()
    with connection.execute_wrapper(statements):
        work()
    elapsed = time.perf_counter() - started
    return elapsed, statements.count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 30 domains, 3,000 profiles (default 1)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions of the steady and incremental runs")
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        started = time.perf_counter()
        counts = seed(args.scale)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(
            f"Seeded {counts['domains']} domains, {counts['profiles']} profiles, {counts['spaces']} spaces, "
            f"{counts['apps']} apps in {time.perf_counter() - started:.1f} s (database: {connection.vendor})"
        )
        first, first_sql = timed(engine.evaluate)
        findings = Finding.objects.filter(status="open").count()
        fired = set(Finding.objects.values_list("check_id", flat=True).distinct())
        checks = len(fired)
        silent = sorted(set(registry.checks) - fired)
        print(
            f"Full evaluation, first:      {first:7.2f} s  {first_sql:5d} statements  ({findings} open findings "
            f"from {checks} of {len(registry.checks)} checks{'; silent: ' + ', '.join(silent) if silent else ''})"
        )
        steady = [timed(engine.evaluate) for _ in range(args.runs)]
        print(
            f"Full evaluation, unchanged:  {statistics.median(t for t, _ in steady):7.2f} s  "
            f"{max(n for _, n in steady):5d} statements  (median of {args.runs})"
        )
        domains = {d.pk: d for d in Domain.objects.select_related("account")}
        together, per_domain = [], []
        for round_ in range(args.runs * 2):
            changed = change_one_percent(round_)
            if round_ % 2 == 0:
                arns = set().union(*changed.values())
                together.append(timed(lambda arns=arns: engine.evaluate(list(domains.values()), only_arns=arns)))
            else:

                def each(changed: dict[int, set[str]] = changed) -> None:
                    for pk, arns in changed.items():
                        engine.evaluate_changed(domains[pk], arns)

                elapsed, sql = timed(each)
                per_domain.append((elapsed / len(changed), sql / len(changed)))
        n_changed = len(set().union(*change_one_percent(0).values()))
        print(
            f"Incremental, {n_changed} resources changed (1%), one call:  "
            f"{statistics.median(t for t, _ in together):7.2f} s  {max(n for _, n in together):5d} statements"
        )
        print(
            f"Incremental, one call per domain (as a sync does): "
            f"{statistics.median(t for t, _ in per_domain) * 1000:7.0f} ms and "
            f"{max(n for _, n in per_domain):.0f} statements a domain"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
