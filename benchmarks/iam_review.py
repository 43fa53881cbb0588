"""Benchmark: the IAM review over 3,000 profiles served by 60 execution roles, against the in-process sandbox.

Writes 30 domains (3 accounts x 2 regions) with 100 profiles and 10 spaces each straight into a throw-away database,
and 60 roles into the sandbox's IAM: each domain's default role (AmazonSageMakerFullAccess, or a domain-isolation
policy on every third domain) and a team role that every fourth profile overrides with (full access and an
instance-type deny). Every fifth profile hides Canvas, Endpoints and two instance types. Then prints, each with its
wall time and IAM calls by operation:

- the first review (every role read, every probe simulated), with the SimulatePrincipalPolicy calls against the
  minimum: one call a role, domain and probe context (a context is a call's unit: its actions and resources go in
  one call);
- a second review of the unchanged roles (no simulation at all);
- the governance evaluation of the IAM checks' findings (the checks read what the review stored).

    python benchmarks/iam_review.py [--scale 1]

The calls must grow with roles, not with profiles.
"""

from __future__ import annotations

import argparse
import json
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

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

import awssandbox  # noqa: E402
from awssandbox import iam as sandbox_iam  # noqa: E402
from awssandbox import iamseed  # noqa: E402
from domains.models import AwsAccount, Domain  # noqa: E402
from governance import engine  # noqa: E402
from governance.models import Finding  # noqa: E402
from iamaccess import probes as probing  # noqa: E402
from iamaccess import review  # noqa: E402
from iamaccess.models import ExecutionRole  # noqa: E402
from portal.aws import gateway  # noqa: E402
from portal.models import TaskRun  # noqa: E402
from profiles.models import Space, UserProfile  # noqa: E402

ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
REGIONS = ["us-east-1", "eu-west-1"]
PORTAL_ROLE = "arn:aws:iam::{account}:role/SageMakerGovernancePortal"
HIDDEN = {
    "HiddenAppTypes": ["Canvas"],
    "HiddenMlTools": ["Endpoints", "AutoMl"],
    "HiddenInstanceTypes": ["ml.p3.2xlarge", "ml.g5.12xlarge"],
}


def make_role(account: str, name: str, *, isolation_for: str | None = None, instance_deny: bool = False) -> str:
    backend = sandbox_iam.backend(account)
    full_access = sandbox_iam.ensure_aws_managed_policy(backend, iamseed.FULL_ACCESS)
    backend.create_role(name, iamseed.SAGEMAKER_TRUST, "/", None, "", [], None)
    if isolation_for:
        policy = backend.create_policy("", "/", iamseed.domain_isolation(isolation_for), f"{name}Isolation", [])
        backend.attach_role_policy(policy.arn, name)
    else:
        backend.attach_role_policy(full_access.arn, name)
    if instance_deny:
        backend.put_role_policy(name, "ApprovedInstanceTypes", iamseed.instance_type_deny())
    return f"arn:aws:iam::{account}:role/{name}"


