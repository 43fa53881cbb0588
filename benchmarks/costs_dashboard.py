"""Benchmark: cost ingestion and rollups at 0.1x, 1x and 3x a bill, and the spend dashboard on what they wrote.

1. Ingestion + rollups: 13 months x 30 domains x 3,000 profiles (1x: about 1.1 million daily records; 0.1x and 3x
   scale the profiles). The Cost Explorer answers are generated a page at a time in the answer format of
   GetCostAndUsage (5,000 groups a page) and go through the portal's own paging, parsing, page writes and SQL rollups
   (``costs.ingest.fetch_pages`` and ``replace_window``) in one transaction, as a first load does; then a refresh of
   the trailing window. Each size runs in its own process, so its peak RSS is its own. The client is generated here
   instead of the sandbox because the sandbox would hold the whole bill in this process and its memory is what is
   measured.
2. Dashboard: its server time for a finance login over repeated requests (cached figures, the usual case: the cache
   is keyed by the last ingestion), the first request after the ingestion (the figures computed), and the same
   requests with the cache off; the SQL statement count.
3. Cost Explorer requests of an ingestion from the sandbox (``--ingest-profiles``, rate limits on): against the
   minimum the page size allows.

    DATABASE_URL=postgres://... python benchmarks/costs_dashboard.py [--sizes 0.1,1,3] [--requests 30]
        [--ingest-profiles 300] [--no-rate-limits] [--skip-requests] [--profile-dashboard]

Targets: first load at 1x under 45 s, peak RSS under 400 MB at 3x, dashboard p95 at 3x within 1.2x of its p95 at
0.1x. Runs on a throw-away test database of the one DATABASE_URL names (PostgreSQL is what the figures are for).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from costs.ingest import fetch_pages, history_start, replace_window, start_cost_ingestion  # noqa: E402
from costs.models import DOMAIN_TAG, PROFILE_TAG, SpendRollup  # noqa: E402
from domains.models import AwsAccount, Domain  # noqa: E402
from portal.roles import do_assign_role  # noqa: E402
from profiles.models import UserProfile  # noqa: E402

PAYER = "123456789012"
DOMAINS = 30
FULL_PROFILES = 3000
PAGE_GROUPS = 5000


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class GeneratedCostExplorer:
    """GetCostAndUsage answers for ``profiles`` profiles a day, made when asked: one page in memory at a time.

    Each profile spends every day; one group a day is spend without a profile. Amounts are fixed by (profile, day).
    """

    def __init__(self, profiles: list[tuple[str, str]]) -> None:
        self.profiles = profiles
        self.calls = 0

    def get_cost_and_usage(self, **params: Any) -> dict[str, Any]:
        self.calls += 1
        member_tag = params["GroupBy"][1]["Key"]
        start = date.fromisoformat(params["TimePeriod"]["Start"])
        end = date.fromisoformat(params["TimePeriod"]["End"])
        if member_tag != PROFILE_TAG:
            return {"ResultsByTime": []}
        keys = [[f"{DOMAIN_TAG}${d}", f"{member_tag}${p}"] for d, p in self.profiles] + [
            [f"{DOMAIN_TAG}$", f"{member_tag}$"]
        ]
        per_day = len(keys)
        position = int(params.get("NextPageToken") or 0)
        total = per_day * (end - start).days
        stop = min(total, position + PAGE_GROUPS)
        this_month = timezone.localdate().replace(day=1)
        results: list[dict[str, Any]] = []
        while position < stop:
            day_index, first = divmod(position, per_day)
            last = min(per_day, first + stop - position)
            day = start + timedelta(days=day_index)
            seed = day.toordinal() * 104729
            groups = [
                {
                    "Keys": keys[n],
                    "Metrics": {
                        "UnblendedCost": {
                            "Amount": "3.5" if n == per_day - 1 else str((n * 7919 + seed) % 400 / 100 + 0.05),
                            "Unit": "USD",
                        }
                    },
                }
                for n in range(first, last)
            ]
            period = {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()}
            results.append({"TimePeriod": period, "Groups": groups, "Estimated": day >= this_month})
            position += last - first
        answer: dict[str, Any] = {"ResultsByTime": results}
        if position < total:
            answer["NextPageToken"] = str(position)
        return answer


def build_inventory(profiles: int) -> tuple[AwsAccount, list[tuple[str, str]]]:
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
    rows = [
        (domains[n % DOMAINS], f"{domains[n % DOMAINS].arn.replace(':domain/', ':user-profile/')}/person-{n}")
        for n in range(profiles)
    ]
    UserProfile.objects.bulk_create(
        [UserProfile(domain=domain, name=arn.rsplit("/", 1)[-1], status="InService", arn=arn) for domain, arn in rows],
        batch_size=5000,
    )
    return payer, [(domain.arn, arn) for domain, arn in rows]


def ingest_window(payer: AwsAccount, client: GeneratedCostExplorer, start: date, end: date) -> dict[str, int]:
    """What ``ingest_payer`` does with Cost Explorer's pages: one transaction, pages written as they come."""
    with transaction.atomic():
        return replace_window(payer, start, end, fetch_pages(client, start, end, PROFILE_TAG), iter(()))


