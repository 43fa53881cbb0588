from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from portal.celery import app as celery_app
from portal.models import WorkerHeartbeat
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_when_database_broker_and_aws_answer(client: Client, aws_sandbox: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {"database", "broker", "aws", "workers"} <= set(body["checks"])
    assert body["checks"]["aws"]["mode"] == "sandbox"
    assert body["checks"]["workers"]["informational"] is True


def test_healthz_answers_503_when_aws_is_unreachable(client: Client, settings: Any) -> None:
    from portal.aws import gateway

    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT = 1
    gateway().clear()
    try:
        response = client.get("/healthz")
    finally:
        gateway().clear()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["aws"]["ok"] is False
    assert "127.0.0.1:9" in body["checks"]["aws"]["detail"]


def test_healthz_answers_503_when_the_broker_is_down(
    client: Client, aws_sandbox: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_the_overview_needs_a_login(client: Client) -> None:
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_overview_shows_system_status(client: Client, aws_sandbox: None) -> None:
    WorkerHeartbeat.objects.create(hostname="w1@host", beat_at="2026-01-01T00:00:00Z")
    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "System status" in content
    assert "w1@host" in content  # the worker check names the latest worker, stale here
    assert "AWS sandbox" in content


def test_login_with_a_wrong_password_says_so(client: Client) -> None:
    UserFactory(username="maria")
    response = client.post(reverse("login"), {"username": "maria", "password": "wrong"})
    assert response.status_code == 200
    assert "do not match" in response.content.decode()


def test_login_and_logout(client: Client) -> None:
    UserFactory(username="maria")
    response = client.post(reverse("login"), {"username": "maria", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_the_openapi_schema_and_docs_are_served(client: Client) -> None:
    client.force_login(UserFactory())
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "SageMaker governance portal API"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn.jsdelivr" not in docs.content  # Swagger UI comes from the installed sidecar, not a CDN


def test_the_schema_and_docs_need_a_login_unless_made_public(client: Client, settings: Any) -> None:
    assert client.get("/api/schema/").status_code == 403
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/login/")
    token = Token.objects.create(user=UserFactory())
    assert client.get("/api/schema/", headers={"Authorization": f"Token {token.key}"}).status_code == 200
    settings.API_SCHEMA_PUBLIC = True
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_vendored_static_files_are_served(client: Client) -> None:
    from django.contrib.staticfiles import finders

    assert finders.find("vendor/htmx-2.0.8.min.js")
    assert finders.find("vendor/chart-4.5.1.umd.min.js")


def test_the_openapi_schema_generates_without_warnings(tmp_path: Any) -> None:
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "/api/costs/budgets/" in (tmp_path / "schema.yml").read_text()
