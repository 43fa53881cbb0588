"""Benchmark: the spend dashboard on a large bill, and the Cost Explorer requests of a 13-month ingestion.

1. Dashboard: 13 months x 30 domains x 3,000 profiles of daily cost records (about 1.2 million rows) and their
   rollups, then the dashboard's server time (median and p95 over repeated requests by a finance login) and its SQL
   statement count; the same at a tenth of the size.
2. Ingestion: the sandbox's Cost Explorer seeded with 13 months of line items, one ingestion, and the requests it
   made against the minimum the page size allows (one tag check plus the pages of the two queries).

    DATABASE_URL=postgres://... python benchmarks/costs_dashboard.py [--requests 30] [--ingest-profiles 300]
        [--no-rate-limits]

Rate limits of the sandbox are on (its assumed defaults, with the portal's production retry settings:
adaptive mode, 8 attempts); ``--no-rate-limits`` measures without them.

Runs on a throw-away test database of the one DATABASE_URL names (PostgreSQL is what the figures are for).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

import awssandbox  # noqa: E402
from awssandbox import limits  # noqa: E402
from awssandbox.ce import LineItem, add_line_items, cost_state  # noqa: E402
from costs.ingest import history_start, rebuild_rollups, start_cost_ingestion  # noqa: E402
from costs.models import DOMAIN_TAG, PROFILE_TAG, CostRecord, SpendRollup  # noqa: E402
from domains.models import AwsAccount, Domain  # noqa: E402
from portal.aws import gateway  # noqa: E402
from portal.roles import do_assign_role  # noqa: E402
from profiles.models import UserProfile  # noqa: E402

PAYER = "123456789012"
DOMAINS = 30


def build(profiles: int) -> tuple[AwsAccount, date, date]:
    SpendRollup.objects.all().delete()
    CostRecord.objects.all().delete()
    UserProfile.objects.all().delete()
    Domain.objects.all().delete()
    AwsAccount.objects.all().delete()
    payer = AwsAccount.objects.create(account_id=PAYER, name="Payer", regions=["us-east-1"], is_payer=True)
    domains = Domain.objects.bulk_create(
        [
            Domain(
                account=payer,
                region="us-east-1",
                domain_id=f"d-{n:012d}",
                name=f"lob-{n:02d}",
                status="InService",
                arn=f"arn:aws:sagemaker:us-east-1:{PAYER}:domain/d-{n:012d}",
            )
            for n in range(DOMAINS)
        ]
    )
    UserProfile.objects.bulk_create(
        [
            UserProfile(
                domain=domains[n % DOMAINS],
                name=f"person-{n}",
                status="InService",
                arn=f"{domains[n % DOMAINS].arn.replace(':domain/', ':user-profile/')}/person-{n}",
            )
            for n in range(profiles)
        ],
        batch_size=5000,
    )
    today = timezone.localdate()
    start, end = history_start(today), today
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO costs_costrecord (payer_id, day, grain, domain_arn, member_arn, domain_id,
                    user_profile_id, space_id, metric, amount, currency, estimated)
                SELECT %s, d::date, 'profile', dom.arn, p.arn, dom.id, p.id, NULL, 'UnblendedCost',
                       round((random() * 4 + 0.05)::numeric, 6), 'USD', d::date >= date_trunc('month', %s::date)
                FROM generate_series(%s::date, %s::date - 1, interval '1 day') AS d
                CROSS JOIN profiles_userprofile p JOIN domains_domain dom ON dom.id = p.domain_id
                """,
                [payer.pk, today, start, end],
            )
    else:
        records = []
        for profile in UserProfile.objects.select_related("domain"):
            day = start
            while day < end:
                records.append(
                    CostRecord(
                        payer=payer,
                        day=day,
                        grain="profile",
                        domain_arn=profile.domain.arn,
                        member_arn=profile.arn,
                        domain=profile.domain,
                        user_profile=profile,
                        amount=Decimal("1.5"),
                    )
                )
                day += timedelta(days=1)
        CostRecord.objects.bulk_create(records, batch_size=5000)
    inserted = time.perf_counter() - started
    started = time.perf_counter()
    rebuild_rollups(payer, start, end)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does after a load: fresh statistics for the planner
            cursor.execute("VACUUM ANALYZE costs_costrecord")
            cursor.execute("VACUUM ANALYZE costs_spendrollup")
    print(
        f"   {CostRecord.objects.count():,} cost records in {inserted:.1f} s; "
        f"{SpendRollup.objects.count():,} rollups rebuilt in {time.perf_counter() - started:.1f} s"
    )
    return payer, start, end


