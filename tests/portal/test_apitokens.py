"""API tokens: hashed at rest, named, expiring, last-used, revocable by their owner or a platform admin, audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from portal import apitokens
from portal.models import ApiToken, AuditEvent
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_is_stored_as_a_digest_and_opens_the_api() -> None:
    maria = UserFactory(username="maria")
    token, key = apitokens.do_create_token(maria, name="laptop", expires_in_days=7, actor=maria)

    assert key.startswith("smgp_") and len(key) > 40
    assert token.key_hash == apitokens.hash_key(key) and key not in str(ApiToken.objects.values().get())
    assert token.prefix == key[:12]
    assert timedelta(days=6, hours=23) < token.expires_at - timezone.now() <= timedelta(days=7)
    answer = api(key).get("/api/domains/")
    assert answer.status_code == 200
    assert api(key).get("/api/domains/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    created = AuditEvent.objects.get(action="apitoken.created")
    assert created.after["name"] == "laptop" and key not in str(created.after)


def test_last_used_is_recorded_at_most_once_a_minute() -> None:
    maria = UserFactory()
    token, key = apitokens.do_create_token(maria, name="script", actor=maria)
    assert token.last_used_at is None
    api(key).get("/api/domains/")
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    api(key).get("/api/domains/")
    assert ApiToken.objects.get().last_used_at == first  # within the minute: no write
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=5))
    api(key).get("/api/domains/")
    assert ApiToken.objects.get().last_used_at > first - timedelta(minutes=5)


def test_an_expired_a_revoked_and_an_unknown_token_are_refused_with_the_reason() -> None:
    maria = UserFactory()
    token, key = apitokens.do_create_token(maria, name="old", actor=maria)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = api(key).get("/api/domains/")
    assert answer.status_code in (401, 403) and "expired" in answer.json()["detail"]

    token, key = apitokens.do_create_token(maria, name="revoked", actor=maria)
    apitokens.do_revoke_token(token, actor=maria, reason="lost laptop")
    answer = api(key).get("/api/domains/")
    assert answer.status_code in (401, 403) and "revoked" in answer.json()["detail"]

    assert api("smgp_nothing").get("/api/domains/").json()["detail"] == "Invalid token."


def test_a_deactivated_login_s_tokens_stop_working() -> None:
    maria = UserFactory()
    _, key = apitokens.do_create_token(maria, name="cli", actor=maria)
    maria.is_active = False
    maria.save()
    assert api(key).get("/api/domains/").status_code in (401, 403)


def test_bad_input_gets_a_clear_message(settings: Any) -> None:
    maria = UserFactory()
    with pytest.raises(ValidationError, match="name"):
        apitokens.do_create_token(maria, name="  ", actor=maria)
    settings.API_TOKEN_MAX_DAYS = 30
    with pytest.raises(ValidationError, match="1 to 30 days"):
        apitokens.do_create_token(maria, name="long", expires_in_days=31, actor=maria)
    with pytest.raises(ValidationError, match="their own"):
        apitokens.do_create_token(maria, name="for maria", actor=UserFactory())
    assert not ApiToken.objects.exists()


def test_revoke_all_revokes_every_live_token_and_answers_how_many() -> None:
    maria, admin = UserFactory(), UserFactory(is_superuser=True)
    for name in ("a", "b", "c"):
        apitokens.do_create_token(maria, name=name, actor=maria)
    apitokens.do_revoke_token(ApiToken.objects.get(name="a"), actor=maria)
    other, other_key = apitokens.do_create_token(admin, name="admin's", actor=admin)

    assert apitokens.revoke_all(maria, actor=admin, reason="Offboarded") == 2

    assert not ApiToken.objects.filter(user=maria).usable().exists()
    assert set(ApiToken.objects.filter(name__in=["b", "c"]).values_list("revoke_reason", flat=True)) == {"Offboarded"}
    assert AuditEvent.objects.filter(action="apitoken.revoked").count() == 3
    assert apitokens.revoke_all(maria, actor=admin, reason="again") == 0
    assert api(other_key).get("/api/domains/").status_code == 200


def test_only_the_owner_or_a_platform_admin_revokes() -> None:
    maria, john, admin = UserFactory(), UserFactory(), UserFactory()
    grant(admin, "platform_admin")
    token, _ = apitokens.do_create_token(maria, name="x", actor=maria)
    with pytest.raises(ValidationError):
        apitokens.do_revoke_token(token, actor=john)
    apitokens.do_revoke_token(token, actor=admin, reason="leaked")
    with pytest.raises(ValidationError, match="already revoked"):
        apitokens.do_revoke_token(token, actor=admin)


def test_my_tokens_page_creates_shows_the_key_once_lists_and_revokes(client: Client) -> None:
    maria = UserFactory()
    client.force_login(maria)
    assert b"You have no API token yet" in client.get("/tokens/").content

    answer = client.post("/tokens/", {"name": "nightly report", "expires_in_days": "30"})

    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    key = answer.context["new_key"]
    assert apitokens.hash_key(key) == token.key_hash and key.encode() in answer.content
    listing = client.get("/tokens/")
    assert b"nightly report" in listing.content and key.encode() not in listing.content  # shown once

    bad = client.post("/tokens/", {"name": "", "expires_in_days": "9999"})
    assert bad.status_code == 400 and b"at most 365 days" in bad.content
    assert ApiToken.objects.count() == 1

    client.post(f"/tokens/{token.pk}/revoke/", {"reason": "done", "next": "/tokens/"})
    token.refresh_from_db()
    assert token.state == "revoked" and token.revoke_reason == "done" and token.revoked_by == maria


def test_another_person_s_token_is_not_found(client: Client) -> None:
    maria, outsider = UserFactory(), UserFactory()
    token, _ = apitokens.do_create_token(maria, name="x", actor=maria)
    client.force_login(outsider)
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 404
    assert client.get("/tokens/all/").status_code == 404
    assert b"You have no API token yet" in client.get("/tokens/").content
    assert APIClient().get("/api/tokens/").status_code == 403
    outsider_api = APIClient()
    outsider_api.force_authenticate(outsider)
    assert outsider_api.get(f"/api/tokens/{token.pk}/").status_code == 404
    assert outsider_api.post(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    assert outsider_api.get("/api/tokens/").json()["count"] == 0
    token.refresh_from_db()
    assert token.state == "active"


def test_admins_list_and_revoke_everyone_s_tokens(client: Client, django_assert_num_queries: Any) -> None:
    admin = UserFactory(username="root")
    grant(admin, "platform_admin")
    people = [UserFactory(username=f"person{i}") for i in range(3)]
    for person in people:
        apitokens.do_create_token(person, name=f"token of {person.username}", actor=person)
    client.force_login(admin)
    client.get("/tokens/all/")  # warm the session and grants
    with django_assert_num_queries(5):  # session, user, roles, count, rows (owner and revoker joined)
        page = client.get("/tokens/all/")
    assert page.status_code == 200 and all(p.username.encode() in page.content for p in people)
    assert b"person1" in client.get("/tokens/all/", {"user": "person1"}).content
    token = ApiToken.objects.get(user=people[0])
    client.post(f"/tokens/{token.pk}/revoke/", {"reason": "audit", "next": "/tokens/all/"})
    token.refresh_from_db()
    assert token.state == "revoked" and token.revoked_by == admin
    assert b"revoked" in client.get("/tokens/all/", {"state": "revoked"}).content


def test_the_api_creates_lists_and_revokes_tokens() -> None:
    maria = UserFactory()
    _, key = apitokens.do_create_token(maria, name="bootstrap", actor=maria)
    client = api(key)

    created = client.post("/api/tokens/", {"name": "ci", "expires_in_days": 10}, format="json")

    assert created.status_code == 201 and created.json()["key"].startswith("smgp_")
    assert created.json()["state"] == "active" and created.json()["name"] == "ci"
    listed = client.get("/api/tokens/", {"state": "active"}).json()
    assert {t["name"] for t in listed["results"]} == {"bootstrap", "ci"}
    assert all("key" not in t and "key_hash" not in t for t in listed["results"])
    assert client.post("/api/tokens/", {"name": "x", "expires_in_days": 999}, format="json").status_code == 400
    revoked = client.post(f"/api/tokens/{created.json()['id']}/revoke/", {"reason": "rotated"}, format="json")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    again = client.post(f"/api/tokens/{created.json()['id']}/revoke/", {}, format="json")
    assert again.status_code == 400 and "already revoked" in str(again.json())


def test_the_password_login_of_the_api_makes_an_expiring_named_token(settings: Any) -> None:
    from tests.factories import TEST_PASSWORD

    UserFactory(username="approver")
    answer = APIClient().post(
        "/api/auth/token/", {"username": "approver", "password": TEST_PASSWORD, "name": "cli", "expires_in_days": 5}
    )
    assert answer.status_code == 200
    token = ApiToken.objects.get()
    assert token.name == "cli" and token.key_hash == apitokens.hash_key(answer.json()["token"])
    assert api(answer.json()["token"]).get("/api/domains/").status_code == 200


def test_plain_tokens_from_before_are_migrated_hashed(django_db_blocker: Any) -> None:
    """The migration's function: DRF's plain keys become digests and the plain rows go."""
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("portal.migrations.0006_api_tokens_sso_groups")
    maria = UserFactory()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) primary key, created timestamp, user_id integer)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", ["a" * 40, timezone.now(), maria.pk])

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection  # type: ignore[attr-defined]
    migration.hash_plain_tokens(apps, editor)

    token = ApiToken.objects.get(user=maria)
    assert token.key_hash == apitokens.hash_key("a" * 40)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
        cursor.execute("DROP TABLE authtoken_token")
    assert api("a" * 40).get("/api/domains/").status_code == 200
