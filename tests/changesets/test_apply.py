"""Applying approved change sets against the in-process sandbox: each operation, idempotence (re-described first,
skipped when already so), a worker killed mid-way and resumed, throttling, and the waits AWS's preconditions need."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from awssandbox import faults
from awssandbox.clock import clock
from changesets import apply, services, tasks
from changesets.models import Change, ChangeSet
from changesets.signals import change_set_applied
from domains.models import Domain
from domains.signals import resources_changed
from portal.aws import call_counter
from portal.models import AuditEvent
from profiles.models import App, UserProfile
from tests.changesets.helpers import (
    delete_app_change,
    domain_idle_change,
    idle_change,
    network_change,
    proposed,
    running_app,
    tag_change,
)
from tests.inventory import sagemaker
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """The turns the task enqueues (after an approval, or for later), captured instead of run."""
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(tasks.apply_change_set, "apply_async", lambda args, **options: calls.append((args, options)))
    return calls


def _approved(world: World, capture: Any, *changes: Any, **kwargs: Any) -> ChangeSet:
    cs = proposed(world, *changes, **kwargs)
    with capture():
        services.do_approve(cs, actor=world.approver2)
    cs.refresh_from_db()
    return cs


def _profile_idle(name: str = "leila") -> int | None:
    answer = sagemaker().describe_user_profile(
        DomainId=Domain.objects.get(name="research").domain_id, UserProfileName=name
    )
    return answer["UserSettings"]["JupyterLabAppSettings"]["AppLifecycleManagement"]["IdleSettings"].get(
        "IdleTimeoutInMinutes"
    )


def test_an_approved_change_set_is_applied_and_the_inventory_reads_it_again(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    received: list[dict[str, Any]] = []
    changed: list[list[str]] = []

    def on_applied(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    def on_changed(sender: Any, **kwargs: Any) -> None:
        changed.append(kwargs["arns"])

    change_set_applied.connect(on_applied)
    resources_changed.connect(on_changed)
    try:
        cs = proposed(world, idle_change(world, 120), domain_idle_change(world, 90), tag_change(world), finding_ids=[3])
        with django_capture_on_commit_callbacks(execute=True):
            services.do_approve(cs, actor=world.approver2)
    finally:
        change_set_applied.disconnect(on_applied)
        resources_changed.disconnect(on_changed)
    cs.refresh_from_db()
    assert cs.status == "applied", cs.error
    assert list(cs.changes.values_list("status", flat=True)) == ["applied"] * 3
    assert _profile_idle() == 120
    profile = UserProfile.objects.get(name="leila")
    assert profile.idle_shutdown == "ENABLED" and profile.idle_timeout_minutes == 120
    research = Domain.objects.get(pk=world.research.pk)
    assert research.tags["cost-center"] == "cc-42"
    assert (
        research.settings_snapshot["DefaultUserSettings"]["JupyterLabAppSettings"]["AppLifecycleManagement"][
            "IdleSettings"
        ]["IdleTimeoutInMinutes"]
        == 90
    )
    assert received and received[0]["finding_ids"] == [3] and received[0]["change_set"].pk == cs.pk
    assert set(received[0]["resource_arns"]) == {profile.arn, research.arn}
    assert [profile.arn] in changed and [research.arn] in changed
    actions = list(AuditEvent.objects.filter(request_id=cs.ref).order_by("pk").values_list("action", flat=True))
    assert actions == [
        "changeset.proposed",
        "changeset.approved",
        "changeset.update_user_profile",
        "changeset.update_domain",
        "changeset.add_tags",
        "changeset.applied",
    ]


def test_a_change_already_so_in_aws_is_skipped_without_a_call(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    sagemaker().add_tags(ResourceArn=world.research.arn, Tags=[{"Key": "cost-center", "Value": "cc-42"}])
    before = call_counter.snapshot()
    cs = proposed(world, tag_change(world))
    with django_capture_on_commit_callbacks(execute=True):
        services.do_approve(cs, actor=world.approver2)
    cs.refresh_from_db()
    assert cs.status == "applied" and cs.changes.get().status == "skipped"
    assert call_counter.difference(call_counter.snapshot(), before).get("sagemaker:AddTags", 0) == 0


def test_delete_app_waits_for_deleted(
    world: World, django_capture_on_commit_callbacks: Any, enqueued: list[Any], settings: Any
) -> None:
    settings.PROVISION_POLL_SECONDS = 7
    app = running_app(world)
    clock.set({"app.delete": 1200})
    try:
        cs = _approved(world, django_capture_on_commit_callbacks, delete_app_change(app))
        assert apply.apply_turn(cs.pk, cs.task_token) == 7
        cs.refresh_from_db()
        assert cs.status == "waiting" and "Deleting" in cs.progress
        assert cs.changes.get().attempts == 1
        clock.advance(600)
        assert apply.apply_turn(cs.pk, cs.task_token) == 7  # still Deleting; no second DeleteApp
        clock.advance(601)
        assert apply.apply_turn(cs.pk, cs.task_token) is None
    finally:
        clock.reset()
    cs.refresh_from_db()
    assert cs.status == "applied" and cs.changes.get().status == "applied"
    assert App.objects.get(pk=app.pk).status == "Deleted"
    assert AuditEvent.objects.filter(request_id=cs.ref, action="changeset.delete_app").count() == 1


def test_update_space(world: World, django_capture_on_commit_callbacks: Any) -> None:
    from changesets.planning import PlannedChange
    from profiles.models import Space

    running_app(world)
    space = Space.objects.get(name="leila-space")
    path = "SpaceSettings.JupyterLabAppSettings.AppLifecycleManagement.IdleSettings.IdleTimeoutInMinutes"
    change = PlannedChange(
        "UpdateSpace",
        space.arn,
        "space",
        {
            "DomainId": world.research.domain_id,
            "SpaceName": space.name,
            "SpaceSettings": {
                "JupyterLabAppSettings": {"AppLifecycleManagement": {"IdleSettings": {"IdleTimeoutInMinutes": 75}}}
            },
        },
        after={path: 75},
    )
    cs = proposed(world, change)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_approve(cs, actor=world.admin)
    cs.refresh_from_db()
    assert cs.status == "applied", cs.error
    assert Space.objects.get(pk=space.pk).idle_timeout_minutes == 75


def test_a_network_change_waits_while_apps_run_and_says_which(
    world: World, django_capture_on_commit_callbacks: Any, enqueued: list[Any], settings: Any
) -> None:
    settings.PROVISION_POLL_SECONDS = 5
    app = running_app(world)
    cs = _approved(world, django_capture_on_commit_callbacks, network_change(world))
    assert apply.apply_turn(cs.pk, cs.task_token) == 5
    cs.refresh_from_db()
    assert cs.status == "waiting"
    assert "JupyterLab/default on leila-space (InService)" in cs.progress
    assert cs.wait_until is not None
    assert sagemaker().describe_domain(DomainId=world.research.domain_id)["AppNetworkAccessType"] != "VpcOnly"
    assert AuditEvent.objects.filter(request_id=cs.ref, action="changeset.waiting").count() == 1
    assert apply.apply_turn(cs.pk, cs.task_token) == 5  # the same wait is not audited twice
    assert AuditEvent.objects.filter(request_id=cs.ref, action="changeset.waiting").count() == 1

    sagemaker().delete_app(
        DomainId=world.research.domain_id, SpaceName=app.space_name, AppType="JupyterLab", AppName="default"
    )
    assert apply.apply_turn(cs.pk, cs.task_token) is None
    cs.refresh_from_db()
    assert cs.status == "applied", cs.error
    assert Domain.objects.get(pk=world.research.pk).network_access_type == "VpcOnly"


def test_a_wait_past_the_deadline_fails_and_retry_goes_on(
    world: World, django_capture_on_commit_callbacks: Any, enqueued: list[Any]
) -> None:
    running_app(world)
    cs = _approved(world, django_capture_on_commit_callbacks, tag_change(world), network_change(world))
    apply.apply_turn(cs.pk, cs.task_token)
    ChangeSet.objects.filter(pk=cs.pk).update(wait_until=timezone.now() - timedelta(seconds=1))
    assert apply.apply_turn(cs.pk, cs.task_token) is None
    cs.refresh_from_db()
    assert cs.status == "failed" and "Still waiting" in cs.error
    assert list(cs.changes.values_list("status", flat=True)) == ["applied", "failed"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.do_retry(cs, actor=world.approver)
    assert len(callbacks) == 1
    cs.refresh_from_db()
    assert cs.status == "approved" and list(cs.changes.values_list("status", flat=True)) == ["applied", "pending"]


def test_throttling_is_retried_under_the_policy(
    world: World, django_capture_on_commit_callbacks: Any, fast_aws_backoff: None
) -> None:
    faults.registry.add(service="sagemaker", kind="throttle", operation="UpdateUserProfile", count=4)
    try:
        cs = proposed(world, idle_change(world, 150))
        with django_capture_on_commit_callbacks(execute=True):
            services.do_approve(cs, actor=world.approver2)
    finally:
        faults.registry.clear()
    cs.refresh_from_db()
    assert cs.status == "applied" and _profile_idle() == 150


def test_throttling_beyond_the_policy_puts_the_change_set_back_to_waiting_not_failed(
    world: World,
    django_capture_on_commit_callbacks: Any,
    enqueued: list[Any],
    fast_aws_backoff: None,
    settings: Any,
) -> None:
    settings.AWS_STEP_ATTEMPTS = 2
    cs = _approved(world, django_capture_on_commit_callbacks, tag_change(world), idle_change(world, 180))
    faults.registry.add(service="sagemaker", kind="throttle", operation="UpdateUserProfile", count=100)
    try:
        countdown = apply.apply_turn(cs.pk, cs.task_token)
    finally:
        faults.registry.clear()
    assert countdown is not None and 0 < countdown <= settings.AWS_STEP_RETRY_MAX_SECONDS
    cs.refresh_from_db()
    assert cs.status == "waiting" and "AWS is busy" in cs.progress and "Throttling" in cs.progress
    first, second = cs.changes.order_by("position")
    assert first.status == "applied" and second.status == "pending" and "Throttling" in second.last_error
    assert apply.apply_turn(cs.pk, cs.task_token) is None
    cs.refresh_from_db()
    assert cs.status == "applied" and _profile_idle() == 180
    assert AuditEvent.objects.filter(request_id=cs.ref, action="changeset.add_tags").count() == 1


class Killed(BaseException):
    """The worker dies (not an Exception: nothing in the turn catches it)."""


def test_a_worker_killed_mid_way_is_resumed_by_the_sweep_with_the_same_end_state(
    world: World,
    django_capture_on_commit_callbacks: Any,
    enqueued: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    settings.PROVISION_STALE_SECONDS = 120
    changes = (domain_idle_change(world, 100), idle_change(world, 240), tag_change(world))
    cs = _approved(world, django_capture_on_commit_callbacks, *changes)
    old_token = cs.task_token
    real_mark = apply._mark

    def dies_after_the_second_call(change: Change, status: str, *args: Any, **kwargs: Any) -> None:
        if change.position == 1:
            raise Killed  # the UpdateUserProfile call went through; recording it did not
        real_mark(change, status, *args, **kwargs)

    monkeypatch.setattr(apply, "_mark", dies_after_the_second_call)
    before = call_counter.snapshot()
    with pytest.raises(Killed):
        apply.apply_turn(cs.pk, old_token)
    monkeypatch.setattr(apply, "_mark", real_mark)
    cs.refresh_from_db()
    assert cs.status == "applying"
    assert list(cs.changes.values_list("status", flat=True)) == ["applied", "pending", "pending"]
    assert _profile_idle() == 240  # AWS has it, the change set does not know yet

    assert apply.stalled() == []
    ChangeSet.objects.filter(pk=cs.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=121))
    assert [c.pk for c in apply.stalled()] == [cs.pk]
    with django_capture_on_commit_callbacks(execute=True):
        tasks.resume_stalled()
    new = enqueued[-1][0]
    assert new[0] == cs.pk and new[1] != old_token
    assert apply.apply_turn(cs.pk, old_token) is None  # the dead task's redelivery stops at once
    assert apply.apply_turn(*new) is None
    cs.refresh_from_db()
    assert cs.status == "applied" and cs.attempts == 2
    assert list(cs.changes.values_list("status", flat=True)) == ["applied", "applied", "applied"]
    made = call_counter.difference(call_counter.snapshot(), before)
    assert made.get("sagemaker:UpdateDomain") == 1 and made.get("sagemaker:UpdateUserProfile") == 1
    assert made.get("sagemaker:AddTags") == 1
    # the same end state as a run nobody interrupted
    assert _profile_idle() == 240 and UserProfile.objects.get(name="leila").idle_timeout_minutes == 240
    assert Domain.objects.get(pk=world.research.pk).tags["cost-center"] == "cc-42"
    assert AuditEvent.objects.filter(request_id=cs.ref, action="changeset.handed_out_again").count() == 1
