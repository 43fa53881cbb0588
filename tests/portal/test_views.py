from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from portal.apitokens import do_create_token
from portal.celery import app as celery_app
from portal.models import WorkerHeartbeat
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_healthz_is_a_liveness_probe_that_names_nothing_and_never_reaches_aws(client: Client, settings: Any) -> None:
    from portal.aws import call_counter, gateway

    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # AWS is down: liveness does not care
    gateway().clear()
    WorkerHeartbeat.objects.create(hostname="w1@secret-host", beat_at="2026-01-01T00:00:00Z")
    before = call_counter.total()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert call_counter.total() == before
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_does_not(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from portal import health

    monkeypatch.setattr(health, "check_database", lambda: {"ok": False, "detail": "connection refused by db-7"})
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "fail", "checks": {"database": "fail"}}


def admin_client(client: Client) -> Client:
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


def test_readiness_answers_ok_when_database_broker_and_aws_answer(client: Client, aws_sandbox: None) -> None:
    response = admin_client(client).get(reverse("api-readiness"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {"database", "broker", "aws", "workers"} <= set(body["checks"])
    assert body["checks"]["aws"]["mode"] == "sandbox"
    assert body["checks"]["workers"]["informational"] is True


def test_readiness_asks_aws_at_most_once_a_minute(client: Client, aws_sandbox: None, settings: Any) -> None:
    from portal.aws import call_counter

    settings.HEALTH_AWS_CACHE_SECONDS = 60
    admin_client(client)
    before = call_counter.total("sts")
    first = client.get(reverse("api-readiness")).json()["checks"]["aws"]
    second = client.get(reverse("api-readiness")).json()["checks"]["aws"]
    client.get(reverse("readiness"))
    assert call_counter.total("sts") - before == 1
    assert first["cached_for"] == 0 and second["ok"] is True


def test_readiness_answers_503_when_aws_is_unreachable(client: Client, settings: Any) -> None:
    from portal.aws import gateway

    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT = 1
    gateway().clear()
    try:
        response = admin_client(client).get(reverse("api-readiness"))
    finally:
        gateway().clear()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["aws"]["ok"] is False
    assert "127.0.0.1:9" in body["checks"]["aws"]["detail"]


def test_readiness_answers_503_when_the_broker_is_down(
    client: Client, aws_sandbox: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    response = admin_client(client).get(reverse("api-readiness"))
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_readiness_is_for_platform_admins_only(client: Client, aws_sandbox: None) -> None:
    assert client.get(reverse("api-readiness")).status_code == 403
    assert client.get(reverse("readiness")).status_code == 302
    client.force_login(UserFactory())
    assert client.get(reverse("api-readiness")).status_code == 404
    assert client.get(reverse("readiness")).status_code == 404


def test_the_overview_needs_a_login(client: Client) -> None:
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_health_page_shows_admins_the_system_status(client: Client, aws_sandbox: None) -> None:
    WorkerHeartbeat.objects.create(hostname="w1@host", beat_at="2026-01-01T00:00:00Z")
    content = admin_client(client).get(reverse("readiness")).content.decode()
    assert "System status" in content
    assert "w1@host" in content  # the worker check names the latest worker, stale here
    assert "AWS sandbox" in content
    assert reverse("readiness") in admin_client(Client()).get(reverse("home")).content.decode()


def test_the_overview_shows_other_people_no_system_details(client: Client, aws_sandbox: None) -> None:
    WorkerHeartbeat.objects.create(hostname="w1@host", beat_at="2026-01-01T00:00:00Z")
    client.force_login(UserFactory())
    content = client.get(reverse("home")).content.decode()
    assert "w1@host" not in content and "arn:aws" not in content and reverse("readiness") not in content


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


def test_the_api_root_links_every_endpoint_and_the_schema(client: Client) -> None:
    """/api/ answered 404; it now lists the routers' endpoints (as DRF's API root does), the summary and schema."""
    assert client.get("/api/", HTTP_ACCEPT="application/json").status_code == 403  # like the schema
    client.force_login(UserFactory())
    body = client.get("/api/", HTTP_ACCEPT="application/json").json()
    for name in ("domains", "profiles", "costs/budgets", "costs/summary", "sync-runs", "profile-requests", "schema"):
        assert body[name] == f"http://testserver/api/{name}/"
    assert "docs" in body and "audit" in body and "roles" in body
    assert all("<" not in url and "(?P" not in url for url in body.values())  # no route that needs an id
    assert b"costs/summary" in client.get("/api/", HTTP_ACCEPT="text/html").content  # the browsable page


def test_the_schema_and_docs_need_a_login_unless_made_public(client: Client, settings: Any) -> None:
    assert client.get("/api/schema/").status_code == 403
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/login/")
    _, key = do_create_token(UserFactory(), name="schema", actor="test")
    assert client.get("/api/schema/", headers={"Authorization": f"Token {key}"}).status_code == 200
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
