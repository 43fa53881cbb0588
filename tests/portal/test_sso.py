"""Logging in through the company's identity provider: a real OpenID Connect flow (authorization code + PKCE)
against the sandbox's provider served on loopback, and the groups -> roles mapping."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client

from awssandbox import idp
from portal import sso
from portal.models import AuditEvent, GroupRoleMapping, RoleAssignment
from tests.factories import DomainFactory, UserFactory, grant

pytestmark = pytest.mark.django_db
STORE = "d-1234567890"


def add_person(username: str, email: str, groups: list[str]) -> str:
    """An Identity Center user of the sandbox (the provider's people), in these groups; answers the user id."""
    from moto.identitystore.models import identitystore_backends

    backend = identitystore_backends["111111111111"]["us-east-1"]
    given, _, family = username.partition(".")
    user_id, _ = backend.create_user(
        STORE,
        username,
        {"GivenName": given.title(), "FamilyName": family.title()},
        f"{given.title()} {family.title()}",
        None,
        None,
        [{"Value": email, "Type": "work", "Primary": True}],
        *([None] * 7),
    )
    store = backend.identity_stores[STORE]
    for name in groups:
        group_id = next((g.GroupId for g in store.groups.values() if g.DisplayName == name), None)
        if group_id is None:
            group_id, _ = backend.create_group(STORE, name, name)
        backend.create_group_membership(STORE, group_id, {"UserId": user_id})
    return user_id


def set_groups(username: str, groups: list[str]) -> None:
    from moto.identitystore.models import identitystore_backends

    store = identitystore_backends["111111111111"]["us-east-1"].identity_stores[STORE]
    user_id = next(u.UserId for u in store.users.values() if u.UserName == username)
    for key, membership in list(store.group_memberships.items()):
        if membership["MemberId"]["UserId"] == user_id:
            del store.group_memberships[key]
    backend = identitystore_backends["111111111111"]["us-east-1"]
    for name in groups:
        group_id = next((g.GroupId for g in store.groups.values() if g.DisplayName == name), None)
        if group_id is None:
            group_id, _ = backend.create_group(STORE, name, name)
        backend.create_group_membership(STORE, group_id, {"UserId": user_id})


@pytest.fixture
def provider(settings: Any) -> Iterator[str]:
    """The sandbox server (with its OIDC provider) on a free loopback port, and the portal configured for it."""
    from awssandbox.server import ThreadedSandbox, reset_backends

    reset_backends()
    server = ThreadedSandbox().start()
    issuer = f"{server.url}{idp.PREFIX}"
    settings.OIDC_ISSUER = issuer
    settings.OIDC_RP_CLIENT_ID = idp.CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = idp.CLIENT_SECRET
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "portal.sso.PortalOIDCBackend"]
    sso._discovered.clear()
    try:
        yield issuer
    finally:
        server.stop()
        reset_backends()
        sso._discovered.clear()


def start(client: Client) -> tuple[str, dict[str, str]]:
    """Log in with SSO: the portal's redirect to the provider, as (authorize URL, its parameters)."""
    answer = client.get("/oidc/authenticate/")
    assert answer.status_code == 302
    location = answer["Location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    return location.split("?")[0], params


def sign_in(authorize: str, params: dict[str, str], username: str, password: str = idp.PASSWORD) -> requests.Response:
    return requests.post(
        authorize,
        data={**params, "idp_username": username, "idp_password": password},
        allow_redirects=False,
        timeout=30,
    )


def sso_login(client: Client, username: str) -> Any:
    """The whole flow; answers the portal's answer to the callback."""
    authorize, params = start(client)
    back = sign_in(authorize, params, username)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["Location"])
    assert callback.path == "/oidc/callback/"
    return client.get(f"{callback.path}?{callback.query}")


def test_the_portal_sends_state_nonce_and_an_s256_pkce_challenge(provider: str) -> None:
    authorize, params = start(Client())
    assert authorize == f"{provider}/authorize"
    assert params["response_type"] == "code" and params["client_id"] == idp.CLIENT_ID
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) >= 43
    assert params["state"] and params["nonce"]
    assert set(params["scope"].split()) >= {"openid", "email", "groups"}


