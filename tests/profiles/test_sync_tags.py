"""Tags from the Resource Groups Tagging API, the ListTags fallback, and apps described only when CO-04 asks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from awssandbox import faults
from domains.models import Domain
from domains.sync import start_inventory_sync
from governance.engine import run_posture_check, start_posture_check
from portal.aws import list_all_tags
from portal.models import TaskRun
from profiles.models import App, Space, UserProfile
from tests.inventory import build_org, make_account, sagemaker

pytestmark = pytest.mark.django_db


def sync() -> TaskRun:
    run, created = start_inventory_sync(inline=True)
    assert created
    return run


def tag_some_apps() -> None:
    client = sagemaker()
    for app in App.objects.all()[:3]:
        client.add_tags(ResourceArn=app.arn, Tags=[{"Key": "cost-centre", "Value": f"cc-{app.pk}"}])


def stored_tags() -> dict[str, dict[str, str]]:
    rows = [*Domain.objects.all(), *UserProfile.objects.all(), *Space.objects.all(), *App.objects.all()]
    return {row.arn: row.tags for row in rows}


def test_tags_from_get_resources_equal_what_list_tags_says(aws_sandbox: None) -> None:
    build_org(domains=2, profiles=3, spaces=2)
    make_account()
    sync()
    tag_some_apps()
    App.objects.update(status="Pending")  # the next sync finds every app changed and reads its tags again
    run = sync()
    assert not any(call.endswith(":ListTags") for call in run.aws_calls)
    client = sagemaker()
    tags = stored_tags()
    assert tags == {arn: list_all_tags(client, arn) for arn in tags}
    assert sum(1 for arn, t in tags.items() if ":app/" in arn and t.get("cost-centre")) == 3


def test_where_get_resources_is_refused_the_tags_come_from_list_tags(aws_sandbox: None) -> None:
    build_org(domains=2, profiles=3, spaces=1)
    make_account()
    faults.registry.add(service="tagging", kind="access_denied", operation="GetResources", rate=1.0)
    run = sync()
    faults.registry.clear()
    assert run.status == TaskRun.Status.SUCCEEDED, run.errors
    # One refused GetResources per step (the account-region and each domain), then ListTags for every resource.
    assert run.aws_calls["resource-groups-tagging-api:GetResources"] == 1 + 2
    assert run.aws_calls["sagemaker:ListTags"] == Domain.objects.count() + UserProfile.objects.count() + (
        Space.objects.count() + App.objects.count()
    )
    client = sagemaker()
    tags = stored_tags()
    assert tags == {arn: list_all_tags(client, arn) for arn in tags}
    assert UserProfile.objects.get(name="person1-team0").tags == {"owner": "person1"}
    assert any("refused GetResources" in note and "tag:GetResources" in note for note in run.notes)


def test_a_normal_sync_never_describes_an_app(aws_sandbox: None) -> None:
    build_org(domains=1, profiles=2, spaces=1, apps_per_profile=2)
    make_account()
    first = sync()
    App.objects.update(status="Pending")
    second = sync()
    for run in (first, second):
        assert "sagemaker:DescribeApp" not in run.aws_calls
    assert App.objects.filter(status="InService").count() == App.objects.count() == 5
    assert App.objects.filter(activity_read_at__isnull=False).count() == 0
    assert first.counts["apps"]["aws_calls"] == 1 + 1  # one ListApps page, one GetResources call


def test_the_idle_check_describes_only_the_apps_it_would_flag(aws_sandbox: None, settings: Any) -> None:
    build_org(domains=1, profiles=2, spaces=2)
    make_account()
    sync()
    space_apps = App.objects.filter(space__isnull=False)  # on ml.t3.medium; the profiles' apps are on "system"
    old = timezone.now() - timedelta(days=10)
    stale, fresh = space_apps[0], space_apps[1]
    App.objects.filter(pk=stale.pk).update(aws_created_at=old)
    App.objects.filter(pk=fresh.pk).update(aws_created_at=old, last_user_activity=timezone.now())
    run, _ = start_posture_check(trigger=TaskRun.Trigger.USER)
    run_posture_check(run.pk)
    run.refresh_from_db()
    assert run.aws_calls == {"sagemaker:DescribeApp": 1}  # the stale one only: the fresh one cannot be idle
    stale.refresh_from_db()
    assert stale.activity_read_at is not None
    fresh.refresh_from_db()
    assert fresh.activity_read_at is None
