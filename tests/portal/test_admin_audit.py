"""Writes through the Django admin leave audit events (users, API tokens, Celery periodic tasks, anything else)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from portal.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


def test_an_admin_edit_of_a_user_is_audited_with_before_and_after(admin_client: Client) -> None:
    maria = UserFactory(username="maria", email="maria@example.com", first_name="Maria")
    maria.date_joined = maria.date_joined.replace(microsecond=0)  # the admin's form shows whole seconds
    maria.save()
    response = admin_client.post(
        f"/admin/auth/user/{maria.pk}/change/",
        {
            "username": "maria",
            "first_name": "Maria",
            "last_name": "",
            "email": "maria.garcia@example.com",
            "is_active": "on",
            "date_joined_0": maria.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": maria.date_joined.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="admin.changed")
    assert (event.actor_label, event.object_type, event.object_id) == ("root", "auth.User", str(maria.pk))
    assert event.before == {"email": "maria@example.com"}
    assert event.after == {"email": "maria.garcia@example.com"}


def test_the_password_hash_never_reaches_the_audit_log(admin_client: Client) -> None:
    maria = UserFactory(username="maria")
    response = admin_client.post(
        f"/admin/auth/user/{maria.pk}/password/", {"password1": "A-new-pass-1234", "password2": "A-new-pass-1234"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="admin.changed", object_type="auth.User")
    hashed = User.objects.get(pk=maria.pk).password
    assert set(event.before) == set(event.after) == {"password"}
    assert event.after["password"].startswith("hidden:") and hashed not in str(event.after)
    assert event.before["password"] != event.after["password"]


def test_the_admin_offers_no_api_tokens(admin_client: Client) -> None:
    """Tokens are made and revoked on "My tokens" and the API only (portal.apitokens audits both); the admin has
    neither DRF's plain tokens nor a way around the service."""
    assert admin_client.get("/admin/authtoken/tokenproxy/").status_code == 404
    assert admin_client.get("/admin/portal/apitoken/").status_code == 404


def test_an_admin_action_on_periodic_tasks_is_audited_per_task(admin_client: Client) -> None:
    every = IntervalSchedule.objects.create(every=30, period="minutes")
    sync = PeriodicTask.objects.create(name="inventory", task="domains.scheduled_inventory_sync", interval=every)
    response = admin_client.post(
        "/admin/django_celery_beat/periodictask/", {"action": "disable_tasks", "_selected_action": [sync.pk]}
    )
    assert response.status_code == 302
    sync.refresh_from_db()
    assert sync.enabled is False
    event = AuditEvent.objects.get(action="admin.disable_tasks")
    assert event.object_type == "django_celery_beat.PeriodicTask" and event.object_id == str(sync.pk)
    assert event.before["enabled"] is True and event.after["enabled"] is False


def test_a_bulk_delete_in_the_admin_is_audited_for_each_object(admin_client: Client) -> None:
    schedules = [IntervalSchedule.objects.create(every=n, period="hours") for n in (1, 2)]
    response = admin_client.post(
        "/admin/django_celery_beat/intervalschedule/",
        {"action": "delete_selected", "_selected_action": [s.pk for s in schedules], "post": "yes"},
    )
    assert response.status_code == 302 and not IntervalSchedule.objects.exists()
    deleted = AuditEvent.objects.filter(action="admin.deleted").order_by("object_id")
    assert [e.before["every"] for e in deleted] == [1, 2]


def test_every_model_in_the_admin_is_audited() -> None:
    from django.contrib import admin

    from portal.admin_audit import AuditedModelAdminMixin

    assert all(isinstance(model_admin, AuditedModelAdminMixin) for model_admin in admin.site._registry.values())
    assert any(model is PeriodicTask for model in admin.site._registry)