def measure_dashboard(requests: int) -> tuple[float, float, int]:
    user, _ = get_user_model().objects.get_or_create(username="bench-finance")
    do_assign_role(user, "finance", actor="benchmark")
    client = Client()
    client.force_login(user)
    for _ in range(3):
        assert client.get("/costs/").status_code == 200
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get("/costs/")
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get("/costs/")
    slowest = sorted(queries.captured_queries, key=lambda q: float(q["time"]), reverse=True)[:3]
    for query in slowest:
        print(f"     {float(query['time']) * 1000:6.1f} ms  {query['sql'][:150]}")
    times.sort()
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
    return statistics.median(times), p95, len(queries)


def measure_ingestion(profiles: int, rate_limits: bool) -> None:
    """13 months of line items for ``profiles`` profiles over 30 domains, ingested once."""
    today = timezone.localdate()
    start = history_start(today)
    with awssandbox.running():
        gateway().clear()
        items = []
        day = start
        while day < today:
            for n in range(profiles):
                domain = f"arn:aws:sagemaker:us-east-1:{PAYER}:domain/d-{n % DOMAINS:012d}"
                items.append(
                    LineItem(
                        day,
                        PAYER,
                        "us-east-1",
                        "USE1-Studio:ml.t3.medium",
                        Decimal("1.25"),
                        ((DOMAIN_TAG, domain), (PROFILE_TAG, f"{domain}/person-{n}")),
                    )
                )
            day += timedelta(days=1)
        add_line_items(PAYER, items)
        limits.registry.configure(enabled=rate_limits)
        print(f"   sandbox rate limits: {'on' if rate_limits else 'off'}")
        state = cost_state(PAYER)
        started = time.perf_counter()
        run, _ = start_cost_ingestion(inline=True)
        elapsed = time.perf_counter() - started
        page = state.page_size
        rows = [len(answer[2]) for answer in state.answers.values()]
        minimum = 1 + sum(math.ceil(r / page) for r in rows)
        made = run.aws_call_total - run.aws_throttled_total
        print(
            f"   {len(items):,} line items ({profiles} profiles x {(today - start).days} days); ingestion "
            f"{run.status} in {elapsed:.1f} s"
        )
        print(
            f"   Cost Explorer requests: {made} made (and {run.aws_throttled_total} throttled), minimum {minimum} "
            f"(1 tag check + pages of "
            f"{' + '.join(str(r) for r in rows)} rows at {page} rows a page) -> "
            f"{'at the minimum' if made == minimum else 'ABOVE the minimum'}"
        )
        print(f"   requests by operation: {run.aws_calls}")
        refresh, _ = start_cost_ingestion(inline=True)
        print(
            f"   incremental refresh ({settings.COST_RESTATED_DAYS} days): {refresh.aws_call_total} requests "
            f"{refresh.aws_calls} (target: at most 2 when the window fits a page)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30, help="dashboard requests to time (default 30)")
    parser.add_argument("--profiles", type=int, default=3000, help="profiles at full size (default 3,000)")
    parser.add_argument("--ingest-profiles", type=int, default=300, help="profiles in the ingestion part")
    parser.add_argument("--no-rate-limits", action="store_true", help="turn the sandbox's rate limits off")
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    settings.AWS_ENDPOINT_URL = None
    try:
        print(f"Database: {connection.vendor}")
        results = {}
        for label, profiles in (("full size", args.profiles), ("a tenth", args.profiles // 10)):
            print(f"\n== dashboard, {label}: {DOMAINS} domains, {profiles:,} profiles, 13 months daily")
            build(profiles)
            median, p95, statements = measure_dashboard(args.requests)
            results[label] = (median, p95, statements)
            print(
                f"   server time over {args.requests} requests: median {median:.1f} ms, p95 {p95:.1f} ms; "
                f"{statements} SQL statements"
            )
        full, tenth = results["full size"], results["a tenth"]
        print("\n== targets")
        print(f"   p95 under 150 ms at full size: {full[1]:.1f} ms -> {'met' if full[1] < 150 else 'MISSED'}")
        print(
            f"   statements the same at both sizes: {full[2]} and {tenth[2]} -> "
            f"{'met' if full[2] == tenth[2] else 'MISSED'}"
        )
        print(f"\n== ingestion of 13 months from the sandbox ({args.ingest_profiles} profiles)")
        SpendRollup.objects.all().delete()
        CostRecord.objects.all().delete()
        if not args.no_rate_limits:
            settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = "adaptive", 8
        measure_ingestion(args.ingest_profiles, rate_limits=not args.no_rate_limits)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
