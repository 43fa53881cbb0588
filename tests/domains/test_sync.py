"""The inventory sync against the AWS sandbox (no gateway mocked away)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import portal.aws
from awssandbox import faults
from domains.models import Domain
from domains.sync import SyncScopeError, start_inventory_sync
from portal.aws import call_counter
from portal.models import AuditEvent, TaskRun
from profiles.models import App, Space, UserProfile
from tests.inventory import build_org, make_account, sagemaker

pytestmark = pytest.mark.django_db


def inventory_state() -> dict[str, Any]:
    """Everything the sync writes, minus timestamps of when it happened."""
    skip = {
        "id",
        "first_seen",
        "last_changed",
        "members_synced_at",
        "sync_claimed_at",
        "sync_claimed_by",
        "domain",
        "account",
        "owner_profile",
        "user_profile",
        "space",
    }

    def rows(model: Any) -> list[dict[str, Any]]:
        fields = [f.attname for f in model._meta.concrete_fields if f.name not in skip and f.attname not in skip]
        return sorted(model.objects.values(*fields, "arn"), key=lambda r: r["arn"])

    return {m.__name__: rows(m) for m in (Domain, UserProfile, Space, App)}


def sync(**scope: Any) -> TaskRun:
    run, created = start_inventory_sync(inline=True, **scope)
    assert created
    return run


def test_a_first_sync_brings_in_every_domain_profile_space_and_app(aws_sandbox: None) -> None:
    org = build_org(domains=2, profiles=3, spaces=1)
    make_account()
    run = sync()
    assert run.status == TaskRun.Status.SUCCEEDED, run.errors
    assert Domain.objects.count() == 2
    assert UserProfile.objects.count() == 6
    assert Space.objects.count() == 2
    assert App.objects.count() == len(org.apps) == 8
    assert run.counts["domains"]["created"] == 2
    assert run.counts["user_profiles"]["created"] == 6
    profile = UserProfile.objects.get(name="person1-team0")
    assert profile.idle_shutdown == "ENABLED" and profile.idle_timeout_minutes == 61
    assert profile.tags == {"owner": "person1"}
    space = Space.objects.get(name="shared0-team1")
    assert space.owner_profile == UserProfile.objects.get(name="person0-team1")
    assert space.sharing_type == "Shared" and space.ebs_size_gb == 20
    app = App.objects.get(space=space)
    assert app.instance_type == "ml.t3.medium" and app.status == "InService"
    assert run.steps_done == run.steps_total == 3  # one account-region listing + two domains' members
    assert AuditEvent.objects.filter(action="inventory_sync.finished").count() == 1


def test_it_makes_only_the_calls_the_listings_require(aws_sandbox: None) -> None:
    build_org(domains=2, profiles=3, spaces=1)
    make_account()
    run = sync()
    calls = run.aws_calls
    # One page each: domains once, then per domain profiles, spaces and apps.
    assert calls["sagemaker:ListDomains"] == 1
    assert calls["sagemaker:ListUserProfiles"] == 2
    assert calls["sagemaker:ListSpaces"] == 2
    assert calls["sagemaker:ListApps"] == 2
    # Everything is new, so every domain, profile and space is described once; apps never (ListApps says enough).
    assert calls["sagemaker:DescribeDomain"] == 2
    assert calls["sagemaker:DescribeUserProfile"] == 6
    assert calls["sagemaker:DescribeSpace"] == 2
    assert "sagemaker:DescribeApp" not in calls
    # Tags come in GetResources calls of up to 100 ARNs: the domains', then per domain the profiles', spaces', apps'.
    assert "sagemaker:ListTags" not in calls
    assert calls["resource-groups-tagging-api:GetResources"] == 1 + 2 * 3
    # The run's figures per kind of resource add up to every call it made.
    per_kind = {kind: n["aws_calls"] for kind, n in run.counts.items()}
    assert per_kind["domains"] == 1 + 2 + 1  # ListDomains, 2 describes, 1 tag call
    assert per_kind["user_profiles"] == 2 + 6 + 2
    assert per_kind["spaces"] == 2 + 2 + 2
    assert per_kind["apps"] == 2 + 2
    assert sum(per_kind.values()) == sum(calls.values())


def test_an_unchanged_resync_describes_nothing_and_writes_no_inventory_row(aws_sandbox: None) -> None:
    build_org(domains=2, profiles=3, spaces=1)
    make_account()
    sync()
    before = inventory_state()
    inventory_tables = {m._meta.db_table for m in (Domain, UserProfile, Space, App)}
    with CaptureQueriesContext(connection) as queries:
        run = sync()
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and any(f'"{table}"' in q["sql"] for table in inventory_tables)
        and "sync_claimed" not in q["sql"]
        and "members_synced_at" not in q["sql"]
    ]
    assert writes == []
    assert inventory_state() == before
    assert run.total("unchanged") == 2 + 6 + 2 + 8
    assert not any(call.startswith("sagemaker:Describe") for call in run.aws_calls)


def test_changes_and_removals_are_picked_up_and_removed_rows_are_kept(aws_sandbox: None) -> None:
    org = build_org(domains=1, profiles=3, spaces=0, apps_per_profile=0)
    make_account()
    sync()
    client = sagemaker()
    domain_id = org.domains["team0"]
    client.update_user_profile(
        DomainId=domain_id,
        UserProfileName="person1-team0",
        UserSettings={"StudioWebPortalSettings": {"HiddenAppTypes": ["JupyterServer"]}},
    )
    client.delete_user_profile(DomainId=domain_id, UserProfileName="person2-team0")
    run = sync()
    outcomes = {k: n for k, n in run.counts["user_profiles"].items() if k != "aws_calls"}
    assert outcomes == {"created": 0, "updated": 1, "removed": 1, "unchanged": 1}
    assert UserProfile.objects.get(name="person1-team0").hidden_app_types == ["JupyterServer"]
    gone = UserProfile.objects.get(name="person2-team0")
    assert gone.removed_at is not None  # kept, with its history
    assert UserProfile.objects.restrict(None).count() == 0  # (anonymous sees nothing)


def test_a_listing_that_fails_halfway_marks_nothing_removed(
    aws_sandbox: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.AWS_MAX_ATTEMPTS = 1
    monkeypatch.setattr(portal.aws, "PAGE_SIZE", 2)
    org = build_org(domains=1, profiles=5, spaces=1)
    make_account()
    sync()
    # Two profiles leave AWS; then the listing's first page comes back and the second fails.
    client = sagemaker()
    for name in ("person3-team0", "person4-team0"):
        for app in client.list_apps(DomainIdEquals=org.domains["team0"], UserProfileNameEquals=name)["Apps"]:
            client.delete_app(
                DomainId=org.domains["team0"], UserProfileName=name, AppType=app["AppType"], AppName=app["AppName"]
            )
    faults.registry.add(service="sagemaker", kind="server_error", operation="ListUserProfiles", rate=1.0, after=1)
    run = sync()
    faults.registry.clear()
    assert run.status in (TaskRun.Status.PARTIAL, TaskRun.Status.FAILED)
    assert any("ListUserProfiles" in e["message"] for e in run.errors)
    assert UserProfile.objects.filter(removed_at__isnull=False).count() == 0
    assert Space.objects.filter(removed_at__isnull=False).count() == 0
    assert App.objects.filter(status="Deleted").count() == 0  # the step stored nothing, not even what it read


def test_a_sync_under_throttling_and_server_errors_ends_in_the_same_state_as_a_clean_one(
    aws_sandbox: None, settings: Any, fast_aws_backoff: None
) -> None:
    settings.AWS_RETRY_MODE = "standard"
    settings.AWS_MAX_ATTEMPTS = 6
    build_org(domains=2, profiles=4, spaces=1)
    make_account()
    clean = sync()
    assert clean.status == TaskRun.Status.SUCCEEDED
    clean_state = inventory_state()
    for model in (App, Space, UserProfile, Domain):
        model.objects.all().delete()
    faults.registry.clear(seed=7)
    faults.registry.add(service="sagemaker", kind="throttle", rate=0.3)
    faults.registry.add(service="sagemaker", kind="server_error", rate=0.05, status=503)
    calls_before = call_counter.total("sagemaker")
    faulty = sync()
    faults.registry.clear()
    assert faulty.status == TaskRun.Status.SUCCEEDED, faulty.errors
    assert call_counter.total("sagemaker") - calls_before > clean.aws_call_total  # the faults cost retries
    assert inventory_state() == clean_state


def test_a_second_request_for_the_same_scope_joins_the_running_one(aws_sandbox: None) -> None:
    make_account()
    first, created = start_inventory_sync(enqueue=False)
    assert created
    second, created_again = start_inventory_sync(enqueue=False)
    assert not created_again and second.pk == first.pk
    assert TaskRun.objects.filter(status__in=TaskRun.ACTIVE).count() == 1


def test_a_domain_claimed_by_another_run_is_not_synced_twice(aws_sandbox: None) -> None:
    build_org(domains=1, profiles=2, spaces=0)
    make_account()
    sync()
    domain = Domain.objects.get()
    holder, _ = start_inventory_sync(enqueue=False, account_id="123456789012")
    Domain.objects.filter(pk=domain.pk).update(sync_claimed_by=holder, sync_claimed_at="2100-01-01T00:00:00Z")
    joined = sync(domain_id=domain.domain_id)
    assert joined.status == TaskRun.Status.SUCCEEDED
    assert joined.notes == [
        f"team0 was being synced by run #{holder.pk}; this run joined that sync instead of doubling it."
    ]
    assert "sagemaker:ListUserProfiles" not in joined.aws_calls


def test_it_explains_a_scope_it_cannot_sync(aws_sandbox: None) -> None:
    make_account(regions=["us-east-1"])
    with pytest.raises(SyncScopeError, match="Region eu-west-3 is not configured"):
        start_inventory_sync(account_id="123456789012", region="eu-west-3", enqueue=False)
    with pytest.raises(SyncScopeError, match="No AWS account 999999999999"):
        start_inventory_sync(account_id="999999999999", enqueue=False)
    with pytest.raises(SyncScopeError, match="No domain d-missing"):
        start_inventory_sync(domain_id="d-missing", enqueue=False)


def test_with_no_account_the_run_fails_with_what_to_do(aws_sandbox: None) -> None:
    run = sync()
    assert run.status == TaskRun.Status.FAILED
    assert "add one on the Accounts page" in run.errors[0]["message"]


def test_paging_walks_every_page(aws_sandbox: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portal.aws, "PAGE_SIZE", 2)
    build_org(domains=3, profiles=5, spaces=0, apps_per_profile=0)
    make_account()
    run = sync()
    assert UserProfile.objects.count() == 15
    assert run.aws_calls["sagemaker:ListDomains"] == 2
    assert run.aws_calls["sagemaker:ListUserProfiles"] == 3 * 3


def test_credentials_that_reach_another_account_change_nothing(aws_sandbox: None) -> None:
    build_org(domains=1, profiles=1, spaces=0)
    make_account(account_id="210987654321")  # the plain sandbox credentials reach 123456789012 instead
    run = sync()
    assert run.status == TaskRun.Status.FAILED
    assert "list domains of another account or region" in run.errors[0]["message"]
    assert not Domain.objects.exists()


def test_one_account_failing_does_not_stop_the_others(aws_sandbox: None) -> None:
    build_org(domains=1, profiles=2, spaces=0)
    make_account()  # reachable
    make_account(account_id="210987654321")  # the plain sandbox credentials reach another account
    run = sync()
    assert run.status == TaskRun.Status.PARTIAL
    assert [e["scope"] for e in run.errors] == ["account 210987654321 us-east-1"]
    assert UserProfile.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_for_one_scope_create_one_run(aws_sandbox: None) -> None:
    import threading

    from django.db import connections

    make_account()
    barrier = threading.Barrier(4)
    results: list[tuple[int, bool]] = []

    def request() -> None:
        try:
            barrier.wait()
            run, created = start_inventory_sync(enqueue=False)
            results.append((run.pk, created))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert len({pk for pk, _ in results}) == 1  # every request got the same run
    assert sum(created for _, created in results) == 1
    assert TaskRun.objects.count() == 1


def test_a_run_records_every_attempt_of_a_listing_that_keeps_failing(
    aws_sandbox: None, settings: Any, fast_aws_backoff: None
) -> None:
    settings.AWS_MAX_ATTEMPTS, settings.AWS_STEP_ATTEMPTS = 3, 4
    build_org(domains=2, profiles=2, spaces=0, apps_per_profile=0)
    make_account()
    rule = faults.registry.add(service="sagemaker", kind="throttle", operation="ListUserProfiles", rate=1.0)
    run = sync()
    faults.registry.clear()
    assert run.status == TaskRun.Status.PARTIAL  # the domains came in, their members did not
    # 2 domains x 4 step attempts x 3 HTTP attempts each: what the sandbox saw is what the run says.
    assert rule.seen == 2 * 4 * 3
    assert run.aws_calls["sagemaker:ListUserProfiles"] == rule.seen
    assert run.aws_throttled == {"sagemaker:ListUserProfiles": rule.seen}
    assert run.aws_retried == {"sagemaker:ListUserProfiles": 2 * 4 * 2}  # botocore's second and third attempts


def test_a_run_that_rides_out_throttling_counts_what_the_sandbox_saw(
    aws_sandbox: None, settings: Any, fast_aws_backoff: None
) -> None:
    settings.AWS_MAX_ATTEMPTS, settings.AWS_STEP_ATTEMPTS = 6, 5
    build_org(domains=2, profiles=3, spaces=1)
    make_account()
    faults.registry.clear(seed=11)
    seen = faults.registry.add(service="sagemaker", kind="latency", latency_ms=1, rate=1.0)  # counts every request
    throttle = faults.registry.add(service="sagemaker", kind="throttle", rate=0.4)
    run = sync()
    faults.registry.clear()
    assert run.status == TaskRun.Status.SUCCEEDED, run.errors
    assert throttle.fired > 0
    # The sandbox's SageMaker rules see SageMaker's calls (the tags come from the Tagging API).
    assert sum(n for call, n in run.aws_calls.items() if call.startswith("sagemaker:")) == seen.seen
    assert run.aws_throttled_total == throttle.fired
    assert 0 < run.aws_retried_total <= throttle.fired


def test_the_run_page_and_api_show_retried_and_throttled_calls_apart(
    aws_sandbox: None, settings: Any, fast_aws_backoff: None, admin_client: Any
) -> None:
    settings.AWS_MAX_ATTEMPTS = 3
    build_org(domains=1, profiles=1, spaces=0, apps_per_profile=0)
    make_account()
    faults.registry.add(service="sagemaker", kind="throttle", operation="ListDomains", count=2)
    run = sync()
    assert run.aws_calls["sagemaker:ListDomains"] == 3
    assert run.aws_retried == {"sagemaker:ListDomains": 2} and run.aws_throttled == {"sagemaker:ListDomains": 2}
    answer = admin_client.get(f"/api/sync-runs/{run.pk}/").json()
    assert answer["aws_retried"] == {"sagemaker:ListDomains": 2}
    assert answer["aws_throttled"] == {"sagemaker:ListDomains": 2}
    assert (answer["aws_call_total"], answer["aws_retried_total"], answer["aws_throttled_total"]) == (
        run.aws_call_total,
        2,
        2,
    )
    page = admin_client.get(run.get_absolute_url()).content.decode()
    assert "2 retried, 2 throttled" in page
