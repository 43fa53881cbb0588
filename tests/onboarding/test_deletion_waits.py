"""Deleting takes time on AWS: the portal's space deletion and offboarding wait for it in turns, never in a worker.

The sandbox clock gives app, space and profile deletion real durations (AWS: app deletion "can take up to 20
minutes"); each turn asks AWS once, starts what it can, and re-enqueues itself with a countdown against the deadline
stored on the work. The clock is moved forward between turns, so minutes pass in no time.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from awssandbox.clock import clock
from onboarding import services, tasks
from onboarding.models import SpaceRequest
from portal.models import AuditEvent
from profiles.models import Space, UserProfile
from tests.inventory import sagemaker
from tests.onboarding.world import World, build_world

pytestmark = pytest.mark.django_db


def _enqueued(monkeypatch: pytest.MonkeyPatch, task: Any) -> list[tuple[Any, dict[str, Any]]]:
    """The turns ``task`` enqueues, captured instead of sent."""
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(task, "apply_async", lambda args, **options: calls.append((args, options)))
    return calls


def _expired_space_with_an_app(world: World, capture: Any) -> SpaceRequest:
    with capture(execute=True):
        req = services.do_submit_space_request(actor=world.lead, **world.space_fields())
    with capture(execute=True):
        services.do_approve(req, actor=world.approver)
    req.refresh_from_db()
    assert req.status == "active", req.error
    sagemaker().create_app(
        DomainId=world.research.domain_id, SpaceName="churn-model", AppType="JupyterLab", AppName="default"
    )
    SpaceRequest.objects.filter(pk=req.pk).update(status="expired")
    req.refresh_from_db()
    return req


def test_an_expired_space_is_deleted_in_turns_while_aws_deletes_its_apps_then_the_space(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PROVISION_POLL_SECONDS, settings.DELETION_WAIT_SECONDS = 7, 3600
    req = _expired_space_with_an_app(world, django_capture_on_commit_callbacks)
    clock.set({"app.delete": 1200, "space.delete": 60})
    enqueued = _enqueued(monkeypatch, tasks.delete_space)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_delete_space(req, actor=world.approver)
    turn = enqueued.pop()[0]
    client, ids = sagemaker(), {"DomainId": world.research.domain_id, "SpaceName": "churn-model"}

    started = timezone.now()
    tasks.delete_space(*turn)  # deletes the app; AWS would answer DeleteSpace with ResourceInUse now
    req.refresh_from_db()
    assert enqueued == [(turn, {"countdown": 7})]
    assert req.status == "deleting"
    assert req.progress.startswith("Waiting for AWS: 1 app(s) of space churn-model are still Deleting"), req.progress
    assert timedelta(seconds=3599) < req.wait_until - started <= timedelta(seconds=3601)
    assert client.describe_app(**ids, AppType="JupyterLab", AppName="default")["Status"] == "Deleting"
    assert client.describe_space(**ids)["Status"] == "InService"

    clock.advance(600)
    tasks.delete_space(*turn)  # still Deleting: one more turn
    assert len(enqueued) == 2
    clock.advance(601)
    tasks.delete_space(*turn)  # every app Deleted: the space is deleted, and is Deleting
    req.refresh_from_db()
    assert len(enqueued) == 3 and req.progress.startswith("Waiting for AWS: space churn-model is Deleting")
    assert Space.objects.get(name="churn-model").removed_at is None  # AWS still has it
    clock.advance(61)
    tasks.delete_space(*turn)
    req.refresh_from_db()
    assert len(enqueued) == 3  # done: no further turn
    assert (req.status, req.progress, req.wait_until) == (
        "deleted",
        "Space deleted; its apps were deleted first.",
        None,
    )
    assert Space.objects.get(name="churn-model").removed_at is not None
    event = AuditEvent.objects.get(request_id=req.request_id, action__endswith="aws.delete_space")
    assert event.after["outcome"] == "deleted"


def test_a_space_deletion_that_outlasts_its_deadline_stops_and_can_be_approved_again(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PROVISION_POLL_SECONDS, settings.DELETION_WAIT_SECONDS = 7, 600
    req = _expired_space_with_an_app(world, django_capture_on_commit_callbacks)
    clock.set({"app.delete": 1200})
    enqueued = _enqueued(monkeypatch, tasks.delete_space)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_delete_space(req, actor=world.approver)
    turn = enqueued.pop()[0]
    tasks.delete_space(*turn)
    SpaceRequest.objects.filter(pk=req.pk).update(wait_until=timezone.now() - timedelta(seconds=1))
    tasks.delete_space(*turn)
    req.refresh_from_db()
    assert len(enqueued) == 1
    assert req.status == "expired" and "AWS was still deleting after 600 s" in req.error, req.error
    assert req.wait_until is None
    clock.advance(1201)  # AWS finished meanwhile; the approver deletes it again
    with django_capture_on_commit_callbacks(execute=True):
        services.do_delete_space(req, actor=world.approver)
    tasks.delete_space(*enqueued.pop()[0])
    req.refresh_from_db()
    assert req.status == "deleted", req.error


@pytest.fixture
def maria_with_running_apps(world: World) -> World:
    """Maria has a profile with a running app and a private space with a running app."""
    from domains.sync import start_inventory_sync

    _maria(world)
    start_inventory_sync(inline=True)
    return world


def _maria(world: World) -> None:
    client, domain_id = sagemaker(), world.research.domain_id
    client.create_user_profile(DomainId=domain_id, UserProfileName="maria", Tags=[{"Key": "owner", "Value": "maria"}])
    client.create_app(DomainId=domain_id, UserProfileName="maria", AppType="JupyterServer", AppName="default")
    client.create_space(
        DomainId=domain_id,
        SpaceName="maria-notes",
        OwnershipSettings={"OwnerUserProfileName": "maria"},
        SpaceSharingSettings={"SharingType": "Private"},
        SpaceSettings={"AppType": "JupyterLab"},
    )
    client.create_app(DomainId=domain_id, SpaceName="maria-notes", AppType="JupyterLab", AppName="default")


def test_offboarding_a_person_with_running_apps_waits_for_each_deletion(
    maria_with_running_apps: World,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = maria_with_running_apps
    settings.PROVISION_POLL_SECONDS, settings.DELETION_WAIT_SECONDS = 5, 3600
    clock.set({"app.delete": 300, "space.delete": 60, "profile.delete": 60})
    plan = services.do_plan_offboarding(actor=world.approver, person=world.scientist, reason="Left the company")
    enqueued = _enqueued(monkeypatch, tasks.run_offboarding)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_approve_offboarding(plan, actor=world.approver2)
    turn = enqueued.pop()[0]

    def states() -> list[str]:
        return list(plan.steps.order_by("position").values_list("state", flat=True))

    waits = []
    for advance in (301, 301, 61, 61):
        tasks.run_offboarding(*turn)
        plan.refresh_from_db()
        assert plan.status == "running", plan.error
        waits.append(plan.progress.split(" (checked")[0])
        clock.advance(advance)
    assert waits == [
        "Waiting for AWS: step 1: JupyterServer default on profile maria is Deleting",
        "Waiting for AWS: step 2: JupyterLab default on space maria-notes is Deleting",
        "Waiting for AWS: step 3: space maria-notes is Deleting",
        "Waiting for AWS: step 4: user profile maria is Deleting",
    ]
    assert len(enqueued) == 4 and all(options == {"countdown": 5} for _, options in enqueued)
    assert states() == ["done", "done", "done", "pending", "pending"]
    tasks.run_offboarding(*turn)
    plan.refresh_from_db()
    assert plan.status == "done", plan.error
    assert len(enqueued) == 4
    assert states() == ["done"] * 5  # the final step (the portal login) needs no wait
    messages = list(plan.steps.order_by("position").values_list("message", flat=True))
    assert set(messages[:4]) == {"Deleted."} and messages[4].startswith("Portal login maria deactivated")
    assert UserProfile.objects.get(name="maria").removed_at is not None
    assert (
        sagemaker().list_user_profiles(DomainIdEquals=world.research.domain_id)["UserProfiles"][0]["UserProfileName"]
        != "maria"
    )


@pytest.mark.worker
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_offboards_by_re_enqueueing_turns_while_aws_deletes(
    sandbox_server: str, start_worker: Any, settings: Any
) -> None:
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("The worker tests of waiting turns run on Redis (REDIS_URL).")
    from domains.sync import start_inventory_sync

    world = build_world()
    _maria(world)
    start_inventory_sync(inline=True)
    clock.set({"app.delete": 1.5, "space.delete": 1, "profile.delete": 1})  # real seconds: the server's clock
    plan = services.do_plan_offboarding(actor=world.approver, person=world.scientist, reason="Left the company")
    worker = start_worker(PROVISION_POLL_SECONDS="0.3", PROVISION_STALE_SECONDS="30")
    started = time.monotonic()
    services.do_approve_offboarding(plan, actor=world.approver2)
    while time.monotonic() - started < 90:
        plan.refresh_from_db()
        if plan.status in ("done", "failed"):
            break
        assert worker.process.poll() is None, worker.output()
        time.sleep(0.3)
    took = time.monotonic() - started
    assert plan.status == "done", (plan.status, plan.error, plan.progress, worker.output()[-3000:])
    assert took >= 1.5 + 1.5 + 1 + 1  # each deletion was waited for, one after the other
    assert worker.output().count("onboarding.run_offboarding") >= 5  # the turns went through the broker
    assert list(plan.steps.values_list("state", flat=True)) == ["done"] * 5  # the last closes the portal login
    assert not [
        p
        for p in sagemaker().list_user_profiles(DomainIdEquals=world.research.domain_id)["UserProfiles"]
        if p["UserProfileName"] == "maria"
    ]
