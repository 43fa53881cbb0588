"""Work whose worker died: the heartbeat stops, the sweep (or an approver's "retry now") hands the work to a worker
again under a new token, and provisioning adopts what the dead task created. No task waits for AWS inside a worker:
provisioning re-enqueues itself with a countdown against the deadline stored on the request.

The worker tests need Redis (the filesystem broker of a laptop's first run is not what production runs); they skip
without it, except under CI=true where they fail.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from awssandbox import faults
from awssandbox.studio import studio_state
from onboarding import provision, services, tasks
from onboarding.models import Offboarding, ProfileRequest
from portal.aws import call_counter
from portal.models import AuditEvent
from tests.conftest import WorkerProcess
from tests.inventory import ACCOUNT_ID, REGION, sagemaker
from tests.onboarding.world import World, build_world
from tests.portal.test_worker import _wait_for as wait_for

pytestmark = [pytest.mark.timeout(300)]


def _needs_redis() -> None:
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        message = "The crash tests need Redis (REDIS_URL); CI runs them there."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def _approved(world: World, captured: Any) -> ProfileRequest:
    """Maria's profile request, approved; the provisioning task (and the email) it enqueues are captured, not run."""
    req = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
    )
    with captured():
        services.do_approve(req, actor=world.approver)
    req.refresh_from_db()
    return req


def _silence(work: Any, seconds: float) -> None:
    """As if the task working on it had last beaten ``seconds`` ago."""
    type(work).objects.filter(pk=work.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=seconds))


def _maria_profiles(world: World) -> list[str]:
    names = [
        p["UserProfileName"]
        for p in sagemaker().list_user_profiles(DomainIdEquals=world.research.domain_id)["UserProfiles"]
    ]
    return [n for n in names if n == "maria"]


