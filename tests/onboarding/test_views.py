"""Onboarding pages: forms with server-side validation, the inbox deciding in place, timelines, outsiders' 404s,
pinned query counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from onboarding import services
from onboarding.models import PersonaTemplate, ProfileRequest, SpacePolicy, SpaceRequest
from portal.models import AuditEvent
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_scientist_requests_a_profile_from_the_form(world: World) -> None:
    client = client_for(world.scientist)
    form = client.get(reverse("onboarding:profile-request-new"))
    assert form.status_code == 200 and "research" in form.content.decode()
    # Choosing the domain re-renders the form (HTMX) with its personas and the name the profile will get.
    partial = client.get(
        reverse("onboarding:profile-request-new"), {"domain": world.research.pk}, headers={"HX-Request": "true"}
    )
    body = partial.content.decode()
    assert "<html" not in body and "Data scientist" in body and "will be named <strong>maria</strong>" in body
    response = client.post(
        reverse("onboarding:profile-request-new"),
        {"domain": world.research.pk, "template": world.persona.pk, "justification": "churn"},
    )
    req = ProfileRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == req.get_absolute_url()
    detail = client.get(response["Location"]).content.decode()
    assert "Waiting for approval" in detail and "profilerequest.submitted" in detail


def test_the_form_shows_the_rule_that_refused(world: World) -> None:
    client = client_for(world.lead)
    response = client.post(
        reverse("onboarding:profile-request-new"), {"domain": world.research.pk, "template": world.persona.pk}
    )
    assert response.status_code == 200
    assert (
        "You already have a profile in research (leila): one person, one profile per domain."
        in response.content.decode()
    )
    response = client.post(reverse("onboarding:profile-request-new"), {"domain": world.research.pk})
    assert "This field is required." in response.content.decode()
    assert not ProfileRequest.objects.exists()


def test_people_without_a_requesting_role_get_404_on_the_forms(world: World) -> None:
    assert client_for(world.finance).get(reverse("onboarding:profile-request-new")).status_code == 404
    assert client_for(world.scientist).get(reverse("onboarding:space-request-new")).status_code == 404


def test_an_approver_approves_in_place_from_the_inbox(world: World, django_capture_on_commit_callbacks: Any) -> None:
    req = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
    )
    client = client_for(world.approver)
    inbox = client.get(reverse("onboarding:inbox")).content.decode()
    assert f'id="profile-request-{req.pk}"' in inbox and "Approve" in inbox
    with django_capture_on_commit_callbacks(execute=True):
        row = client.post(
            reverse("onboarding:profile-request-action", args=[req.pk, "approve"]),
            {"from": "inbox"},
            headers={"HX-Request": "true"},
        )
    body = row.content.decode()
    assert body.startswith(f'<tr id="profile-request-{req.pk}"') and 'data-status="approved"' in body
    assert "by arjun" in body and "Approve</button>" not in body
    req.refresh_from_db()
    assert req.status == "active"  # the task ran once the decision committed
    assert ">Active<" in client_for(world.scientist).get(reverse("onboarding:inbox")).content.decode()


def test_a_rejection_without_a_reason_is_refused_in_place(world: World) -> None:
    req = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
    )
    client = client_for(world.approver)
    url = reverse("onboarding:profile-request-action", args=[req.pk, "reject"])
    body = client.post(url, {"from": "inbox", "reason": ""}, headers={"HX-Request": "true"}).content.decode()
    assert "Say why the request is rejected" in body and 'data-status="submitted"' in body
    client.post(url, {"reason": "Wrong domain"})
    req.refresh_from_db()
    assert (req.status, req.decision_reason) == ("rejected", "Wrong domain")


def test_the_request_page_polls_while_provisioning_and_stops_after(world: World) -> None:
    req = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
    )
    ProfileRequest.objects.filter(pk=req.pk).update(status="provisioning", progress="Waiting for AWS: Pending")
    client = client_for(world.scientist)
    status_url = reverse("onboarding:profile-request-progress", args=[req.pk])
    working = client.get(status_url)
    assert working.status_code == 200 and "every 1s" in working.content.decode()
    assert "Waiting for AWS: Pending" in working.content.decode()
    ProfileRequest.objects.filter(pk=req.pk).update(status="active")
    assert client.get(status_url).status_code == 286


def test_a_lead_requests_a_space_and_sees_the_estimate_first(world: World) -> None:
    client = client_for(world.lead)
    form = client.get(
        reverse("onboarding:space-request-new"), {"domain": world.research.pk}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "owned by your profile <strong>leila</strong>" in form
    assert '<option value="ml.g5.xlarge"' not in form  # only the domain's allowed instance types
    estimate = client.get(
        reverse("onboarding:space-estimate"),
        {"domain": world.research.pk, "instance_type": "ml.m5.large", "ebs_size_gb": 50},
    ).content.decode()
    assert "Estimated cost: $26.32 a month" in estimate and "read 2026-11-01" in estimate
    fields = world.space_fields()
    response = client.post(
        reverse("onboarding:space-request-new"),
        {**fields, "domain": world.research.pk, "expires_on": fields["expires_on"].isoformat()},
    )
    req = SpaceRequest.objects.get()
    assert response.status_code == 302 and str(req.estimated_monthly_usd) == "26.32"


def test_a_space_form_error_keeps_what_was_typed(world: World) -> None:
    fields = world.space_fields(ebs_size_gb=900, expires_on=timezone.localdate() - timedelta(days=1))
    response = client_for(world.lead).post(
        reverse("onboarding:space-request-new"),
        {**fields, "domain": world.research.pk, "expires_on": fields["expires_on"].isoformat()},
    )
    body = response.content.decode()
    assert "The expiry date must be in the future." in body and "Between 5 and 100 GB in research." in body
    assert 'value="Churn model for 2027"' in body or "Churn model for 2027</textarea>" in body
    assert not SpaceRequest.objects.exists()


def test_approvers_manage_personas_and_space_policies_audited(world: World) -> None:
    client = client_for(world.approver)
    assert client.get(reverse("onboarding:persona-list")).status_code == 200
    response = client.post(
        reverse("onboarding:persona-new"),
        {
            "domain": world.research.pk,
            "name": "ML engineer",
            "execution_role": "not-a-role",
            "allowed_instance_types": ["ml.t3.medium"],
            "idle_timeout_minutes": 30,
        },
    )
    body = response.content.decode()
    assert "Not an IAM role ARN" in body and "greater than or equal to 60" in body
    response = client.post(
        reverse("onboarding:persona-new"),
        {
            "domain": world.research.pk,
            "name": "ML engineer",
            "execution_role": world.persona.execution_role,
            "allowed_instance_types": ["ml.t3.medium", "ml.g5.xlarge"],
            "hidden_app_types": ["Canvas"],
            "idle_timeout_minutes": 120,
            "studio_new_landing": "on",
            "active": "on",
        },
    )
    assert response.status_code == 302
    persona = PersonaTemplate.objects.get(name="ML engineer")
    assert persona.allowed_instance_types == ["ml.t3.medium", "ml.g5.xlarge"]
    assert AuditEvent.objects.filter(action="persona.created", object_id=str(persona.pk)).exists()
    response = client.post(
        reverse("onboarding:space-policy", args=[world.research.pk]),
        {"allowed_instance_types": ["ml.t3.medium"], "max_ebs_gb": 50, "max_days": 90, "auto_approve_quota": 2},
    )
    assert response.status_code == 302
    assert SpacePolicy.objects.get(domain=world.research).auto_approve_quota == 2
    event = AuditEvent.objects.get(action="space_policy.updated")
    assert event.before["auto_approve_quota"] == 0 and event.after["auto_approve_quota"] == 2
    # Another domain's approver sees neither.
    assert client.get(reverse("onboarding:space-policy", args=[world.other.pk])).status_code == 404
    assert client.get(reverse("onboarding:persona-edit", args=[world.other_persona.pk])).status_code == 404


def test_an_outsider_gets_404_on_every_request_page(world: World) -> None:
    profile_req = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
    )
    space_req = services.do_submit_space_request(actor=world.lead, **world.space_fields())
    client = client_for(world.outsider)
    for name, pk in (
        ("profile-request-detail", profile_req.pk),
        ("profile-request-progress", profile_req.pk),
        ("space-request-detail", space_req.pk),
        ("space-request-progress", space_req.pk),
    ):
        assert client.get(reverse(f"onboarding:{name}", args=[pk])).status_code == 404, name
    for kind, pk in (("profile", profile_req.pk), ("space", space_req.pk)):
        for action in ("approve", "reject", "cancel", "retry"):
            url = reverse(f"onboarding:{kind}-request-action", args=[pk, action])
            assert client.post(url, {"reason": "x"}).status_code == 404
    assert "maria" not in client.get(reverse("onboarding:profile-request-list")).content.decode()
    assert "churn-model" not in client.get(reverse("onboarding:space-request-list")).content.decode()
    profile_req.refresh_from_db()
    assert profile_req.status == "submitted"


def _leavers_with_profiles(world: World, count: int) -> None:
    """``count`` people who left the directory, each with a live profile (and a login) in the research domain."""
    from django.utils import timezone

    from domains.models import Person
    from profiles.models import UserProfile
    from tests.factories import UserFactory

    for i in range(count):
        login = UserFactory(username=f"leaver{i}")
        person = Person.objects.create(
            display_name=f"Leaver {i}", status=Person.Status.LEFT, left_at=timezone.now(), portal_user=login
        )
        profile = UserProfile.objects.get(pk=world.lead_profile.pk)
        profile.pk = None
        profile.name, profile.arn, profile.person, profile.owner = f"leaver{i}", f"{profile.arn}-{i}", person, login
        profile.save()


# The request lists read the domains in the person's scope once more (6, was 5): the domain filter's choices.
# The inbox reads the change sets waiting for the approver (12, was 11): the section change sets add; and the
# backfill plans waiting for them (13): the tag backfill's section; the leavers proposed for offboarding (14).
@pytest.mark.parametrize(
    "name, count",
    [("onboarding:profile-request-list", 6), ("onboarding:space-request-list", 6), ("onboarding:inbox", 14)],
)
def test_list_pages_pin_their_query_counts(world: World, name: str, count: int) -> None:
    from tests.factories import UserFactory, grant

    for i in range(6):
        person = UserFactory(username=f"person{i}")
        grant(person, "data_scientist", world.research)
        services.do_submit_profile_request(actor=person, person=person, domain=world.research, template=world.persona)
        services.do_submit_space_request(actor=world.lead, **world.space_fields(space_name=f"space{i}"))
    _leavers_with_profiles(world, 3)
    client = client_for(world.approver)
    client.get(reverse(name))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(name)).status_code == 200
    assert len(queries) == count, "\n".join(q["sql"] for q in queries.captured_queries)


def test_an_offboarding_is_planned_shown_and_approved_from_the_pages(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(world.approver)
    preview = client.get(reverse("onboarding:offboarding-new"), {"person": "leila"}).content.decode()
    assert "user profile leila" in preview and "Ask for approval" in preview
    missing = client.post(reverse("onboarding:offboarding-new"), {"person": "leila", "reason": ""})
    assert "This field is required." in missing.content.decode()
    created = client.post(reverse("onboarding:offboarding-new"), {"person": "leila", "reason": "Moved team"})
    from onboarding.models import Offboarding

    plan = Offboarding.objects.get()
    assert created["Location"] == plan.get_absolute_url()
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "Another approver must approve this plan." in page and 'id="approve"' not in page
    other = client_for(world.approver2)
    assert 'id="approve"' in other.get(plan.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        other.post(reverse("onboarding:offboarding-action", args=[plan.pk, "approve"]))
    plan.refresh_from_db()
    assert plan.status == "done", plan.error
    status = other.get(reverse("onboarding:offboarding-progress", args=[plan.pk]))
    assert status.status_code == 286 and 'aria-valuenow="100"' in status.content.decode()
    # The final step closed leila's portal login: her session no longer works.
    assert client_for(world.lead).get(plan.get_absolute_url())["Location"].startswith("/login/")
    world.lead.refresh_from_db()
    assert not world.lead.is_active


def test_the_audit_log_filters_by_request_id(world: World) -> None:
    req = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
    )
    page = client_for(world.approver).get(reverse("portal:audit-list"), {"request_id": req.request_id}).content
    rows = page.decode().split('<div id="results">', 1)[1]
    assert "<code>profilerequest.submitted</code>" in rows and "role.assigned" not in rows
    api = client_for(world.approver).get("/api/audit/", {"request_id": req.request_id}).json()
    assert [e["action"] for e in api["results"]] == ["profilerequest.submitted"]


def test_expired_spaces_wait_in_the_approvers_inbox(world: World) -> None:
    req = services.do_submit_space_request(actor=world.lead, **world.space_fields())
    SpaceRequest.objects.filter(pk=req.pk).update(status="expired")
    inbox = client_for(world.approver).get(reverse("onboarding:inbox")).content.decode()
    assert 'id="expired-spaces"' in inbox and "churn-model" in inbox
    assert 'id="expired-spaces"' not in client_for(world.lead).get(reverse("onboarding:inbox")).content.decode()


def test_the_menu_shows_offboarding_to_approvers_only(world: World) -> None:
    link = f'href="{reverse("onboarding:offboarding-list")}"'
    assert link in client_for(world.approver).get(reverse("home")).content.decode()
    assert link not in client_for(world.scientist).get(reverse("home")).content.decode()


def test_the_offboarding_status_fragment_keeps_its_query_count(world: World) -> None:
    plan = services.do_plan_offboarding(actor=world.approver, person=world.lead, reason="Moved team")
    client = client_for(world.approver)
    url = reverse("onboarding:offboarding-progress", args=[plan.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 286  # planned, not running: the page stops polling
    assert len(queries) == 5, "\n".join(q["sql"] for q in queries.captured_queries)
