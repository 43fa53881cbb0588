"""Benchmark: onboarding at the scale of a large company's yearly intake.

Seeds the in-process AWS sandbox with one domain, gives N people the data scientist role, then measures:
submitting N profile requests (the rules run against the inventory and the open requests), approving them,
provisioning each profile (CreateUserProfile, the InService wait, the tags, the local row), and the approver's
inbox and the request list with N requests waiting. Prints wall time per request, AWS calls per profile by operation
and SQL statements per request.

    python benchmarks/onboarding.py [--people 500] [--pending-describes 2] [--no-rate-limits]

Rate limits of the sandbox are on (its assumed defaults, with the portal's production retry settings:
adaptive mode, 8 attempts); ``--no-rate-limits`` measures without them.

Runs on the database DATABASE_URL names (a throw-away test database is created and dropped).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

import awssandbox  # noqa: E402
from awssandbox import limits  # noqa: E402
from portal.aws import call_counter, gateway  # noqa: E402


class Statements:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def timed(label: str, items: list[Any], action: Any) -> tuple[float, int]:
    statements = Statements()
    started = time.perf_counter()
    with connection.execute_wrapper(statements):
        for item in items:
            action(item)
    elapsed = time.perf_counter() - started
    n = max(1, len(items))
    print(
        f"   {label:34s} {elapsed:7.2f} s  {1000 * elapsed / n:7.1f} ms each  "
        f"{statements.count / n:5.1f} SQL statements each"
    )
    return elapsed, statements.count


def page_times(client: Client, url: str, repeats: int = 20) -> tuple[float, float, int]:
    client.get(url)
    samples = []
    statements = Statements()
    for _ in range(repeats):
        started = time.perf_counter()
        with connection.execute_wrapper(statements):
            response = client.get(url)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return (
        statistics.median(samples) * 1000,
        samples[int(0.95 * (len(samples) - 1))] * 1000,
        statements.count // repeats,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument(
        "--pending-describes",
        type=int,
        default=2,
        help="Describe answers 'Pending' this many times before InService (default 2)",
    )
    parser.add_argument("--no-rate-limits", action="store_true", help="turn the sandbox's rate limits off")
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    settings.AWS_ENDPOINT_URL = None
    settings.AWS_MAX_ATTEMPTS = 3
    settings.PROVISION_POLL_SECONDS = 0
    if not args.no_rate_limits:
        settings.AWS_RETRY_MODE, settings.AWS_MAX_ATTEMPTS = "adaptive", 8
    try:
        with awssandbox.running():
            limits.registry.configure(enabled=not args.no_rate_limits)
            print(f"Sandbox rate limits: {'off' if args.no_rate_limits else 'on'}")
            gateway().clear()
            run(args.people, args.pending_describes)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(people: int, pending: int) -> None:
    from awssandbox.studio import studio_state
    from onboarding import provision, services
    from onboarding.models import ProfileRequest
    from profiles.models import UserProfile
    from tests.factories import UserFactory, grant
    from tests.inventory import ACCOUNT_ID, REGION
    from tests.onboarding.world import build_world

    world = build_world()
    users = [UserFactory(username=f"scientist{i:05d}", email=f"scientist.{i:05d}@example.com") for i in range(people)]
    for user in users:
        grant(user, "data_scientist", world.research)
    studio_state(ACCOUNT_ID, REGION).pending_describes = pending
    print(f"{people} people, one domain, database {connection.vendor}, Describe answers Pending {pending} time(s)")
    requests: list[ProfileRequest] = []
    timed(
        "submit (rules + audit)",
        users,
        lambda u: requests.append(
            services.do_submit_profile_request(actor=u, person=u, domain=world.research, template=world.persona)
        ),
    )

    approver = Client()
    approver.force_login(world.approver)
    median, p95, statements = page_times(approver, "/requests/")
    print(
        f"   inbox with {people} waiting            median {median:6.1f} ms, p95 {p95:6.1f} ms, "
        f"{statements} SQL statements"
    )
    median, p95, statements = page_times(approver, "/requests/profiles/?status=submitted")
    print(
        f"   request list, first page            median {median:6.1f} ms, p95 {p95:6.1f} ms, "
        f"{statements} SQL statements"
    )

    from onboarding import tasks

    approved: list[tuple[int, str]] = []
    # The approvals enqueue nothing here: the benchmark runs the provisioning itself, one by one, as a worker would:
    # turn after turn (create, then one InService check a turn) until the request is active.
    tasks.provision_profile.apply_async = lambda args, **options: approved.append(args)

    def provision_all_turns(work: tuple[int, str]) -> None:
        while provision.provision_profile(*work) is not None:
            pass

    timed("approve", requests, lambda req: services.do_approve(req, actor=world.approver))
    call_counter.reset()
    throttled_before = limits.registry.throttled_total()
    timed("provision (AWS + local row)", approved, provision_all_turns)
    calls = {f"{svc}:{op}": n for (svc, op), n in sorted(call_counter.snapshot().items())}
    total = sum(calls.values())
    throttled = limits.registry.throttled_total() - throttled_before
    print(f"   AWS calls: {total} ({total / people:.2f} per profile), of which throttled by the sandbox: {throttled}")
    for name, n in calls.items():
        print(f"     {name:36s} {n:6d}  ({n / people:.2f} per profile)")
    active = ProfileRequest.objects.filter(status="active").count()
    print(
        f"   active requests: {active} of {people}; profiles in the inventory owned by them: "
        f"{UserProfile.objects.filter(owner__in=users).count()}"
    )
    minimum = 1 + (pending + 1) + 1  # create, the describes until InService, the tag listing
    print(
        f"   calls per profile = minimum ({minimum}: create, {pending + 1} describes, tags): "
        f"{'met' if total - throttled == minimum * people else 'MISSED'} (throttled attempts aside)"
    )


if __name__ == "__main__":
    main()
