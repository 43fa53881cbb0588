"""The rules of profile and space requests, each with its message, and provisioning against the sandbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from awssandbox.studio import studio_state
from onboarding import services
from onboarding.models import ProfileRequest, Request, SpaceRequest
from portal.models import AuditEvent
from profiles.models import Space, UserProfile
from tests.factories import UserFactory, grant
from tests.inventory import sagemaker
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


def submit(world: World, person: Any = None, actor: Any = None, domain: Any = None, **kwargs: Any) -> ProfileRequest:
    person = person or world.scientist
    domain = domain or world.research
    template = kwargs.pop("template", None) or (world.risk_persona if domain == world.risk else world.persona)
    return services.do_submit_profile_request(
        actor=actor or person, person=person, domain=domain, template=template, **kwargs
    )


def messages_of(excinfo: Any) -> str:
    return " ".join(excinfo.value.messages)


# -- names ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "username, expected",
    [
        ("maria.garcia@example.com", "maria-garcia"),
        ("Maria_Garcia", "maria-garcia"),
        ("j--doe", "j-doe"),
        ("ñandú-ü", "nandu-u"),  # transliterated, not dropped (it once gave "and")
        ("Søren.Ærø", "soren-aero"),
        ("Łukasz.Straße", "lukasz-strasse"),
    ],
)
def test_the_profile_name_is_derived_from_the_person(world: World, username: str, expected: str) -> None:
    person = UserFactory(username=username)
    assert services.derive_profile_name(person, world.research) == expected


def test_on_sso_domains_the_name_comes_from_the_sso_user_name(world: World) -> None:
    assert services.derive_profile_name(world.scientist, world.risk, "m.garcia") == "m-garcia"
    assert services.derive_profile_name(world.scientist, world.research, "m.garcia") == "maria"


@pytest.mark.parametrize("name", ["team-alpha", "shared", "test1", "admin-bob", "Shared-ML", "default"])
def test_generic_or_shared_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="shared or generic name"):
        services.check_profile_name(name)


@pytest.mark.parametrize("name", ["teamster", "maria", "adminton-j", "testa"])
def test_personal_names_that_merely_start_like_generic_ones_pass(name: str) -> None:
    services.check_profile_name(name)


def test_a_name_sagemaker_would_refuse_is_refused_before_aws(world: World) -> None:
    person = UserFactory(username="___")
    grant(person, "data_scientist", world.research)
    with pytest.raises(ValidationError, match="No profile name can be made"):
        submit(world, person=person)
    with pytest.raises(ValidationError, match="not a valid SageMaker name"):
        services.check_profile_name("x" * 64)


def test_a_name_with_nothing_latin_left_is_refused_with_a_message(world: World) -> None:
    person = UserFactory(username="李小龙", email="")
    grant(person, "data_scientist", world.research)
    with pytest.raises(ValidationError, match="No profile name can be made from the user name '李小龙'"):
        submit(world, person=person)


def test_a_generic_login_cannot_get_a_profile(world: World) -> None:
    person = UserFactory(username="team-analytics")
    grant(person, "data_scientist", world.research)
    with pytest.raises(ValidationError, match="shared or generic"):
        submit(world, person=person)
    assert not ProfileRequest.objects.exists()


# -- one person, one profile ------------------------------------------------------------------------------------
def test_a_second_request_in_the_same_domain_is_refused(world: World) -> None:
    first = submit(world)
    with pytest.raises(ValidationError) as excinfo:
        submit(world)
    assert f"already have a request for a profile in research ({first.request_id}" in messages_of(excinfo)
    assert submit(world, domain=world.risk).profile_name == "maria"  # another domain is fine


def test_a_person_who_already_has_a_profile_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        submit(world, person=world.lead)
    assert "You already have a profile in research (leila): one person, one profile per domain." in messages_of(excinfo)


def test_a_cancelled_request_frees_the_place(world: World) -> None:
    req = submit(world)
    services.do_cancel(req, actor=world.scientist)
    assert submit(world).status == Request.Status.SUBMITTED


def test_only_people_with_a_role_in_the_domain_may_ask(world: World) -> None:
    with pytest.raises(ValidationError, match="ask an admin for the data scientist role"):
        submit(world, person=world.outsider, domain=world.research)
    with pytest.raises(ValidationError, match="Only an admin or an approver"):
        submit(world, person=world.outsider, actor=world.scientist)


def test_an_approver_may_ask_on_someone_s_behalf(world: World) -> None:
    req = submit(world, person=world.scientist, actor=world.approver)
    assert (req.person, req.requested_by) == (world.scientist, world.approver)


def test_the_persona_must_belong_to_the_domain(world: World) -> None:
    with pytest.raises(ValidationError, match="Choose one of this domain's persona templates"):
        submit(world, template=world.other_persona)


# -- decisions --------------------------------------------------------------------------------------------------
def test_only_an_approver_of_the_domain_decides(world: World) -> None:
    req = submit(world, domain=world.risk)
    for person in (world.approver2, world.lead, world.finance, world.outsider):
        with pytest.raises(ValidationError, match="Only an approver of the domain risk"):
            services.do_approve(req, actor=person)
    req.refresh_from_db()
    assert req.status == Request.Status.SUBMITTED


def test_nobody_approves_their_own_request(world: World) -> None:
    grant(world.approver, "data_scientist", world.research)
    req = submit(world, person=world.approver)
    with pytest.raises(ValidationError, match="Nobody approves or rejects their own request"):
        services.do_approve(req, actor=world.approver)
    on_behalf = submit(world, person=world.scientist, actor=world.approver2)
    with pytest.raises(ValidationError, match="their own request"):
        services.do_approve(on_behalf, actor=world.approver2)


def test_a_rejection_needs_a_reason_and_tells_the_requester(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    req = submit(world)
    with pytest.raises(ValidationError, match="Say why"):
        services.do_reject(req, actor=world.approver, reason="  ")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.do_reject(req, actor=world.approver, reason="Use the risk domain")
    req.refresh_from_db()
    assert (req.status, req.decision_reason, req.decided_by) == ("rejected", "Use the risk domain", world.approver)
    assert [m.to for m in mail.outbox] == [["maria@example.com"]]
    assert "Reason: Use the risk domain" in mail.outbox[0].body
    assert f"/requests/profiles/{req.pk}/" in mail.outbox[0].body
    with pytest.raises(ValidationError, match="only a request waiting for approval can be decided"):
        services.do_approve(req, actor=world.approver)


def test_approvers_are_emailed_about_a_new_request(world: World, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        req = submit(world)
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["arjun@example.com", "bea@example.com"]
    assert req.request_id in mail.outbox[0].subject and "http" in mail.outbox[0].body


# -- provisioning -----------------------------------------------------------------------------------------------
def approve(req: Request, actor: Any, capture: Any) -> Request:
    with capture(execute=True):
        services.do_approve(req, actor=actor)
    req.refresh_from_db()
    return req


def test_an_approved_request_is_provisioned_with_the_persona_settings_and_tags(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    studio_state("123456789012", "us-east-1").pending_describes = 2
    req = approve(submit(world), world.approver, django_capture_on_commit_callbacks)
    assert req.status == Request.Status.ACTIVE, req.error
    answer = sagemaker().describe_user_profile(DomainId=world.research.domain_id, UserProfileName="maria")
    assert answer["Status"] == "InService"
    settings = answer["UserSettings"]
    assert settings["ExecutionRole"] == world.persona.execution_role
    assert settings["DefaultLandingUri"] == "studio::" and settings["StudioWebPortal"] == "ENABLED"
    assert settings["StudioWebPortalSettings"]["HiddenAppTypes"] == ["JupyterServer"]
    assert "ml.g5.xlarge" in settings["StudioWebPortalSettings"]["HiddenInstanceTypes"]
    assert "ml.m5.large" not in settings["StudioWebPortalSettings"]["HiddenInstanceTypes"]
    assert settings["JupyterLabAppSettings"]["AppLifecycleManagement"]["IdleSettings"]["IdleTimeoutInMinutes"] == 90
    tags = {t["Key"]: t["Value"] for t in sagemaker().list_tags(ResourceArn=answer["UserProfileArn"])["Tags"]}
    assert tags == {"owner": "maria", "portal:request-id": req.request_id, "portal:approver": "arjun"}
    profile = UserProfile.objects.get(arn=answer["UserProfileArn"])
    assert (profile.owner, profile.status, req.profile) == (world.scientist, "InService", profile)
    actions = list(AuditEvent.objects.filter(request_id=req.request_id).order_by("pk").values_list("action", flat=True))
    assert actions == [
        "profilerequest.submitted",
        "profilerequest.approved",
        "aws.create_user_profile",
        "profilerequest.active",
    ]


def test_an_sso_profile_binds_to_the_requesters_own_identity_center_user(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    req = approve(submit(world, domain=world.risk), world.approver, django_capture_on_commit_callbacks)
    assert req.status == "active", req.error
    assert req.sso_user_name == "maria"  # from the directory, not typed
    answer = sagemaker().describe_user_profile(DomainId=world.risk.domain_id, UserProfileName="maria")
    assert answer["SingleSignOnUserValue"] == "maria"
    profile = UserProfile.objects.get(arn=req.profile_arn)
    assert profile.person is not None and profile.person.portal_user == world.scientist


def test_a_scientist_cannot_request_a_profile_bound_to_someone_else(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        submit(world, domain=world.risk, sso_user_name="arjun")  # another person's Identity Center user
    assert "not arjun" in messages_of(excinfo) and "someone else" in messages_of(excinfo)
    assert not ProfileRequest.objects.exists()
    # Typing one's own user name (any case) is the same as typing nothing.
    assert submit(world, domain=world.risk, sso_user_name="MARIA").sso_user_name == "maria"


def test_a_person_without_an_identity_center_user_cannot_get_an_sso_profile(world: World) -> None:
    with pytest.raises(ValidationError, match="no current Identity Center user"):
        submit(world, person=world.lead, actor=world.admin, domain=world.risk)


def test_provisioning_twice_creates_one_profile(world: World, django_capture_on_commit_callbacks: Any) -> None:
    from onboarding import provision

    req = approve(submit(world), world.approver, django_capture_on_commit_callbacks)
    # A task that died between CreateUserProfile and noting the profile's ARN: the next turn creates again, AWS
    # answers ResourceInUse, the request-id tag matches, and the profile is adopted.
    ProfileRequest.objects.filter(pk=req.pk).update(status="provisioning", profile_arn="")
    while provision.provision_profile(req.pk, req.task_token) is not None:
        pass
    req.refresh_from_db()
    assert req.status == "active"
    names = [
        p["UserProfileName"]
        for p in sagemaker().list_user_profiles(DomainIdEquals=world.research.domain_id)["UserProfiles"]
    ]
    assert names.count("maria") == 1
    assert AuditEvent.objects.filter(request_id=req.request_id, action="aws.adopt_user_profile").exists()


def test_a_profile_created_by_someone_else_is_not_adopted(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    req = submit(world)
    sagemaker().create_user_profile(
        DomainId=world.research.domain_id,
        UserProfileName="maria",
        Tags=[{"Key": "portal:request-id", "Value": "PR-999"}],
    )
    req = approve(req, world.approver, django_capture_on_commit_callbacks)
    assert req.status == Request.Status.FAILED
    assert (
        "already exists in research and was not created by this request (its portal:request-id tag is PR-999)"
        in req.error
    )
    assert not UserProfile.objects.filter(name="maria").exists()


def test_throttling_is_retried_and_an_aws_error_fails_the_request_retryably(
    world: World, django_capture_on_commit_callbacks: Any, fast_aws_backoff: None, settings: Any
) -> None:
    from awssandbox import faults

    settings.AWS_STEP_RETRY_SECONDS = 0
    faults.registry.add(service="sagemaker", kind="throttle", operation="CreateUserProfile", count=4)
    req = approve(submit(world), world.approver, django_capture_on_commit_callbacks)
    assert req.status == "active", req.error  # 4 throttles < botocore's 3 attempts x our 5 tries
    faults.registry.clear()

    other = submit(world, domain=world.risk)
    faults.registry.add(service="sagemaker", kind="server_error", operation="CreateUserProfile", count=15)
    other = approve(other, world.approver, django_capture_on_commit_callbacks)
    assert other.status == "failed" and other.error.startswith("CreateUserProfile: "), other.error
    faults.registry.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.do_retry(other, actor=world.scientist)
    other.refresh_from_db()
    assert other.status == "active" and other.attempts == 2


def test_a_failure_is_emailed_to_the_requester(world: World, django_capture_on_commit_callbacks: Any) -> None:
    from awssandbox import faults

    req = submit(world)
    faults.registry.add(service="sagemaker", kind="server_error", operation="CreateUserProfile", count=15)
    mail.outbox.clear()
    approve(req, world.approver, django_capture_on_commit_callbacks)
    faults.registry.clear()
    subjects = [m.subject for m in mail.outbox]
    assert any(s.startswith(f"[{req.request_id}] Failed") for s in subjects), subjects


# -- shared spaces ----------------------------------------------------------------------------------------------
def test_the_estimate_uses_the_price_table() -> None:
    estimate = services.estimate_space("ml.m5.large", 50)
    assert (str(estimate["compute"]), str(estimate["storage"])) == ("19.32", "7.00")  # 0.115 x 168 h; 50 x 0.14
    assert estimate["total"] == estimate["compute"] + estimate["storage"]


def test_a_space_request_is_checked_against_the_policy(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.do_submit_space_request(
            actor=world.lead,
            **world.space_fields(
                instance_type="ml.g5.xlarge",
                ebs_size_gb=500,
                expires_on=timezone.localdate() + timedelta(days=400),
                space_name="bad name",
            ),
        )
    errors = excinfo.value.message_dict
    assert errors["instance_type"] == ["research allows ml.t3.medium, ml.m5.large."]
    assert errors["ebs_size_gb"] == ["Between 5 and 100 GB in research."]
    assert errors["expires_on"][0].startswith("At most 180 days from today in research")
    assert "space_name" in errors
    assert not SpaceRequest.objects.exists()


def test_only_a_team_lead_with_a_profile_may_request_a_space(world: World) -> None:
    with pytest.raises(ValidationError, match="Only a team lead of research"):
        services.do_submit_space_request(actor=world.scientist, **world.space_fields())
    lead = UserFactory(username="noprofile")
    grant(lead, "team_lead", world.research)
    with pytest.raises(ValidationError, match="you have none in research"):
        services.do_submit_space_request(actor=lead, **world.space_fields())


def test_a_space_is_approved_then_created_shared_and_owned_by_the_lead(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        req = services.do_submit_space_request(actor=world.lead, **world.space_fields())
    assert (
        req.status == "submitted" and req.estimated_monthly_usd == services.estimate_space("ml.m5.large", 50)["total"]
    )
    req = approve(req, world.approver, django_capture_on_commit_callbacks)
    assert req.status == "active", req.error
    answer = sagemaker().describe_space(DomainId=world.research.domain_id, SpaceName="churn-model")
    assert answer["SpaceSharingSettings"] == {"SharingType": "Shared"}
    assert answer["OwnershipSettings"] == {"OwnerUserProfileName": "leila"}
    assert answer["SpaceSettings"]["JupyterLabAppSettings"]["DefaultResourceSpec"]["InstanceType"] == "ml.m5.large"
    space = Space.objects.get(name="churn-model")
    assert (space.owner_profile, space.sharing_type, space.ebs_size_gb) == (world.lead_profile, "Shared", 50)


def test_spaces_within_the_quota_are_approved_automatically(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    profile = UserProfile.objects.create(
        domain=world.other, name="olga", arn=f"{world.other.arn}/olga", status="InService", owner=world.outsider
    )
    sagemaker().create_user_profile(DomainId=world.other.domain_id, UserProfileName="olga")
    from onboarding.models import SpacePolicy

    SpacePolicy.objects.filter(domain=world.other).update(auto_approve_quota=1)
    fields = world.space_fields(domain=world.other, instance_type="ml.t3.medium")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.do_submit_space_request(actor=world.outsider, **fields)
        second = services.do_submit_space_request(actor=world.outsider, **{**fields, "space_name": "second"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.auto_approved, first.owner_profile) == ("active", True, profile)
    assert (second.status, second.auto_approved) == ("submitted", False)


def test_expiry_reminds_the_lead_then_proposes_deletion(world: World, django_capture_on_commit_callbacks: Any) -> None:
    from onboarding import provision

    with django_capture_on_commit_callbacks(execute=True):
        req = services.do_submit_space_request(
            actor=world.lead, **world.space_fields(expires_on=timezone.localdate() + timedelta(days=3))
        )
    req = approve(req, world.approver, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the reminder is sent once its row is committed
        assert provision.check_space_expiry() == {"reminded": 1, "expired": 0}
        assert provision.check_space_expiry() == {"reminded": 0, "expired": 0}  # once
    assert mail.outbox[0].to == ["leila@example.com"] and "expires in 3 day(s)" in mail.outbox[0].body
    SpaceRequest.objects.filter(pk=req.pk).update(expires_on=timezone.localdate())
    assert provision.check_space_expiry() == {"reminded": 0, "expired": 1}
    req.refresh_from_db()
    assert req.status == "expired"
    with pytest.raises(ValidationError, match="Only an approver of research may delete"):
        services.do_delete_space(req, actor=world.lead)
    with django_capture_on_commit_callbacks(execute=True):
        services.do_delete_space(req, actor=world.approver)
    req.refresh_from_db()
    assert req.status == "deleted"
    assert not any(
        s["SpaceName"] == "churn-model"
        for s in sagemaker().list_spaces(DomainIdEquals=world.research.domain_id)["Spaces"]
    )
    assert Space.objects.get(name="churn-model").removed_at is not None  # kept, marked removed


def test_a_lead_extends_an_expired_space(world: World, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        req = services.do_submit_space_request(actor=world.lead, **world.space_fields())
    req = approve(req, world.approver, django_capture_on_commit_callbacks)
    SpaceRequest.objects.filter(pk=req.pk).update(status="expired")
    with pytest.raises(ValidationError, match="no later than"):
        services.do_extend_space(req, actor=world.lead, expires_on=timezone.localdate() + timedelta(days=999))
    services.do_extend_space(req, actor=world.lead, expires_on=timezone.localdate() + timedelta(days=30))
    req.refresh_from_db()
    assert req.status == "active"
