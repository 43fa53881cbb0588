"""The audit log: append-only, scoped, filterable, exportable, read-only through pages, API and admin."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from portal import audit
from portal.models import AuditEvent
from tests.factories import DomainFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, Any]:
    risk, research = DomainFactory(name="risk"), DomainFactory(name="research")
    approver = UserFactory(username="approver")
    grant(approver, "domain_approver", risk)
    outsider = UserFactory(username="outsider")
    grant(outsider, "domain_approver", research)
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    audit.record("budget.set", risk, actor=admin, domain_arn=risk.arn, before=None, after={"monthly_amount": "900"})
    audit.record("budget.set", research, actor=admin, domain_arn=research.arn, after={"monthly_amount": "50"})
    return {"risk": risk, "research": research, "approver": approver, "outsider": outsider, "admin": admin}


def page(user: Any, **params: str) -> Any:
    client = Client()
    client.force_login(user)
    return client.get(reverse("portal:audit-list"), params)


def test_events_cannot_be_changed_or_deleted() -> None:
    event = audit.record("role.assigned", None, actor="test", object_type="thing")
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.all().delete()


def test_approvers_see_their_domains_events_and_outsiders_do_not(world: dict[str, Any]) -> None:
    events = page(world["approver"]).context["object_list"]
    assert {e.domain_arn for e in events if e.action == "budget.set"} == {world["risk"].arn}
    assert not [e for e in page(world["outsider"]).context["object_list"] if e.domain_arn == world["risk"].arn]
    assert len([e for e in page(world["admin"]).context["object_list"] if e.action == "budget.set"]) == 2


def test_filters_and_csv_export(world: dict[str, Any]) -> None:
    response = page(world["admin"], action="budget.", domain=world["risk"].arn, export="csv")
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["at", "actor", "action"]
    assert len(rows) == 2 and rows[1][2] == "budget.set" and '"900"' in rows[1][8]


def test_the_csv_export_writes_cells_that_look_like_formulas_as_text(world: dict[str, Any]) -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        audit.record(
            "spacerequest.submitted", None, actor=world["admin"], object_type="space", object_repr=f"{start}cmd|x"
        )
    response = page(world["admin"], action="spacerequest.", export="csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    assert sorted(r[5] for r in rows[1:]) == sorted(f"'{start}cmd|x" for start in ("=", "+", "-", "@", "\t", "\r"))


def test_the_api_lists_and_refuses_every_write(world: dict[str, Any]) -> None:
    client = APIClient()
    client.force_authenticate(world["approver"])
    listed = client.get("/api/audit/", {"action": "budget."}).json()["results"]
    assert [e["domain_arn"] for e in listed] == [world["risk"].arn]
    event = AuditEvent.objects.filter(domain_arn=world["risk"].arn).first()
    assert client.post("/api/audit/", {}, format="json").status_code == 405
    assert client.delete(f"/api/audit/{event.pk}/").status_code == 405
    outsider = APIClient()
    outsider.force_authenticate(world["outsider"])
    assert outsider.get(f"/api/audit/{event.pk}/").status_code == 404


def test_the_admin_shows_events_read_only(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["admin"])
    event = AuditEvent.objects.first()
    assert client.get(f"/admin/portal/auditevent/{event.pk}/change/").status_code == 200  # viewable
    assert client.post(f"/admin/portal/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_audit_page_keeps_a_fixed_number_of_queries(world: dict[str, Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        page(world["admin"])
    for n in range(30):
        audit.record("budget.set", world["risk"], actor=world["admin"], domain_arn=world["risk"].arn, after={"n": n})
    with CaptureQueriesContext(connection) as large:
        page(world["admin"])
    assert len(large) == len(small)


def test_an_audit_action_no_app_registered_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown audit action 'budget.sett'"):
        audit.record("budget.sett", None, actor="test")
    assert not AuditEvent.objects.exists()


def test_every_app_registers_its_audit_actions_with_a_label() -> None:
    from portal.registry import registry

    for action in ("role.assigned", "account.created", "budget.set", "profilerequest.approved", "aws.delete_app"):
        assert registry.audit_actions[action]
    assert registry.audit_actions["inventory_sync.finished"] == "Inventory sync finished"  # from its run kind


def test_the_audit_log_filters_by_one_action_or_a_family(world: dict[str, Any]) -> None:
    api = APIClient()
    api.force_authenticate(world["admin"])
    family = api.get("/api/audit/", {"action": "budget."}).json()["results"]
    assert {e["action"] for e in family} == {"budget.set"} and len(family) == 2
    one = api.get("/api/audit/", {"action": "role.assigned"}).json()["results"]
    assert {e["action"] for e in one} == {"role.assigned"} and len(one) == 2  # the fixture's two grants
    assert api.get("/api/audit/", {"action": "no.such"}).status_code == 400
