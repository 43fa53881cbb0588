"""Generating a policy for a role from its page and the API, downloading it, and simulating it against the role's
probes: the findings it would close."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from domains.models import Domain
from iamaccess.models import ExecutionRole
from portal.models import RoleAssignment
from tests.factories import UserFactory, grant
from tests.iamaccess.world import role_arn

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def approver(reviewed: Any) -> Client:
    from django.contrib.auth import get_user_model

    return client_for(get_user_model().objects.get(username="approver"))


def risk() -> tuple[ExecutionRole, Domain]:
    return ExecutionRole.objects.get(arn=role_arn("risk")), Domain.objects.get(name="risk-analytics")


def test_the_page_generates_a_valid_policy_and_offers_its_downloads(approver: Client) -> None:
    role, domain = risk()
    url = reverse("iamaccess:role-policy", args=[role.pk])
    assert "Generate a policy" in approver.get(reverse("iamaccess:role-detail", args=[role.pk])).content.decode()
    empty = approver.get(url)
    assert empty.status_code == 200 and empty.context["proposal"] is None
    page = approver.get(url, {"kind": "isolation", "domain": domain.domain_id})
    text = page.content.decode()
    assert page.status_code == 200 and 'badge-ok">valid' in text and domain.arn in text
    terraform = approver.get(url, {"kind": "isolation", "domain": domain.domain_id, "format": "terraform"})
    assert terraform["Content-Disposition"].endswith('.tf"') and b'resource "aws_iam_policy"' in terraform.content
    cfn = approver.get(url, {"kind": "isolation", "domain": domain.domain_id, "format": "cloudformation"})
    assert b"AWS::IAM::ManagedPolicy" in cfn.content
    bad = approver.get(url, {"kind": "everything", "domain": domain.domain_id, "instance_types": "p3"})
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()


def test_simulating_the_instance_type_policy_shows_the_findings_it_would_close(approver: Client) -> None:
    role, domain = risk()
    url = reverse("iamaccess:role-policy", args=[role.pk])
    page = approver.post(
        url, {"kind": "instance-types", "domain": domain.domain_id, "instance_types": "system, ml.t3.*, ml.m5.*"}
    )
    simulation = page.context["proposal"].simulation
    closes = {(f.check_id, f.resource_name) for f in simulation["closes"]}
    assert {("SE-07", "sofia-rossi"), ("SE-07", "daniel-kim"), ("SE-07", "emma-larsen")} <= closes
    assert not any(check == "SE-06" for check, _ in closes)  # the hidden tools stay allowed
    assert any(r["before"] == "allowed" and r["outcome"] == "explicitDeny" for r in simulation["changed"])
    assert "Findings it would close" in page.content.decode()


def test_the_api_generates_and_simulates_the_space_owner_policy(approver: Client) -> None:
    role, domain = risk()
    url = f"/api/execution-roles/{role.pk}/policy/"
    got = approver.get(url, {"kind": "space-owner", "domain": domain.domain_id}).json()
    assert got["valid"] and got["errors"] == [] and got["simulation"] is None and got["size"] < 6144
    assert "AWS::IAM::ManagedPolicy" in got["cloudformation"]
    simulated = approver.post(
        url, {"kind": "space-owner", "domain": domain.domain_id}, content_type="application/json"
    ).json()
    se08 = set(simulated["simulation"]["closes"])
    from governance.models import Finding

    assert Finding.objects.get(check_id="SE-08", resource_name="risk-analytics", status="open").pk in se08
    assert approver.get(url, {"kind": "space-owner", "domain": "d-nowhere"}).status_code == 400
    assert approver.get(url, {"kind": "space-owner"}).status_code == 400


def test_people_who_do_not_manage_the_roles_domain_get_404(reviewed: Any) -> None:
    role, domain = risk()
    outsider = UserFactory(username="legacy-approver")
    grant(outsider, RoleAssignment.Role.DOMAIN_APPROVER, Domain.objects.get(name="legacy-forecasting"))
    client = client_for(outsider)
    assert client.get(reverse("iamaccess:role-policy", args=[role.pk])).status_code == 404
    params = {"kind": "no-deployment", "domain": domain.domain_id}
    assert client.get(f"/api/execution-roles/{role.pk}/policy/", params).status_code == 404
