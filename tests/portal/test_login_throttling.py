"""Login throttling on every password form: after LOGIN_FAILURE_LIMIT failures a user name is locked out from that
address for the cool-off, with a clear answer (HTTP 429), on the pages and in the API alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_FORMS = ["/login/", "/admin/login/", "/api/auth/login/"]


def attempt(client: Client, path: str, password: str, username: str = "maria", **extra: Any) -> Any:
    if path == "/api/auth/token/":
        return client.post(path, {"username": username, "password": password}, content_type="application/json", **extra)
    return client.post(path, {"username": username, "password": password}, **extra)


@pytest.fixture
def maria(settings: Any) -> Any:
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    return UserFactory(username="maria", is_staff=True)


@pytest.mark.parametrize("path", [*LOGIN_FORMS, "/api/auth/token/"])
def test_a_user_name_is_locked_out_after_the_limit_even_with_the_right_password(
    client: Client, maria: Any, path: str
) -> None:
    for _ in range(2):
        answer = attempt(client, path, "wrong")
        assert answer.status_code in (200, 400)  # an ordinary "wrong password" answer
    locked = attempt(client, path, "wrong")  # the third failure reaches the limit
    assert locked.status_code == 429
    right = attempt(client, path, TEST_PASSWORD)
    assert right.status_code == 429
    assert right["Retry-After"] == str(15 * 60)
    text = right.content.decode()
    assert "Too many failed sign-ins" in text and "locked for 15 minutes" in text
    if path == "/api/auth/token/":
        assert right.json()["detail"].startswith("Too many failed sign-ins")
    assert "_auth_user_id" not in client.session


def test_thirty_wrong_passwords_in_a_row_never_get_an_ordinary_answer_after_the_limit(
    client: Client, maria: Any
) -> None:
    codes = [attempt(client, "/login/", f"guess-{n}").status_code for n in range(30)]
    assert codes[:2] == [200, 200] and set(codes[2:]) == {429}


def test_the_lockout_ends_after_the_cool_off(client: Client, maria: Any) -> None:
    for _ in range(3):
        attempt(client, "/api/auth/token/", "wrong")
    assert attempt(client, "/api/auth/token/", TEST_PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    answer = attempt(client, "/api/auth/token/", TEST_PASSWORD)
    assert answer.status_code == 200 and answer.json()["token"]


def test_a_success_resets_the_count_and_other_people_are_not_locked_out(client: Client, maria: Any) -> None:
    UserFactory(username="bea")
    for _ in range(2):
        attempt(client, "/login/", "wrong")
    assert attempt(client, "/login/", TEST_PASSWORD).status_code == 302
    Client().post("/logout/")
    fresh = Client()
    for _ in range(2):
        assert attempt(fresh, "/login/", "wrong").status_code == 200  # counting starts again
    for _ in range(3):
        attempt(fresh, "/login/", "wrong", username="bea")
    assert attempt(Client(), "/login/", TEST_PASSWORD).status_code == 302  # maria is not locked by bea's failures


def test_another_address_is_not_locked_out(client: Client, maria: Any) -> None:
    for _ in range(3):
        attempt(client, "/login/", "wrong")
    assert attempt(client, "/login/", TEST_PASSWORD).status_code == 429
    elsewhere = attempt(Client(REMOTE_ADDR="10.1.2.3"), "/login/", TEST_PASSWORD)
    assert elsewhere.status_code == 302


def test_behind_the_tls_proxy_the_address_the_proxy_added_counts(client: Client, maria: Any, settings: Any) -> None:
    from django.test import RequestFactory

    from portal.throttling import client_ip

    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.0.0.7", REMOTE_ADDR="10.0.0.1")
    settings.BEHIND_TLS_PROXY = True
    assert client_ip(request) == "10.0.0.7"  # the client cannot choose it by sending its own header
    settings.BEHIND_TLS_PROXY = False
    assert client_ip(request) == "10.0.0.1"


def test_sign_ins_without_a_request_are_not_throttled(maria: Any) -> None:
    from django.contrib.auth import authenticate

    assert authenticate(username="maria", password=TEST_PASSWORD) == maria