def measure_dashboard(requests: int, *, profile: bool = False) -> dict[str, Any]:
    user, _ = get_user_model().objects.get_or_create(username="bench-finance")
    do_assign_role(user, "finance", actor="benchmark")
    client = Client()
    client.force_login(user)
    started = time.perf_counter()
    assert client.get("/costs/").status_code == 200
    first = (time.perf_counter() - started) * 1000

    def timed() -> list[float]:
        for _ in range(3):
            assert client.get("/costs/").status_code == 200
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get("/costs/")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        return sorted(times)

    cached = timed()
    with CaptureQueriesContext(connection) as queries:
        client.get("/costs/")
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        with profiler:
            for _ in range(20):
                client.get("/costs/")
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    settings.COST_FIGURES_CACHE_SECONDS = 0
    uncached = timed()
    with CaptureQueriesContext(connection) as uncached_queries:
        client.get("/costs/")
    settings.COST_FIGURES_CACHE_SECONDS = 3600
    slowest = sorted(uncached_queries.captured_queries, key=lambda q: float(q["time"]), reverse=True)[:3]
    return {
        "first_ms": first,
        "median_ms": statistics.median(cached),
        "p95_ms": percentile(cached, 95),
        "statements": len(queries),
        "uncached_median_ms": statistics.median(uncached),
        "uncached_p95_ms": percentile(uncached, 95),
        "uncached_statements": len(uncached_queries),
        "slowest": [f"{float(q['time']) * 1000:6.1f} ms  {q['sql'][:140]}" for q in slowest],
    }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1)]


def one_size(scale: float, requests: int, profile: bool) -> dict[str, Any]:
    """One size, in this process: inventory, first load, refresh, dashboard. Prints a JSON line of figures."""
    profiles = max(1, round(FULL_PROFILES * scale))
    payer, arns = build_inventory(profiles)
    today = timezone.localdate()
    start = history_start(today)
    client = GeneratedCostExplorer(arns)
    baseline = rss_mb()
    started = time.perf_counter()
    counts = ingest_window(payer, client, start, today)
    first_load = time.perf_counter() - started
    peak = rss_mb()
    started = time.perf_counter()
    ingest_window(payer, client, today - timedelta(days=settings.COST_RESTATED_DAYS), today)
    refresh = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does after a load: fresh statistics for the planner
            cursor.execute("VACUUM ANALYZE costs_costrecord")
            cursor.execute("VACUUM ANALYZE costs_spendrollup")
    sizes = table_sizes()
    dashboard = measure_dashboard(requests, profile=profile)
    return {
        "scale": scale,
        "profiles": profiles,
        "records": counts["created"],
        "rollups": SpendRollup.objects.count(),
        "pages": client.calls,
        "first_load_s": first_load,
        "refresh_s": refresh,
        "rss_before_mb": baseline,
        "peak_rss_mb": max(peak, rss_mb()),
        "ingest_peak_rss_mb": peak,
        "sizes": sizes,
        **dashboard,
    }


def table_sizes() -> dict[str, str]:
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
            "WHERE relname IN ('costs_costrecord', 'costs_spendrollup')"
        )
        return dict(cursor.fetchall())


def measure_requests(profiles: int, rate_limits: bool) -> None:
    """13 months of line items for ``profiles`` profiles over 30 domains, ingested once from the sandbox."""
    import awssandbox
    from awssandbox import limits
    from awssandbox.ce import LineItem, add_line_items, cost_state
    from portal.aws import gateway

    today = timezone.localdate()
    start = history_start(today)
    with awssandbox.running():
        gateway().clear()
        payer = AwsAccount.objects.get(account_id=PAYER)
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
        run, _ = start_cost_ingestion(account_id=payer.account_id, inline=True)
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
            f"(1 tag check + pages of {' + '.join(str(r) for r in rows)} rows at {page} rows a page) -> "
            f"{'at the minimum' if made == minimum else 'ABOVE the minimum'}"
        )
        print(f"   requests by operation: {run.aws_calls}")
        refresh, _ = start_cost_ingestion(account_id=payer.account_id, inline=True)
        print(
            f"   incremental refresh ({settings.COST_RESTATED_DAYS} days): {refresh.aws_call_total} requests "
            f"{refresh.aws_calls} (target: at most 2 when the window fits a page)"
        )


