"""Offboarding: the plan, its approval by another approver, the task that carries it out and resumes after a failure."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from onboarding import services
from onboarding.models import Offboarding, OffboardingStep
from portal.models import AuditEvent
from profiles.models import App, Space, UserProfile
from tests.factories import grant
from tests.inventory import sagemaker
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria_in_research(world: World) -> World:
    """Maria has a profile with an app, a private space with an app, and a shared space she owns."""
    from domains.sync import start_inventory_sync

    client = sagemaker()
    domain_id = world.research.domain_id
    client.create_user_profile(DomainId=domain_id, UserProfileName="maria", Tags=[{"Key": "owner", "Value": "maria"}])
    client.create_app(DomainId=domain_id, UserProfileName="maria", AppType="JupyterServer", AppName="default")
    for name, sharing in (("maria-notes", "Private"), ("team-forecast", "Shared")):
        client.create_space(
            DomainId=domain_id,
            SpaceName=name,
            OwnershipSettings={"OwnerUserProfileName": "maria"},
            SpaceSharingSettings={"SharingType": sharing},
            SpaceSettings={"AppType": "JupyterLab"},
        )
    client.create_app(
        DomainId=domain_id,
        SpaceName="maria-notes",
        AppType="JupyterLab",
        AppName="default",
        ResourceSpec={"InstanceType": "ml.t3.medium"},
    )
    start_inventory_sync(inline=True)
    assert UserProfile.objects.get(name="maria").owner == world.scientist
    return world


def test_the_plan_lists_apps_then_private_spaces_then_profiles_and_flags_shared_spaces(
    maria_in_research: World,
) -> None:
    world = maria_in_research
    plan = services.offboarding_plan(world.approver, world.scientist)
    assert [(s["action"], s["target"]) for s in plan] == [
        ("delete_app", "JupyterServer default on profile maria"),
        ("delete_app", "JupyterLab default on space maria-notes"),
        ("delete_space", "private space maria-notes"),
        ("flag_shared_space", "shared space team-forecast (owned by maria)"),
        ("delete_profile", "user profile maria"),
        ("close_login", "portal login maria"),  # the final step, last
    ]
    # The plan covers every domain of the person, but only an approver of one of them may propose it.
    grant(world.outsider, "domain_approver", world.other)
    with pytest.raises(ValidationError, match="nothing for you to offboard"):
        services.do_plan_offboarding(actor=world.outsider, person=world.scientist, reason="left")


def test_a_plan_needs_a_reason_something_to_do_and_another_approver(maria_in_research: World) -> None:
    world = maria_in_research
    with pytest.raises(ValidationError, match="Say why"):
        services.do_plan_offboarding(actor=world.approver, person=world.scientist, reason="")
    with pytest.raises(ValidationError, match="nothing for you to offboard"):
        services.do_plan_offboarding(actor=world.approver, person=world.finance, reason="left")
    with pytest.raises(ValidationError, match="Only an admin or a domain approver"):
        services.do_plan_offboarding(actor=world.lead, person=world.scientist, reason="left")
    plan = services.do_plan_offboarding(actor=world.approver, person=world.scientist, reason="Left the company")
    with pytest.raises(ValidationError, match="already has an offboarding in progress"):
        services.do_plan_offboarding(actor=world.approver2, person=world.scientist, reason="again")
    with pytest.raises(ValidationError, match="Nobody approves their own plan"):
        services.do_approve_offboarding(plan, actor=world.approver)
    assert Offboarding.objects.get().status == "planned"


def test_an_approved_plan_runs_stops_at_a_failure_and_resumes(
    maria_in_research: World, django_capture_on_commit_callbacks: Any
) -> None:
    world = maria_in_research
    domain_id = world.research.domain_id
    plan = services.do_plan_offboarding(actor=world.approver, person=world.scientist, reason="Left the company")
    with django_capture_on_commit_callbacks(execute=True):
        services.do_approve_offboarding(plan, actor=world.approver2)
    plan.refresh_from_db()
    # SageMaker keeps a profile that still owns a space: the run stops there, with the AWS answer.
    assert plan.status == "failed"
    assert "delete_profile" not in plan.error and "ResourceInUse" in plan.error, plan.error
    states = list(plan.steps.values_list("action", "state"))
    assert states == [
        ("delete_app", "done"),
        ("delete_app", "done"),
        ("delete_space", "done"),
        ("flag_shared_space", "flagged"),
        ("delete_profile", "failed"),
        ("close_login", "pending"),
    ]
    world.scientist.refresh_from_db()
    assert world.scientist.is_active  # the login closes last, after every AWS step
    assert App.objects.filter(user_profile__name="maria", status="Deleted").count() == 1
    assert Space.objects.get(name="maria-notes").removed_at is not None
    assert UserProfile.objects.get(name="maria").removed_at is None  # nothing removed that AWS still has

    # Someone moves the team's space; the plan resumes after the last step that finished.
    sagemaker().delete_space(DomainId=domain_id, SpaceName="team-forecast")
    calls_before = AuditEvent.objects.filter(request_id=plan.request_id, action__startswith="aws.").count()
    with django_capture_on_commit_callbacks(execute=True):
        services.do_resume_offboarding(plan, actor=world.approver2)
    plan.refresh_from_db()
    assert plan.status == "done", plan.error
    assert plan.attempts == 2
    assert (
        AuditEvent.objects.filter(request_id=plan.request_id, action__startswith="aws.").count() == calls_before + 1
    )  # only the profile step ran again
    assert not [
        p
        for p in sagemaker().list_user_profiles(DomainIdEquals=domain_id)["UserProfiles"]
        if p["UserProfileName"] == "maria"
    ]
    assert UserProfile.objects.get(name="maria").removed_at is not None
    world.scientist.refresh_from_db()
    assert not world.scientist.is_active


def test_every_step_is_idempotent(maria_in_research: World, django_capture_on_commit_callbacks: Any) -> None:
    from onboarding import provision

    world = maria_in_research
    client = sagemaker()
    client.delete_space(DomainId=world.research.domain_id, SpaceName="team-forecast")
    client.delete_app(
        DomainId=world.research.domain_id, UserProfileName="maria", AppType="JupyterServer", AppName="default"
    )  # already gone when the task comes
    plan = services.do_plan_offboarding(actor=world.admin, person=world.scientist, reason="Left")
    with django_capture_on_commit_callbacks(execute=True):
        services.do_approve_offboarding(plan, actor=world.approver)
    plan.refresh_from_db()
    assert plan.status == "done", plan.error
    assert plan.steps.get(position=0).message == "Already gone."
    Offboarding.objects.filter(pk=plan.pk).update(status="running")
    OffboardingStep.objects.filter(offboarding=plan).update(state="pending")
    provision.run_offboarding(plan.pk, plan.task_token)  # a redelivered run does everything again without an error
    plan.refresh_from_db()
    assert plan.status == "done", plan.error


def test_an_approver_of_only_some_of_the_domains_cannot_approve(maria_in_research: World) -> None:
    world = maria_in_research
    from tests.factories import UserFactory, grant

    risk_only = UserFactory(username="risk-approver")
    grant(risk_only, "domain_approver", world.risk)
    plan = services.do_plan_offboarding(actor=world.admin, person=world.scientist, reason="Left")
    with pytest.raises(ValidationError, match="touches domains you do not approve in"):
        services.do_approve_offboarding(plan, actor=risk_only)
