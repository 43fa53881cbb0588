"""The identity provider group -> portal role mapping: page and API for platform admins, every change audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from portal.models import AuditEvent, GroupRoleMapping
from tests.factories import DomainFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin() -> Any:
    user = UserFactory(username="root")
    grant(user, "platform_admin")
    return user


def test_an_admin_maps_a_group_to_a_role_in_domains(client: Client, admin: Any) -> None:
    research = DomainFactory(name="research")
    client.force_login(admin)
    assert b"No group gives a role yet" in client.get("/sso-groups/").content

    answer = client.post(
        "/sso-groups/", {"group": "sagemaker-research", "role": "data_scientist", "domain_arns": [research.arn]}
    )

    assert answer.status_code == 302
    mapping = GroupRoleMapping.objects.get()
    assert (mapping.group, mapping.role, mapping.domain_arns) == (
        "sagemaker-research",
        "data_scientist",
        [research.arn],
    )
    assert AuditEvent.objects.get(action="sso.mapping_created").after["group"] == "sagemaker-research"
    page = client.get("/sso-groups/").content
    assert b"sagemaker-research" in page and b"research" in page


def test_a_bad_mapping_is_refused_with_its_reason_and_keeps_the_input(client: Client, admin: Any) -> None:
    research = DomainFactory(name="research")
    client.force_login(admin)
    answer = client.post("/sso-groups/", {"group": "team-x", "role": "data_scientist"})
    assert answer.status_code == 400 and b"needs at least one domain" in answer.content and b"team-x" in answer.content
    answer = client.post("/sso-groups/", {"group": "admins", "role": "platform_admin", "domain_arns": [research.arn]})
    assert answer.status_code == 400 and b"every domain" in answer.content
    client.post("/sso-groups/", {"group": "finance", "role": "finance"})
    duplicate = client.post("/sso-groups/", {"group": "finance", "role": "finance"})
    assert duplicate.status_code == 400 and b"already gives this role" in duplicate.content
    assert GroupRoleMapping.objects.count() == 1


def test_an_admin_changes_and_removes_a_mapping_audited(client: Client, admin: Any) -> None:
    research, risk = DomainFactory(name="research"), DomainFactory(name="risk")
    client.force_login(admin)
    client.post("/sso-groups/", {"group": "leads", "role": "team_lead", "domain_arns": [research.arn]})
    mapping = GroupRoleMapping.objects.get()
    assert client.get(f"/sso-groups/{mapping.pk}/").status_code == 200

    client.post(f"/sso-groups/{mapping.pk}/", {"group": "leads", "role": "team_lead", "domain_arns": [risk.arn]})

    mapping.refresh_from_db()
    assert mapping.domain_arns == [risk.arn]
    changed = AuditEvent.objects.get(action="sso.mapping_changed")
    assert changed.before["domain_arns"] == [research.arn] and changed.after["domain_arns"] == [risk.arn]
    client.post(f"/sso-groups/{mapping.pk}/delete/")
    assert not GroupRoleMapping.objects.exists()
    assert AuditEvent.objects.get(action="sso.mapping_deleted").before["group"] == "leads"


def test_the_api_manages_mappings_for_admins_only(admin: Any) -> None:
    research = DomainFactory(name="research")
    client = APIClient()
    client.force_authenticate(admin)
    created = client.post(
        "/api/sso/group-mappings/",
        {"group": "sagemaker-research", "role": "data_scientist", "domain_arns": [research.arn]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    unknown = client.post(
        "/api/sso/group-mappings/",
        {"group": "g", "role": "team_lead", "domain_arns": ["arn:aws:sagemaker:us-east-1:1:domain/d-nope"]},
        format="json",
    )
    assert unknown.status_code == 400 and "No such domain" in str(unknown.json())
    patched = client.patch(f"/api/sso/group-mappings/{pk}/", {"role": "team_lead"}, format="json")
    assert patched.status_code == 200 and patched.json()["domain_arns"] == [research.arn]
    assert client.get("/api/sso/group-mappings/").json()["count"] == 1
    assert client.delete(f"/api/sso/group-mappings/{pk}/").status_code == 204
    assert AuditEvent.objects.filter(action__startswith="sso.mapping").count() == 3


def test_anyone_else_gets_404(client: Client) -> None:
    research = DomainFactory(name="research")
    approver = UserFactory()
    grant(approver, "domain_approver", research)
    mapping = GroupRoleMapping.objects.create(group="g", role="finance")
    client.force_login(approver)
    assert client.get("/sso-groups/").status_code == 404
    assert client.post("/sso-groups/", {"group": "x", "role": "finance"}).status_code == 404
    assert client.get(f"/sso-groups/{mapping.pk}/").status_code == 404
    assert client.post(f"/sso-groups/{mapping.pk}/delete/").status_code == 404
    api = APIClient()
    api.force_authenticate(approver)
    assert api.get("/api/sso/group-mappings/").status_code == 404
    assert api.post("/api/sso/group-mappings/", {"group": "x", "role": "finance"}, format="json").status_code == 404
    assert api.delete(f"/api/sso/group-mappings/{mapping.pk}/").status_code == 404
    assert GroupRoleMapping.objects.count() == 1


def test_the_list_page_s_queries_do_not_grow_with_mappings(
    client: Client, admin: Any, django_assert_num_queries: Any
) -> None:
    research = DomainFactory(name="research")
    for i in range(5):
        GroupRoleMapping.objects.create(group=f"g{i}", role="data_scientist", domain_arns=[research.arn])
    client.force_login(admin)
    client.get("/sso-groups/")
    with django_assert_num_queries(7):  # session, user, roles, count, rows, domain names (table and form)
        assert client.get("/sso-groups/").status_code == 200
