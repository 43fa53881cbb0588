"""A worker killed in the middle of provisioning: the broker hands the task to another worker, which adopts the
profile the first one created. The sandbox holds one profile afterwards, and the request is active.

Needs Redis (the filesystem broker of a laptop's first run loses a task whose worker is killed; there the beat
task ``onboarding.resume_stalled`` hands it out again, tested below without a worker).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import transaction

from onboarding import provision, services
from onboarding.models import ProfileRequest
from portal.models import AuditEvent
from portal.sandbox.studio import studio_state
from tests.inventory import ACCOUNT_ID, REGION, sagemaker
from tests.onboarding.world import build_world
from tests.portal.test_worker import _wait_for as wait_for

pytestmark = [pytest.mark.timeout(240)]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_provisioning_leaves_one_profile(sandbox_server: str, start_worker: Any) -> None:
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("The crash test needs Redis (REDIS_URL); CI runs it there.")
    world = build_world()
    state = studio_state(ACCOUNT_ID, REGION)
    state.pending_describes = 100_000  # the new profile stays Pending: the worker waits, and is killed there
    env = {"PROVISION_POLL_SECONDS": "0.1", "CELERY_VISIBILITY_TIMEOUT": "2"}
    first = start_worker(**env)
    with transaction.atomic():
        req = services.do_submit_profile_request(
            actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
        )
    services.do_approve(req, actor=world.approver)

    def waiting() -> bool:
        return ProfileRequest.objects.filter(pk=req.pk, progress__startswith="Waiting for AWS").exists()

    wait_for(waiting, first)
    first.kill()
    assert ProfileRequest.objects.get(pk=req.pk).status == "provisioning"
    assert [
        p["UserProfileName"]
        for p in sagemaker().list_user_profiles(DomainIdEquals=world.research.domain_id)["UserProfiles"]
    ].count("maria") == 1

    with state.lock:  # AWS finishes creating the profile while no worker watches
        state.profiles[(world.research.domain_id, "maria")].pending = 1
    second = start_worker(**env)
    wait_for(lambda: ProfileRequest.objects.get(pk=req.pk).status in ("active", "failed"), second, timeout=150)
    req.refresh_from_db()
    assert req.status == "active", req.error
    assert req.attempts == 2
    names = [
        p["UserProfileName"]
        for p in sagemaker().list_user_profiles(DomainIdEquals=world.research.domain_id)["UserProfiles"]
    ]
    assert names.count("maria") == 1
    events = list(AuditEvent.objects.filter(request_id=req.request_id).values_list("action", flat=True))
    assert events.count("aws.create_user_profile") == 1 and events.count("aws.adopt_user_profile") == 1
    assert "onboarding.provision_profile" in second.output()


@pytest.mark.django_db
def test_the_safety_net_hands_out_work_no_task_has_touched(aws_sandbox: None, settings: Any) -> None:
    world = build_world()
    req = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
    )
    ProfileRequest.objects.filter(pk=req.pk).update(status="provisioning")
    settings.PROVISION_STALE_MINUTES = 30
    assert provision.stalled() == []  # just touched
    settings.PROVISION_STALE_MINUTES = 0
    assert provision.stalled() == [("provision_profile", req.pk)]