# -- turns, heartbeat, deadline (no worker) ----------------------------------------------------------------------
@pytest.mark.django_db
def test_provisioning_waits_by_re_enqueueing_itself_against_the_deadline_on_the_request(
    aws_sandbox: None, settings: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PROVISION_POLL_SECONDS, settings.PROVISION_WAIT_SECONDS = 7, 900
    world = build_world()
    studio_state(ACCOUNT_ID, REGION).pending_describes = 3
    req = _approved(world, django_capture_on_commit_callbacks)
    enqueued: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(
        tasks.provision_profile, "apply_async", lambda args, **options: enqueued.append((args, options))
    )

    started = timezone.now()
    tasks.provision_profile(req.pk, req.task_token)  # create, then one InService check
    req.refresh_from_db()
    assert enqueued == [((req.pk, req.task_token), {"countdown": 7})]
    assert req.status == "provisioning" and req.progress.startswith("Waiting for AWS: the user profile is Pending")
    assert req.profile_arn and req.heartbeat_at >= started
    assert timedelta(seconds=899) < req.wait_until - started <= timedelta(seconds=901)

    tasks.provision_profile(req.pk, req.task_token)  # one more check, still Pending
    assert len(enqueued) == 2
    ProfileRequest.objects.filter(pk=req.pk).update(wait_until=timezone.now() - timedelta(seconds=1))
    tasks.provision_profile(req.pk, req.task_token)  # past the deadline: failed, retryable
    req.refresh_from_db()
    assert len(enqueued) == 2
    assert req.status == "failed" and "was still Pending after 900 s" in req.error
    assert _maria_profiles(world) == ["maria"]


@pytest.mark.django_db
def test_the_sweep_hands_stalled_work_out_again_and_the_old_task_stops(
    aws_sandbox: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PROVISION_POLL_SECONDS, settings.PROVISION_STALE_SECONDS = 0, 120
    world = build_world()
    studio_state(ACCOUNT_ID, REGION).pending_describes = 1
    req = _approved(world, django_capture_on_commit_callbacks)
    old_token = req.task_token
    assert provision.provision_profile(req.pk, old_token) == 0  # created, Pending: the task then dies
    assert provision.stalled() == []  # it beat just now
    _silence(req, 119)
    assert provision.stalled() == []
    _silence(req, 121)
    assert provision.stalled() == [ProfileRequest.objects.get(pk=req.pk)]

    with django_capture_on_commit_callbacks() as callbacks:
        tasks.resume_stalled()
    assert len(callbacks) == 1  # the task of the new hand-out
    req.refresh_from_db()
    assert req.task_token != old_token and req.attempts == 2
    assert provision.stalled() == []
    event = AuditEvent.objects.get(request_id=req.request_id, action="profilerequest.handed_out_again")
    assert event.actor_label == services.SWEEP_ACTOR

    calls = call_counter.total()
    assert provision.provision_profile(req.pk, old_token) is None  # the dead task's late redelivery: nothing
    assert call_counter.total() == calls
    while provision.provision_profile(req.pk, req.task_token) is not None:
        pass
    req.refresh_from_db()
    assert req.status == "active", req.error
    assert _maria_profiles(world) == ["maria"]
    events = list(AuditEvent.objects.filter(request_id=req.request_id).values_list("action", flat=True))
    assert events.count("aws.create_user_profile") == 1 and events.count("profilerequest.active") == 1


@pytest.mark.django_db
def test_work_handed_out_but_never_started_is_swept_too(
    aws_sandbox: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world = build_world()
    req = _approved(world, django_capture_on_commit_callbacks)  # the broker lost the task
    _silence(req, settings.PROVISION_STALE_SECONDS + 1)
    assert [w.pk for w in provision.stalled()] == [req.pk]


@pytest.mark.django_db
def test_an_approver_retries_stalled_work_now_from_the_page(
    aws_sandbox: None, settings: Any, django_capture_on_commit_callbacks: Any, client: Any
) -> None:
    settings.PROVISION_POLL_SECONDS = 0
    world = build_world()
    req = _approved(world, django_capture_on_commit_callbacks)
    client.force_login(world.approver)
    url = reverse("onboarding:profile-request-action", args=[req.pk, "retry-now"])
    assert b'id="retry-now"' not in client.get(req.get_absolute_url()).content  # its task is alive

    response = client.post(url, follow=True)
    assert "A task is working on it" in response.content.decode()
    assert ProfileRequest.objects.get(pk=req.pk).attempts == 1

    _silence(req, settings.PROVISION_STALE_SECONDS + 1)
    page = client.get(req.get_absolute_url()).content
    assert b'id="retry-now"' in page and b'id="request-stalled"' in page
    with django_capture_on_commit_callbacks() as handed_out:
        client.post(url)
    assert len(handed_out) == 1
    req.refresh_from_db()
    assert req.attempts == 2
    assert AuditEvent.objects.filter(
        request_id=req.request_id, action="profilerequest.retried_now", actor=world.approver
    ).exists()

    other = APIClient()
    other.force_login(world.outsider)  # an approver of nothing here: not even told the request exists
    _silence(req, settings.PROVISION_STALE_SECONDS + 1)
    assert other.post(f"/api/profile-requests/{req.pk}/retry-now/").status_code == 404
    requester = APIClient()
    requester.force_login(world.scientist)  # sees the request, may not hand it out
    assert requester.post(f"/api/profile-requests/{req.pk}/retry-now/").status_code == 400


@pytest.mark.django_db
def test_an_approver_retries_stalled_work_now_through_the_api(
    aws_sandbox: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PROVISION_POLL_SECONDS = 0
    world = build_world()
    req = _approved(world, django_capture_on_commit_callbacks)
    api = APIClient()
    api.force_login(world.approver)
    early = api.post(f"/api/profile-requests/{req.pk}/retry-now/")
    assert early.status_code == 400 and "A task is working on it" in str(early.json())
    assert api.get(f"/api/profile-requests/{req.pk}/").json()["is_stalled"] is False

    _silence(req, settings.PROVISION_STALE_SECONDS + 1)
    assert api.get(f"/api/profile-requests/{req.pk}/").json()["is_stalled"] is True
    with django_capture_on_commit_callbacks():
        answer = api.post(f"/api/profile-requests/{req.pk}/retry-now/")
    assert answer.status_code == 200, answer.content
    assert answer.json()["attempts"] == 2 and answer.json()["is_stalled"] is False


# -- a real worker killed on Redis --------------------------------------------------------------------------------
STALE, SWEEP, POLL = 4, 1.0, 0.2
WORKER_ENV = {
    "PROVISION_POLL_SECONDS": str(POLL),
    "PROVISION_STALE_SECONDS": str(STALE),
    # The broker would hand the dead worker's task out again only after an hour: the sweep is what recovers.
    "CELERY_VISIBILITY_TIMEOUT": "3600",
}


def _sweep_until(done: Any, worker: WorkerProcess, since: float, timeout: float) -> float:
    """Run the sweep every SWEEP seconds, as beat does, until ``done()``; the seconds from ``since`` until then."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if done():
            took = time.monotonic() - since
            print(f"done {took:.1f} s after the worker was killed")
            return took
        assert worker.process.poll() is None, f"the worker exited:\n{worker.output()}"
        tasks.resume_stalled()
        time.sleep(SWEEP)
    raise AssertionError(f"not done within {timeout} s; worker output:\n{worker.output()}")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_s_provisioning_is_handed_out_again_by_the_sweep(
    sandbox_server: str, start_worker: Any, settings: Any
) -> None:
    _needs_redis()
    settings.PROVISION_STALE_SECONDS = STALE
    world = build_world()
    state = studio_state(ACCOUNT_ID, REGION)
    state.pending_describes = 100_000  # the new profile stays Pending: the worker waits, and is killed then
    first = start_worker(pool="prefork", **WORKER_ENV)
    with transaction.atomic():
        req = services.do_submit_profile_request(
            actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
        )
    services.do_approve(req, actor=world.approver)
    wait_for(lambda: ProfileRequest.objects.filter(pk=req.pk, progress__startswith="Waiting for AWS").exists(), first)
    killed_at = time.monotonic()
    first.kill()  # main process and pool child, SIGKILL: nothing is acknowledged, nothing finishes
    assert ProfileRequest.objects.get(pk=req.pk).status == "provisioning"
    assert _maria_profiles(world) == ["maria"]

    aws_delay = 3  # AWS finishes creating the profile after three more checks
    with state.lock:
        state.profiles[(world.research.domain_id, "maria")].pending = aws_delay
    second = start_worker(pool="prefork", **WORKER_ENV)
    took = _sweep_until(
        lambda: ProfileRequest.objects.get(pk=req.pk).status in ("active", "failed"), second, killed_at, 120
    )
    req.refresh_from_db()
    assert req.status == "active", req.error
    # The heartbeat goes stale, the next sweep hands it out, the new worker checks AWS a few times: well within a
    # minute here, against the broker's hour. (Worker start-up on a loaded machine is most of the margin.)
    assert took < STALE + SWEEP + aws_delay * POLL + 45, took
    # Handed out again by the sweep (2 attempts), unless the killed task had already published its next turn and
    # the first worker died before taking it from the queue: then the second worker takes that turn (1 attempt).
    # On a loaded machine both happen; either way nothing is stranded and nothing is made twice.
    assert req.attempts in (1, 2)
    assert _maria_profiles(world) == ["maria"]
    events = list(AuditEvent.objects.filter(request_id=req.request_id).values_list("action", flat=True))
    assert events.count("aws.create_user_profile") == 1
    assert events.count("profilerequest.handed_out_again") == req.attempts - 1
    assert "onboarding.provision_profile" in second.output()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_s_offboarding_is_handed_out_again_by_the_sweep(
    sandbox_server: str, start_worker: Any, settings: Any
) -> None:
    _needs_redis()
    from domains.sync import start_inventory_sync

    settings.PROVISION_STALE_SECONDS = STALE
    world = build_world()
    client = sagemaker()
    domain_id = world.research.domain_id
    client.create_user_profile(DomainId=domain_id, UserProfileName="maria", Tags=[{"Key": "owner", "Value": "maria"}])
    client.create_app(DomainId=domain_id, UserProfileName="maria", AppType="JupyterServer", AppName="default")
    start_inventory_sync(inline=True)
    plan = services.do_plan_offboarding(actor=world.approver, person=world.scientist, reason="Left the company")
    assert list(plan.steps.values_list("action", flat=True)) == ["delete_app", "delete_profile", "close_login"]
    # The profile's deletion hangs in AWS long enough for the worker to be killed in the middle of it.
    faults.registry.add(service="sagemaker", kind="latency", operation="DeleteUserProfile", latency_ms=15_000, count=1)
    first = start_worker(pool="prefork", **WORKER_ENV)
    services.do_approve_offboarding(plan, actor=world.approver2)
    wait_for(lambda: Offboarding.objects.filter(pk=plan.pk, progress__startswith="Step 2").exists(), first)
    killed_at = time.monotonic()
    first.kill()
    plan.refresh_from_db()
    assert plan.status == "running"
    assert list(plan.steps.values_list("state", flat=True)) == ["done", "pending", "pending"]

    second = start_worker(pool="prefork", **WORKER_ENV)
    took = _sweep_until(
        lambda: Offboarding.objects.get(pk=plan.pk).status in ("done", "failed"), second, killed_at, 120
    )
    plan.refresh_from_db()
    assert plan.status == "done", plan.error
    assert took < STALE + SWEEP + 45, took
    assert plan.attempts in (1, 2)  # 1: the second worker took a turn the killed one had published (see above)
    assert list(plan.steps.values_list("state", flat=True)) == ["done", "done", "done"]
    assert _maria_profiles(world) == []
    events = list(AuditEvent.objects.filter(request_id=plan.request_id).values_list("action", flat=True))
    assert events.count("offboarding.handed_out_again") == plan.attempts - 1 and events.count("offboarding.done") == 1


@pytest.mark.django_db
def test_an_approver_retries_a_stalled_offboarding_now(
    aws_sandbox: None, eager_tasks: None, settings: Any, django_capture_on_commit_callbacks: Any, client: Any
) -> None:
    from domains.sync import start_inventory_sync

    world = build_world()
    sagemaker().create_user_profile(
        DomainId=world.research.domain_id, UserProfileName="maria", Tags=[{"Key": "owner", "Value": "maria"}]
    )
    start_inventory_sync(inline=True)
    plan = services.do_plan_offboarding(actor=world.approver, person=world.scientist, reason="Left")
    with django_capture_on_commit_callbacks():  # the worker that takes it dies at once
        services.do_approve_offboarding(plan, actor=world.approver2)
    _silence(plan, settings.PROVISION_STALE_SECONDS + 1)
    outsider = APIClient()
    outsider.force_login(world.outsider)
    assert outsider.post(f"/api/offboardings/{plan.pk}/retry-now/").status_code == 404

    client.force_login(world.approver)
    page = client.get(plan.get_absolute_url()).content
    assert b'id="retry-now"' in page and b'id="offboarding-stalled"' in page
    with django_capture_on_commit_callbacks(execute=True):
        answer = APIClient()
        answer.force_login(world.approver)
        response = answer.post(f"/api/offboardings/{plan.pk}/retry-now/")
    assert response.status_code == 200, response.content
    plan.refresh_from_db()
    assert plan.status == "done", plan.error
    assert plan.attempts == 2
    assert AuditEvent.objects.filter(request_id=plan.request_id, action="offboarding.retried_now").count() == 1
    assert _maria_profiles(world) == []