def test_a_person_lands_with_the_roles_of_their_groups(provider: str) -> None:
    research, risk = DomainFactory(name="research"), DomainFactory(name="risk")
    GroupRoleMapping.objects.create(group="sagemaker-research", role="data_scientist", domain_arns=[research.arn])
    GroupRoleMapping.objects.create(group="portal-finance", role="finance", domain_arns=[])
    GroupRoleMapping.objects.create(group="sagemaker-risk", role="team_lead", domain_arns=[risk.arn])
    add_person("maria.garcia", "maria.garcia@example.com", ["sagemaker-research", "portal-finance"])
    client = Client()

    answer = sso_login(client, "maria.garcia")

    assert answer.status_code == 302 and answer["Location"] == "/"
    user = get_user_model().objects.get(username="maria.garcia")
    assert user.email == "maria.garcia@example.com" and user.first_name == "Maria"
    assert not user.has_usable_password()  # they come back through the provider only
    held = set(RoleAssignment.objects.filter(user=user).values_list("role", "domain_arn", "source"))
    assert held == {("data_scientist", research.arn, "sso"), ("finance", "", "sso")}
    assert client.get("/").status_code == 200
    login = AuditEvent.objects.get(action="sso.login")
    assert login.after["groups"] == ["portal-finance", "sagemaker-research"] and login.after["created"] is True
    assert AuditEvent.objects.filter(action="role.assigned", actor_label=sso.SSO_ACTOR).count() == 2


def test_an_existing_login_is_matched_by_email_and_a_removed_group_removes_its_role(provider: str) -> None:
    research = DomainFactory(name="research")
    scientist = UserFactory(username="scientist", email="Maria.Garcia@example.com")
    grant(scientist, "team_lead", research)  # given by hand: no group takes it away
    GroupRoleMapping.objects.create(group="sagemaker-research", role="data_scientist", domain_arns=[research.arn])
    add_person("maria.garcia", "maria.garcia@example.com", ["sagemaker-research"])
    sso_login(Client(), "maria.garcia")
    assert set(RoleAssignment.objects.filter(user=scientist).values_list("role", "source")) == {
        ("team_lead", "manual"),
        ("data_scientist", "sso"),
    }

    set_groups("maria.garcia", [])
    answer = sso_login(Client(), "maria.garcia")

    assert answer["Location"] == "/"
    assert list(RoleAssignment.objects.filter(user=scientist).values_list("role", flat=True)) == ["team_lead"]
    taken = AuditEvent.objects.get(action="role.revoked")
    assert taken.before["role"] == "data_scientist" and taken.actor_label == sso.SSO_ACTOR
    assert get_user_model().objects.count() == 1  # matched, not duplicated


def test_an_inactive_login_is_refused(provider: str) -> None:
    UserFactory(username="olivia", email="olivia.brown@example.com", is_active=False)
    add_person("olivia.brown", "olivia.brown@example.com", [])
    client = Client()

    answer = sso_login(client, "olivia.brown")

    assert answer.status_code == 302 and answer["Location"] == "/login/?sso=inactive"
    assert "_auth_user_id" not in client.session
    page = client.get(answer["Location"])
    assert b"Your portal login is deactivated" in page.content


def test_a_wrong_state_is_refused(provider: str) -> None:
    add_person("maria.garcia", "maria.garcia@example.com", [])
    client = Client()
    authorize, params = start(client)
    back = urlsplit(sign_in(authorize, {**params}, "maria.garcia").headers["Location"])
    code = parse_qs(back.query)["code"][0]

    answer = client.get("/oidc/callback/", {"code": code, "state": "not-the-state-we-sent"})

    assert answer.status_code == 302 and answer["Location"] == "/login/?sso=failed"
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.filter(username="maria.garcia").exists()


def test_a_wrong_nonce_is_refused(provider: str) -> None:
    add_person("maria.garcia", "maria.garcia@example.com", [])
    client = Client()
    authorize, params = start(client)
    session = client.session
    session["oidc_states"][params["state"]]["nonce"] = "another-nonce"
    session.save()
    back = urlsplit(sign_in(authorize, params, "maria.garcia").headers["Location"])

    answer = client.get(f"{back.path}?{back.query}")

    assert answer["Location"] == "/login/?sso=failed" and "_auth_user_id" not in client.session