def seed(scale: float) -> dict[str, int]:
    n_domains = max(1, round(30 * scale))
    accounts = {
        a: AwsAccount.objects.create(
            account_id=a, name=f"LOB {a}", regions=REGIONS, role_arn=PORTAL_ROLE.format(account=a)
        )
        for a in ACCOUNTS
    }
    domains, profiles, spaces = [], [], []
    for d in range(n_domains):
        account = ACCOUNTS[d % len(ACCOUNTS)]
        region = REGIONS[d % len(REGIONS)]
        domain_id = f"d-bench{d:06d}"
        arn = f"arn:aws:sagemaker:{region}:{account}:domain/{domain_id}"
        default = make_role(account, f"Lob{d}Execution", isolation_for=arn if d % 3 == 0 else None)
        team = make_role(account, f"Lob{d}TeamExecution", instance_deny=True)
        domain = Domain(
            account=accounts[account],
            region=region,
            domain_id=domain_id,
            arn=arn,
            name=f"lob-{d}",
            status="InService",
            settings_snapshot={
                "DefaultUserSettings": {"ExecutionRole": default},
                "DefaultSpaceSettings": {"ExecutionRole": default},
            },
        )
        domains.append((domain, team))
    Domain.objects.bulk_create([d for d, _ in domains])
    for domain, team in domains:
        for p in range(100):
            own: dict[str, Any] = {}
            if p % 4 == 0:
                own["ExecutionRole"] = team
            if p % 5 == 0:
                own["StudioWebPortalSettings"] = HIDDEN
            profiles.append(
                UserProfile(
                    domain=domain,
                    name=f"person-{p}",
                    arn=f"{domain.arn.replace(':domain/', ':user-profile/')}/person-{p}",
                    status="InService",
                    settings_snapshot=own,
                )
            )
    UserProfile.objects.bulk_create(profiles, batch_size=1000)
    owners = {(p.domain_id, p.name): p for p in UserProfile.objects.only("pk", "domain_id", "name")}
    for domain, _ in domains:
        for s in range(10):
            owner = owners[(domain.pk, f"person-{s}")]
            spaces.append(
                Space(
                    domain=domain,
                    name=f"space-{s}",
                    arn=f"{domain.arn.replace(':domain/', ':space/')}/space-{s}",
                    sharing_type="Shared" if s % 2 else "Private",
                    owner_profile=owner,
                    owner_profile_name=owner.name,
                    status="InService",
                )
            )
    Space.objects.bulk_create(spaces, batch_size=1000)
    return {"domains": len(domains), "profiles": len(profiles), "spaces": len(spaces), "roles": 2 * len(domains)}


def minimum_simulations() -> int:
    """One call a role, domain and probe context, with a second page where a context's answers pass 1,000."""
    targets = review.targets_of(list(ExecutionRole.objects.values_list("pk", flat=True)))
    calls = 0
    for role_targets in targets.values():
        for target in role_targets:
            groups: Counter[str] = Counter()
            actions: dict[str, set[str]] = {}
            resources: dict[str, set[str]] = {}
            for probe in probing.probes_for(target):
                groups[probe.group] += 1
                actions.setdefault(probe.group, set()).add(probe.action)
                resources.setdefault(probe.group, set()).add(probe.resource)
            for group in groups:
                answers = len(actions[group]) * len(resources[group])
                calls += -(-answers // 1000)
    return calls


def timed_review() -> tuple[TaskRun, float]:
    started = time.perf_counter()
    run, _ = review.start_review(trigger=TaskRun.Trigger.COMMAND, inline=True)
    return run, time.perf_counter() - started


def report(label: str, run: TaskRun, seconds: float) -> None:
    calls = {k.split(":", 1)[1]: v for k, v in sorted(run.aws_calls.items()) if k.startswith("iam:")}
    print(
        f"{label}: {seconds:6.2f} s, {run.get_status_display()}, IAM calls {sum(calls.values())}: {json.dumps(calls)}"
    )
    if run.errors:
        print(f"   ERRORS: {run.errors[:3]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 30 domains, 3,000 profiles, 60 roles")
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    settings.AWS_ENDPOINT_URL = None
    try:
        with awssandbox.running():
            gateway().clear()
            started = time.perf_counter()
            seeded = seed(args.scale)
            print(f"Seeded {seeded} in {time.perf_counter() - started:.1f} s (database: {connection.vendor})")
            first, first_s = timed_review()
            report("First review", first, first_s)
            made = first.aws_calls.get("iam:SimulatePrincipalPolicy", 0)
            print(
                f"   SimulatePrincipalPolicy: {made} calls, minimum {minimum_simulations()} ({seeded['roles']} roles)"
            )
            again, again_s = timed_review()
            report("Second review, roles unchanged", again, again_s)
            started = time.perf_counter()
            engine.evaluate()
            evaluated = time.perf_counter() - started
            found = Counter(
                Finding.objects.filter(
                    status="open", check_id__in=["SE-05", "SE-06", "SE-07", "SE-08", "TG-01"]
                ).values_list("check_id", flat=True)
            )
            print(
                f"Governance evaluation (every check, IAM ones from stored answers): {evaluated:6.2f} s; {dict(found)}"
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
