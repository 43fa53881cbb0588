"""The roles page and API: platform admins give and take roles; everyone else gets 404; every change is audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from portal.models import AuditEvent, RoleAssignment
from tests.factories import DomainFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    risk = DomainFactory(name="risk")
    admin = UserFactory(username="root", is_superuser=True)
    approver = UserFactory(username="approver")
    grant(approver, "domain_approver", risk)
    return {"risk": risk, "admin": admin, "approver": approver, "maria": UserFactory(username="maria")}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_gives_and_takes_a_role_from_the_page(world: dict[str, Any]) -> None:
    client = client_for(world["admin"])
    response = client.post(
        reverse("domains:role-list"), {"user": "maria", "role": "data_scientist", "domain_arn": world["risk"].arn}
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=world["maria"])
    page = client.get(reverse("domains:role-list")).content.decode()
    assert "maria" in page and "risk" in page
    client.post(reverse("domains:role-revoke", args=[assignment.pk]))
    assert not RoleAssignment.objects.filter(user=world["maria"]).exists()
    assert list(
        AuditEvent.objects.filter(object_type="portal.RoleAssignment").values_list("action", flat=True).order_by("pk")
    )[-2:] == ["role.assigned", "role.revoked"]


def test_a_role_that_needs_a_domain_is_refused_without_one(world: dict[str, Any]) -> None:
    client = client_for(world["admin"])
    client.post(reverse("domains:role-list"), {"user": "maria", "role": "team_lead", "domain_arn": ""})
    assert not RoleAssignment.objects.filter(user=world["maria"]).exists()
    messages = [str(m) for m in client.get(reverse("domains:role-list")).context["messages"]]
    assert any("needs a domain" in m for m in messages)


def test_non_admins_get_404_from_the_roles_page_and_api(world: dict[str, Any]) -> None:
    client = client_for(world["approver"])
    assert client.get(reverse("domains:role-list")).status_code == 404
    assert client.post(reverse("domains:role-list"), {"user": "maria", "role": "finance"}).status_code == 404
    assignment = RoleAssignment.objects.get(user=world["approver"])
    assert client.post(reverse("domains:role-revoke", args=[assignment.pk])).status_code == 404
    api = APIClient()
    api.force_authenticate(world["approver"])
    assert api.get("/api/roles/").status_code == 404
    assert api.post("/api/roles/", {"user": "maria", "role": "finance"}, format="json").status_code == 404
    assert RoleAssignment.objects.count() == 1


def test_the_roles_api_for_admins(world: dict[str, Any]) -> None:
    api = APIClient()
    api.force_authenticate(world["admin"])
    created = api.post("/api/roles/", {"user": "maria", "role": "finance", "domain_arn": ""}, format="json")
    assert created.status_code == 201
    bad = api.post("/api/roles/", {"user": "maria", "role": "team_lead", "domain_arn": "arn:nope"}, format="json")
    assert bad.status_code == 400 and "No such domain" in str(bad.json())
    listed = api.get("/api/roles/", {"role": "finance"}).json()["results"]
    assert [r["user"] for r in listed] == ["maria"]
    assert api.delete(f"/api/roles/{created.json()['id']}/").status_code == 204


def test_the_role_services_refuse_anyone_but_a_platform_admin(world: dict[str, Any]) -> None:
    from django.core.exceptions import ValidationError

    from portal.roles import do_assign_role, do_revoke_role

    target = UserFactory(username="target")
    with pytest.raises(ValidationError, match="Only a platform admin"):
        do_assign_role(target, "finance", actor=world["approver"])
    assignment = RoleAssignment.objects.get(user=world["approver"])
    with pytest.raises(ValidationError, match="Only a platform admin"):
        do_revoke_role(assignment, actor=world["approver"])
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert not RoleAssignment.objects.filter(user=target).exists()


def test_giving_a_role_already_held_says_so_and_records_nothing(world: dict[str, Any]) -> None:
    client = client_for(world["admin"])
    fields = {"user": "approver", "role": "domain_approver", "domain_arn": world["risk"].arn}
    events = AuditEvent.objects.count()
    response = client.post(reverse("domains:role-list"), fields, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["approver is already domain approver in risk; nothing changed."]
    assert AuditEvent.objects.count() == events
    client.post(reverse("domains:role-list"), {**fields, "user": "maria"})
    messages = [str(m) for m in client.get(reverse("domains:role-list")).context["messages"]]
    assert messages == ["maria is now domain approver in risk."]
    api = APIClient()
    api.force_authenticate(world["admin"])
    again = api.post("/api/roles/", fields, format="json")
    assert again.status_code == 200 and again.json()["user"] == "approver"  # 200: nothing was created


def test_a_non_admin_gets_404_from_the_roles_api_even_with_a_bad_body(world: dict[str, Any]) -> None:
    api = APIClient()
    api.force_authenticate(world["approver"])
    for body in ({}, {"user": "nobody", "role": "emperor"}):
        assert api.post("/api/roles/", body, format="json").status_code == 404
