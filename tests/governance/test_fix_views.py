"""The fix pages (the preview with its confirmation, the Fix buttons, the list's "Fix all N") and
``POST /api/findings/propose-fix/``, on the onboarding organisation in the sandbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from changesets.models import ChangeSet
from governance import services
from governance.models import Finding, FindingFix
from portal.models import AuditEvent
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db
API = "/api/findings/propose-fix/"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def finding(check_id: str, name: str) -> Finding:
    return Finding.objects.get(check_id=check_id, resource_name=name, status__in=["open", "accepted"])


def fix_url(**params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{reverse('governance:fix')}?{query}"


# -- the preview page ----------------------------------------------------------------------------------------------
def test_the_preview_shows_the_calls_and_proposes_only_once_confirmed(world: World) -> None:
    co01 = finding("CO-01", "leila")
    client = client_for(world.approver)
    page = client.get(fix_url(findings=co01.pk))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Idle shutdown 120 min on all 1 profile of research" in body
    assert "UpdateDomain" in body and "LifecycleManagement" in body
    assert "<del>DISABLED</del>" in body and "<ins>ENABLED</ins>" in body  # before and after
    assert 'id="propose-fix"' in body and "data-confirm=" in body
    assert not ChangeSet.objects.exists()  # looking proposes nothing

    digest = page.context["plan"].digest
    response = client.post(reverse("governance:fix"), {"findings": co01.pk, "digest": digest, "title": ""})
    cs = ChangeSet.objects.get()
    assert response.status_code == 302 and response["Location"] == cs.get_absolute_url()
    assert cs.title == "Idle shutdown 120 min on all 1 profile of research" and cs.proposed_by == world.approver
    assert FindingFix.objects.filter(finding=co01, change_set=cs).exists()
    assert AuditEvent.objects.filter(action="finding.fix_proposed", object_id=str(co01.pk)).exists()
    # The finding now says so, and offers no second fix.
    detail = client.get(reverse("governance:finding-detail", args=[co01.pk])).content.decode()
    assert "Fix proposed in change set" in detail and cs.ref in detail and 'id="fix-finding"' not in detail
    again = client.get(fix_url(findings=co01.pk))
    assert again.status_code == 400 and f"{cs.ref} (proposed) already fixes" in again.content.decode()


def test_a_confirmation_of_a_plan_that_changed_is_shown_again_not_proposed(world: World) -> None:
    co01 = finding("CO-01", "leila")
    client = client_for(world.approver)
    digest = client.get(fix_url(findings=co01.pk)).context["plan"].digest
    services.do_edit_policy(world.approver2, world.research, idle_timeout_cap_minutes=90)
    response = client.post(reverse("governance:fix"), {"findings": co01.pk, "digest": digest})
    body = response.content.decode()
    assert response.status_code == 400 and "The plan changed since it was shown" in body
    assert "Idle shutdown 90 min" in body and not ChangeSet.objects.exists()


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "Say which findings to fix"),
        ({"findings": "abc"}, "is not a finding number"),
        ({"check": "SE-01", "domain": "x"}, "not a check a change set can fix"),
        ({"check": "SE-04", "domain": "research-id"}, "No open SE-04 finding in research"),
    ],
)
def test_refusals_say_why(world: World, params: dict[str, str], reason: str) -> None:
    if params.get("domain") == "research-id":
        params = {**params, "domain": world.research.domain_id}
    response = client_for(world.approver).get(reverse("governance:fix"), params)
    assert response.status_code == 400
    assert reason in response.content.decode()


def test_an_accepted_or_unfixable_finding_is_refused_on_the_page(world: World) -> None:
    co01 = finding("CO-01", "leila")
    services.do_accept(world.approver, co01, reason="Leaves Friday", until=timezone.localdate() + timedelta(days=5))
    client = client_for(world.approver)
    body = client.get(fix_url(findings=co01.pk)).content.decode()
    assert "Only open findings are fixed" in body and "risk accepted" in body and 'id="propose-fix"' not in body
    se01 = finding("SE-01", "research")
    assert "No change set can fix SE-01" in client.get(fix_url(findings=se01.pk)).content.decode()
    refused = client.post(reverse("governance:fix"), {"findings": co01.pk})
    assert refused.status_code == 400 and not ChangeSet.objects.exists()


def test_tg03_asks_for_the_missing_tag_values(world: World) -> None:
    tg03 = finding("TG-03", "research")
    client = client_for(world.approver)
    first = client.get(fix_url(findings=tg03.pk))
    body = first.content.decode()
    assert first.status_code == 400 and "Give a value for cost-center" in body and 'name="tag.cost-center"' in body
    second = client.get(reverse("governance:fix"), {"findings": tg03.pk, "tag.cost-center": "CC-2001"})
    assert second.status_code == 200 and "<ins>CC-2001</ins>" in second.content.decode()
    response = client.post(
        reverse("governance:fix"),
        {"findings": tg03.pk, "tag.cost-center": "CC-2001", "digest": second.context["plan"].digest},
    )
    assert response.status_code == 302
    assert ChangeSet.objects.get().changes.get(operation="AddTags").request["Tags"] == [
        {"Key": "cost-center", "Value": "CC-2001"}
    ]


def test_people_who_may_not_fix_get_404_and_change_nothing(world: World) -> None:
    co01 = finding("CO-01", "leila")
    for person in (world.outsider, world.finance, world.lead, world.scientist):
        client = client_for(person)
        assert client.get(fix_url(findings=co01.pk)).status_code == 404, person
        assert client.post(reverse("governance:fix"), {"findings": co01.pk}).status_code == 404, person
        assert client.get(fix_url(check="CO-01", domain=world.research.domain_id)).status_code == 404, person
    # An approver of another domain: the findings are not theirs to fix.
    other = client_for(world.outsider)
    assert other.get(fix_url(findings=co01.pk)).status_code == 404
    assert not ChangeSet.objects.exists()
    assert Client().get(fix_url(findings=co01.pk)).status_code == 302  # anonymous: to the login page


def test_the_finding_page_offers_fix_to_approvers_only(world: World) -> None:
    co01 = finding("CO-01", "leila")
    url = reverse("governance:finding-detail", args=[co01.pk])
    body = client_for(world.approver).get(url).content.decode()
    assert 'id="fix-finding"' in body and fix_url(findings=co01.pk).replace("&", "&amp;") in body
    lead = client_for(world.lead).get(url).content.decode()
    assert 'id="fix-finding"' not in lead and "an approver of research proposes it" in lead
    se01 = client_for(world.approver).get(reverse("governance:finding-detail", args=[finding("SE-01", "research").pk]))
    assert 'id="fix-finding"' not in se01.content.decode()


def test_the_list_offers_fix_all_per_check_and_domain(world: World) -> None:
    client = client_for(world.approver)
    body = client.get(reverse("governance:finding-list")).content.decode()
    assert 'data-fix-group="CO-05 research"' in body and "Fix all 1" in body
    assert 'data-fix-group="SE-01' not in body  # no change set fixes it
    assert 'data-fix-group="CO-05 other"' not in body  # not the approver's domain
    assert (
        "Fixes you can propose"
        not in client_for(world.finance).get(reverse("governance:finding-list")).content.decode()
    )
    filtered = client.get(reverse("governance:finding-list"), {"check": "CO-01"}).content.decode()
    assert 'data-fix-group="CO-01 research"' in filtered and 'data-fix-group="CO-05' not in filtered
    # Proposed, the group goes and the row says which change set fixes it.
    co05 = finding("CO-05", "leila")
    response = client.post(reverse("governance:fix"), {"check": "CO-05", "domain": world.research.domain_id})
    cs = ChangeSet.objects.get()
    assert response.status_code == 302 and cs.finding_ids == [co05.pk]
    after = client.get(reverse("governance:finding-list")).content.decode()
    assert 'data-fix-group="CO-05 research"' not in after and f"fix {cs.ref}" in after


# -- the API -------------------------------------------------------------------------------------------------------
def test_the_api_answers_the_plan_on_a_dry_run_and_proposes_otherwise(world: World) -> None:
    co01 = finding("CO-01", "leila")
    client = client_for(world.approver)
    plan = client.post(API, {"findings": [co01.pk], "dry_run": True}, content_type="application/json")
    assert plan.status_code == 200, plan.content
    data = plan.json()
    assert data["findings"] == [co01.pk] and data["domain_id"] == world.research.domain_id
    assert data["changes"][0]["operation"] == "UpdateDomain" and data["check_ids"] == ["CO-01"]
    assert not ChangeSet.objects.exists()
    made = client.post(
        API,
        {"check": "CO-01", "domain": world.research.arn, "title": "Leila idles two hours at most"},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["title"] == "Leila idles two hours at most" and body["finding_ids"] == [co01.pk]
    assert body["status"] == "proposed" and body["changes"][0]["after"]
    second = client.post(API, {"findings": [co01.pk]}, content_type="application/json")
    assert second.status_code == 400 and "already fixes" in str(second.json())


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({}, "Give findings"),
        ({"findings": [1], "check": "CO-01", "domain": "d-x"}, "not both"),
        ({"check": "CO-01"}, "both check and domain"),
        ({"check": "SE-01", "domain": "d-x"}, "not a valid choice"),
        ({"findings": ["x"]}, "valid integer"),
        ({"findings": []}, "may not be empty"),
        ({"findings": "tg03"}, "Give a value for cost-center"),
        ({"findings": "tg03", "tag_values": {"cost-center": ""}}, "may not be blank"),
    ],
)
def test_the_api_refuses_bad_input_with_400(world: World, payload: dict[str, Any], expected: str) -> None:
    if payload.get("findings") == "tg03":
        payload = {**payload, "findings": [finding("TG-03", "research").pk]}
    response = client_for(world.approver).post(API, payload, content_type="application/json")
    assert response.status_code == 400, response.content
    assert expected in str(response.json())


def test_the_api_answers_404_to_who_may_not_fix(world: World) -> None:
    co01 = finding("CO-01", "leila")
    for person in (world.outsider, world.finance, world.lead, world.scientist):
        client = client_for(person)
        assert client.post(API, {"findings": [co01.pk]}, content_type="application/json").status_code == 404
        by_check = {"check": "CO-01", "domain": world.research.domain_id}
        assert client.post(API, by_check, content_type="application/json").status_code == 404
    assert (
        client_for(world.approver).post(API, {"findings": [999999]}, content_type="application/json").status_code == 404
    )
    assert Client().post(API, {"findings": [co01.pk]}, content_type="application/json").status_code == 403
    assert not ChangeSet.objects.exists()