def in_test_database(work: Any) -> Any:
    setup_test_environment()
    settings.DEBUG = False
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    settings.AWS_ENDPOINT_URL = None
    try:
        return work()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def report(result: dict[str, Any]) -> None:
    print(
        f"\n== {result['scale']}x: {DOMAINS} domains, {result['profiles']:,} profiles, 13 months daily "
        f"({result['records']:,} records, {result['pages']} Cost Explorer pages generated)"
    )
    print(
        f"   first load (pages parsed and written, rollups in SQL, one transaction): {result['first_load_s']:.1f} s; "
        f"refresh of {settings.COST_RESTATED_DAYS} days: {result['refresh_s']:.1f} s"
    )
    print(
        f"   peak RSS {result['peak_rss_mb']:.0f} MB (before the load {result['rss_before_mb']:.0f} MB, at the end of "
        f"it {result['ingest_peak_rss_mb']:.0f} MB); {result['rollups']:,} rollups; sizes {result['sizes']}"
    )
    print(
        f"   dashboard: first request after the ingestion {result['first_ms']:.1f} ms; then median "
        f"{result['median_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, {result['statements']} SQL statements "
        f"(cache off: median {result['uncached_median_ms']:.1f} ms, p95 {result['uncached_p95_ms']:.1f} ms, "
        f"{result['uncached_statements']} statements)"
    )
    for line in result["slowest"]:
        print(f"     {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.1,1,3", help="bill sizes, in multiples of 3,000 profiles")
    parser.add_argument("--requests", type=int, default=30, help="dashboard requests to time (default 30)")
    parser.add_argument("--ingest-profiles", type=int, default=300, help="profiles in the Cost Explorer requests part")
    parser.add_argument("--no-rate-limits", action="store_true", help="turn the sandbox's rate limits off")
    parser.add_argument("--skip-requests", action="store_true", help="skip the Cost Explorer requests part")
    parser.add_argument("--profile-dashboard", action="store_true", help="print a pyinstrument profile (cached)")
    parser.add_argument("--one-size", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_size is not None:
        result = in_test_database(lambda: one_size(args.one_size, args.requests, args.profile_dashboard))
        print("RESULT " + json.dumps(result))
        return
    print(f"Database: {connection.vendor}")
    results = {}
    for scale in (float(s) for s in args.sizes.split(",")):
        command = [sys.executable, __file__, "--one-size", str(scale), "--requests", str(args.requests)]
        if args.profile_dashboard:
            command.append("--profile-dashboard")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = done.stdout.splitlines()
        for line in lines:
            if not line.startswith("RESULT "):
                print(line)
        found = [json.loads(line[7:]) for line in lines if line.startswith("RESULT ")]
        if done.returncode or not found:
            print(f"   {scale}x FAILED:\n{done.stderr[-3000:]}")
            continue
        results[scale] = found[0]
        report(found[0])
    print("\n== targets")
    if 1.0 in results:
        load = results[1.0]["first_load_s"]
        print(f"   first load at 1x under 45 s: {load:.1f} s -> {'met' if load < 45 else 'MISSED'}")
    if 3.0 in results:
        peak = results[3.0]["peak_rss_mb"]
        print(f"   peak RSS at 3x under 400 MB: {peak:.0f} MB -> {'met' if peak < 400 else 'MISSED'}")
    if 3.0 in results and 0.1 in results:
        big, small = results[3.0]["p95_ms"], results[0.1]["p95_ms"]
        print(
            f"   dashboard p95 at 3x within 1.2x of 0.1x: {big:.1f} ms vs {small:.1f} ms ({big / small:.2f}x) -> "
            f"{'met' if big <= 1.2 * small else 'MISSED'}"
        )
        big, small = results[3.0]["uncached_p95_ms"], results[0.1]["uncached_p95_ms"]
        print(
            f"   (cache off, the first request after an ingestion: {big:.1f} ms vs {small:.1f} ms, {big / small:.2f}x)"
        )
    if not args.skip_requests:
        print(f"\n== Cost Explorer requests of an ingestion from the sandbox ({args.ingest_profiles} profiles)")

        def requests_part() -> None:
            build_inventory(0)
            if not args.no_rate_limits:
                settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = "adaptive", 8
            measure_requests(args.ingest_profiles, rate_limits=not args.no_rate_limits)

        in_test_database(requests_part)


if __name__ == "__main__":
    main()
