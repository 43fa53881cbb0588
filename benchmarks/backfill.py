"""Benchmark: the tag backfill against the seed's one-call-a-second loop, on legacy resources in the sandbox.

Seeds the demo organisation with ``--size`` legacy resources (default 10,000), syncs the inventory, switches the
sandbox's rate limits on, then in one run:

1. discovers them (``backfill.discovery``, every account and region) and adds the admin's name and S3 prefix rules;
2. runs the seed's algorithm (the AWS blog's shell loop: one SageMaker ``AddTags`` per resource, then a 1-second
   sleep) on ``--seed-sample`` attributable resources (default 100);
3. plans the backfill (dry run), approves it and applies it with the wizard, timed.

It prints the resources tagged per second by each, the AWS calls the wizard made against the minimum (discovery's
pages plus ceil(N / 20) ``TagResources``; retries count), the ``GetResources`` reads on top of it (before tagging,
so nothing is overwritten, and the verify after) with the ratio with and without them, and the overwrites and
duplicates (both must be 0).

    python benchmarks/backfill.py [--size 10000] [--seed-sample 100]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

import awssandbox  # noqa: E402
from awssandbox import legacy, limits, organisation  # noqa: E402
from backfill import discovery, wizard  # noqa: E402
from backfill.models import DOMAIN_TAG, AttributionRule, BackfillItem, LegacyResource  # noqa: E402
from domains import demo as domains_demo  # noqa: E402
from domains.models import AwsAccount, Domain  # noqa: E402
from portal.aws import gateway  # noqa: E402
from portal.demo import ensure_demo_users  # noqa: E402
from portal.models import AuditEvent, TaskRun  # noqa: E402
from portal.roles import do_assign_role  # noqa: E402
from portal.sandboxing import demo_inputs  # noqa: E402

DISCOVERY_PAGES = ("Search", "ListModels", "ListEndpointConfigs", "ListProcessingJobs", "GetResources")


def calls_of(run: TaskRun, operations: tuple[str, ...]) -> int:
    return sum(n for key, n in run.aws_calls.items() if key.split(":", 1)[1] in operations)


def retried_of(run: TaskRun, operations: tuple[str, ...]) -> int:
    return sum(n for key, n in run.aws_retried.items() if key.split(":", 1)[1] in operations)


def seed_loop(sample: list[LegacyResource]) -> float:
    """The blog's loop: AddTags on one resource, sleep 1 s, next. Answers the seconds it took."""
    started = time.perf_counter()
    for resource in sample:
        account = AwsAccount.objects.get(account_id=resource.account_id)
        client = gateway().sagemaker(region=resource.region, account=account.access)
        client.add_tags(ResourceArn=resource.arn, Tags=[{"Key": DOMAIN_TAG, "Value": resource.domain_arn}])
        time.sleep(1)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="legacy resources to seed (default 10000)")
    parser.add_argument("--seed-sample", type=int, default=100, help="resources the seed's loop tags (default 100)")
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    settings.AWS_ENDPOINT_URL = None
    settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = "adaptive", 8  # the portal's production retry settings
    try:
        with awssandbox.running():
            gateway().clear()
            started = time.perf_counter()
            organisation.seed(demo_inputs(), date.today(), with_costs=False)
            manifest = legacy.seed(args.size)
            ensure_demo_users()
            domains_demo.setup_demo(lambda message: None)
            print(f"Seeded {manifest['count']} legacy resources and synced in {time.perf_counter() - started:.1f} s")
            limits.registry.configure(enabled=True)
            print("Sandbox rate limits: on (its assumed defaults)")

            started = time.perf_counter()
            found, _ = discovery.start_discovery(trigger=TaskRun.Trigger.COMMAND, inline=True)
            domains = {d.arn: d for d in Domain.objects.all()}
            for kind, prefixes in (("name-prefix", manifest["name_prefixes"]), ("s3-prefix", manifest["s3_prefixes"])):
                for arn, prefix in prefixes.items():
                    AttributionRule.objects.create(kind=kind, prefix=prefix, domain=domains[arn])
            discovery.attribute_all()
            pages = calls_of(found, DISCOVERY_PAGES)
            print(
                f"Discovery: {LegacyResource.objects.count()} resources in {time.perf_counter() - started:.1f} s, "
                f"{found.aws_call_total} calls ({pages} pages, "
                f"{found.aws_call_total - pages - found.aws_throttled_total} Describe, "
                f"{found.aws_throttled_total} throttled attempts)"
            )

            sample = list(LegacyResource.objects.filter(coverage="attributable").order_by("?")[: args.seed_sample])
            seed_seconds = seed_loop(sample)
            seed_rate = len(sample) / seed_seconds

            admin = get_user_model().objects.create(username="bench-admin", is_superuser=True)
            approver = get_user_model().objects.create(username="bench-approver")
            do_assign_role(approver, "domain_approver", domain_arn="", actor="benchmark")
            plan = wizard.do_plan(admin)
            wizard.do_approve(approver, plan)
            started = time.perf_counter()
            run = wizard.do_apply(admin, plan, inline=True)
            seconds = time.perf_counter() - started
            statuses = Counter(plan.items.values_list("status", flat=True))
            tagged = statuses[BackfillItem.Status.TAGGED]
            wizard_rate = tagged / seconds

            tag_calls = calls_of(run, ("TagResources",))
            reads = calls_of(run, ("GetResources",))
            steps = plan.counts["chunks"]
            page_attempts = calls_of(found, DISCOVERY_PAGES)
            page_retries = retried_of(found, DISCOVERY_PAGES)
            pages = page_attempts - page_retries  # distinct pages: the minimum counts each once
            describes = found.aws_call_total - page_attempts
            minimum = pages + math.ceil(tagged / 20)
            # TagResources carries one tag value and its client one account and region: a call per 20 ARNs of each
            # (account, region, domain), the least any backfill can make.
            groups = Counter(
                plan.items.filter(status=BackfillItem.Status.TAGGED).values_list("account_id", "region", "domain_arn")
            )
            grouped_minimum = pages + sum(math.ceil(n / 20) for n in groups.values())
            made = page_attempts + tag_calls
            tagged_arns = Counter(
                arn
                for event in AuditEvent.objects.filter(action="backfill_batch.applied")
                for arn in event.after["arns"]
                if arn not in event.after["failed"]
            )
            duplicates = sum(n - 1 for n in tagged_arns.values() if n > 1)
            overwrites = plan.items.filter(status=BackfillItem.Status.CONFLICT, resource__tags__has_key=DOMAIN_TAG)
            overwritten = sum(1 for item in overwrites if item.resource.tags.get(DOMAIN_TAG) == item.domain_arn)
            print(f"\n== seed's loop: {len(sample)} resources in {seed_seconds:.1f} s: {seed_rate:.2f} resources/s")
            print(
                f"== wizard: {tagged} tagged ({statuses[BackfillItem.Status.ALREADY]} already right, "
                f"{statuses[BackfillItem.Status.CONFLICT]} conflicts left, "
                f"{statuses[BackfillItem.Status.FAILED]} failed) in {seconds:.1f} s: {wizard_rate:.1f} resources/s"
            )
            print("\n== targets")
            print(
                f"   rate: {wizard_rate / seed_rate:.0f}x the seed's (target >= 100x) -> "
                f"{'met' if wizard_rate >= 100 * seed_rate else 'MISSED'}"
            )
            over = 100 * (made - minimum) / minimum
            over_reads = 100 * (made + reads - minimum) / minimum
            print(
                f"   calls: {made} = {page_attempts} discovery page calls ({page_retries} of them retries) + "
                f"{tag_calls} TagResources ({retried_of(run, ('TagResources',))} retries); minimum {minimum} "
                f"({pages} pages + ceil({tagged} / 20)): {over:.1f}% over (target <= 5%) -> "
                f"{'met' if made <= minimum * 1.05 else 'MISSED'}"
            )
            print(
                f"     TagResources against its own least ({len(groups)} account/region/domain groups, 20 ARNs a call "
                f"each): {tag_calls} made, {grouped_minimum - pages} least"
            )
            print(
                f"   + {reads} GetResources, 100 ARNs a call, on top of that minimum and unavoidable: {steps} read(s) "
                f"before tagging (a step never overwrites a value set since the dry run, and checks the 50-tag limit, "
                f"so it reads right before it writes) and {reads - steps} verify re-read(s) after (the issue's "
                f"Verify step; skipped where a step wrote nothing)"
            )
            print(f"     with them: {made + reads} calls, {over_reads:.1f}% over the minimum; without them {over:.1f}%")
            print(
                f"   (discovery also made {describes} Describe calls, once per listed model, endpoint config and "
                f"processing job for the role, S3 locations and lineage that List omits; never repeated by an "
                f"incremental discovery; outside the minimum as the issue defines it)"
            )
            print(f"   overwrites: {overwritten}, duplicates: {duplicates} (target 0 and 0)")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