def test_the_provider_checks_the_pkce_verifier_and_requires_a_challenge(provider: str) -> None:
    add_person("maria.garcia", "maria.garcia@example.com", [])
    authorize, params = start(Client())
    code = parse_qs(urlsplit(sign_in(authorize, params, "maria.garcia").headers["Location"]).query)["code"][0]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": params["redirect_uri"],
        "client_id": idp.CLIENT_ID,
        "client_secret": idp.CLIENT_SECRET,
        "code_verifier": "x" * 64,  # not the verifier behind the challenge
    }
    refused = requests.post(f"{provider}/token", data=exchange, timeout=30)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"

    _, fresh = start(Client())  # a nonce the provider has not seen (a used one is refused for that alone)
    without_pkce = {k: v for k, v in fresh.items() if not k.startswith("code_challenge")}
    answer = requests.get(authorize, params=without_pkce, timeout=30)
    assert answer.status_code == 400 and "PKCE" in answer.text


def test_the_provider_refuses_a_nonce_it_has_seen(provider: str) -> None:
    add_person("maria.garcia", "maria.garcia@example.com", [])
    authorize, params = start(Client())
    assert sign_in(authorize, params, "maria.garcia").status_code == 302
    replayed = requests.get(authorize, params=params, timeout=30)
    assert replayed.status_code == 400 and "replay" in replayed.text.lower()


def test_a_wrong_password_at_the_provider_goes_nowhere(provider: str) -> None:
    add_person("maria.garcia", "maria.garcia@example.com", [])
    authorize, params = start(Client())
    answer = sign_in(authorize, params, "maria.garcia", password="wrong")
    assert answer.status_code == 401 and "do not match" in answer.text


def test_the_login_page_offers_sso_only_when_configured(client: Client, settings: Any) -> None:
    settings.OIDC_ISSUER = ""
    assert b"Log in with" not in client.get("/login/").content.replace(b"Log in with a password", b"")
    assert client.get("/oidc/authenticate/").status_code == 404
    settings.OIDC_ISSUER, settings.OIDC_RP_CLIENT_ID = "http://127.0.0.1:9/_idp", "portal"
    page = client.get("/login/").content
    assert b'id="sso-login"' in page and b"Log in with SSO" in page
    assert b'name="password"' in page  # local accounts remain, for a break-glass admin


@pytest.mark.parametrize(
    ("claims", "refused"),
    [
        ({}, None),
        ({"aud": ["another-client"]}, "another client"),
        ({"iss": "http://127.0.0.1:1/_idp"}, "issuer"),
        ({"nonce": "replayed"}, "Nonce"),
        ({"exp": 1}, "expired"),
    ],
)
def test_an_id_token_for_another_client_issuer_or_nonce_is_refused(
    provider: str, claims: dict[str, Any], refused: str | None
) -> None:
    import time

    from django.core.exceptions import SuspiciousOperation
    from joserfc import jwt

    now = int(time.time())
    payload = {"iss": provider, "aud": [idp.CLIENT_ID], "sub": "u1", "nonce": "n1", "iat": now, "exp": now + 60}
    token = jwt.encode({"alg": "RS256", "kid": idp.KID}, {**payload, **claims}, idp._key)
    backend = sso.PortalOIDCBackend()
    if refused is None:
        assert backend.verify_token(token, nonce="n1")["sub"] == "u1"
        return
    with pytest.raises((SuspiciousOperation, Exception), match=refused):
        backend.verify_token(token, nonce="n1")


def test_an_unreachable_provider_sends_people_back_with_a_message(client: Client, settings: Any) -> None:
    settings.OIDC_ISSUER, settings.OIDC_RP_CLIENT_ID = "http://127.0.0.1:9/_idp", "portal"  # nothing listens there
    settings.OIDC_TIMEOUT = 1
    sso._discovered.clear()
    answer = client.get("/oidc/authenticate/")
    assert answer.status_code == 302 and answer["Location"] == "/login/?sso=unavailable"
    assert b"cannot be reached" in client.get(answer["Location"]).content


def test_a_local_account_is_never_taken_over_by_user_name(provider: str) -> None:
    admin = UserFactory(username="ada.okafor", email="break-glass@example.com")  # a local account, with a password
    add_person("ada.okafor", "ada@corp.example.com", [])
    client = Client()
    answer = sso_login(client, "ada.okafor")
    assert answer["Location"] == "/login/?sso=failed" and "_auth_user_id" not in client.session
    assert get_user_model().objects.count() == 1 and admin.has_usable_password()
