"""The one writer of profiles, spaces and apps: what provisioning stores is what the sync would have stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from domains.sync import start_inventory_sync
from onboarding import services as onboarding
from portal.models import TaskRun
from profiles import services
from profiles.models import App, Space, UserProfile
from tests.inventory import sagemaker
from tests.onboarding.world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(aws_sandbox: None, settings: Any) -> Iterator[World]:
    """The onboarding world, with Celery tasks run in this process after the commit that enqueues them."""
    from portal.celery import app

    settings.PROVISION_POLL_SECONDS = 0
    app.conf.task_always_eager = True
    try:
        yield build_world()
    finally:
        app.conf.task_always_eager = False


def test_a_provisioned_profile_and_space_are_what_the_sync_finds_unchanged(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        req = onboarding.do_submit_profile_request(
            actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
        )
        onboarding.do_approve(req, actor=world.approver)
        space = onboarding.do_submit_space_request(actor=world.lead, **world.space_fields())
        onboarding.do_approve(space, actor=world.approver)
    profile = UserProfile.objects.get(name="maria")
    assert profile.owner == world.scientist and profile.tags["portal:request-id"] == req.request_id
    stored = Space.objects.get(name="churn-model")
    assert stored.owner_profile == world.lead_profile and stored.instance_type == "ml.m5.large"

    run, _ = start_inventory_sync(inline=True, trigger=TaskRun.Trigger.SCHEDULE)
    assert run.status == TaskRun.Status.SUCCEEDED, run.errors
    assert run.counts["user_profiles"]["updated"] == 0 and run.counts["spaces"]["updated"] == 0
    assert "sagemaker:DescribeUserProfile" not in run.aws_calls  # nothing new or changed to describe


def test_a_deleted_resource_is_kept_and_marked(world: World) -> None:
    client = sagemaker()
    domain_id = world.research.domain_id
    client.create_app(DomainId=domain_id, UserProfileName="leila", AppType="JupyterServer", AppName="default")
    start_inventory_sync(inline=True)
    app = App.objects.get(name="default")
    services.mark_deleted(App, app.arn)
    services.mark_deleted(UserProfile, world.lead_profile.arn)
    services.mark_deleted(Space, "")  # nothing to mark: no error
    assert App.objects.get(pk=app.pk).status == "Deleted"
    lead = UserProfile.objects.get(pk=world.lead_profile.pk)
    assert lead.status == "Deleted" and lead.removed_at is not None
