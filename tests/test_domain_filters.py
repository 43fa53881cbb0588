"""Every list with a domain, account or region filter, page and API: the choices come from the person's scope, and a
value outside it is answered exactly like a value that does not exist (nothing names the other domain)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote_plus

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import AppFactory, DomainFactory, SpaceFactory, UserFactory, UserProfileFactory, grant

pytestmark = pytest.mark.django_db
SECRET = "secret-lab-xyz"
MISSING_ID = "d-000000000999"
MISSING_ACCOUNT = "999999999999"


@pytest.fixture
def world() -> dict[str, Any]:
    mine = DomainFactory(name="mine")
    secret = DomainFactory(name=SECRET, region="eu-central-1")
    profile = UserProfileFactory(domain=secret, name="secret-person")
    SpaceFactory(domain=secret, owner_profile=profile, name="secret-space")
    AppFactory(domain=secret, user_profile=profile, name="secret-app")
    scientist = UserFactory(username="maria")
    grant(scientist, "data_scientist", mine)
    UserProfileFactory(domain=mine, owner=scientist, name="maria-own")
    approver = UserFactory(username="approver")
    grant(approver, "domain_approver", mine)
    return {
        "mine": mine,
        "secret": secret,
        "scientist": scientist,
        "approver": approver,
        "nobody": UserFactory(username="nobody"),
    }


def missing_arn(secret: Any) -> str:
    return secret.arn.replace(secret.domain_id, MISSING_ID)


# (url, parameter, what of the secret domain it takes, the same for a domain that does not exist)
ID, ARN, ACCOUNT, REGION = "id", "arn", "account", "region"
PAGES = [
    (url, "domain", kind)
    for url in ("/profiles/", "/spaces/", "/apps/", "/requests/profiles/", "/requests/spaces/", "/requests/personas/")
    for kind in (ID, ARN)
]
PAGES += [("/audit/", "domain", ARN), ("/costs/", "domain", ARN), ("/costs/", "account", ACCOUNT)] + [
    (url, param, kind)
    for url in ("/profiles/", "/spaces/", "/apps/")
    for param, kind in (("account", ACCOUNT), ("region", REGION))
]
APIS = [
    (url, "domain", ID)
    for url in ("/api/profiles/", "/api/spaces/", "/api/apps/", "/api/profile-requests/", "/api/space-requests/")
] + [
    ("/api/personas/", "domain", ID),
    ("/api/profiles/", "domain", ARN),
    ("/api/profiles/", "account", ACCOUNT),
    ("/api/apps/", "region", REGION),
    ("/api/domains/", "account", ACCOUNT),
    ("/api/domains/", "region", REGION),
    ("/api/space-policies/", "domain__arn", ARN),
    ("/api/costs/summary/", "domain", ARN),
    ("/api/costs/rollups/", "domain_arn", ARN),
    ("/api/audit/", "domain", ARN),
]


def values(world: dict[str, Any], kind: str) -> tuple[str, str]:
    secret = world["secret"]
    return {
        ID: (secret.domain_id, MISSING_ID),
        ARN: (secret.arn, missing_arn(secret)),
        ACCOUNT: (secret.account.account_id, MISSING_ACCOUNT),
        REGION: (secret.region, "ap-south-2"),
    }[kind]


def without_noise(body: str, value: str) -> str:
    """The page with the value asked for (as is, and as a link's query string has it) and the per-response CSRF token
    taken out."""
    body = body.replace(value, "VALUE").replace(quote_plus(value), "VALUE")
    return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', r"\1TOKEN", body)


@pytest.mark.parametrize("who", ["scientist", "approver", "nobody"])
@pytest.mark.parametrize(("url", "param", "kind"), PAGES)
def test_pages_answer_a_domain_outside_the_scope_like_one_that_does_not_exist(
    world: dict[str, Any], who: str, url: str, param: str, kind: str
) -> None:
    client = Client()
    client.force_login(world[who])
    outside, missing = values(world, kind)
    one = client.get(url, {param: outside, "presence": "all"})
    other = client.get(url, {param: missing, "presence": "all"})
    assert one.status_code == other.status_code
    body = one.content.decode()
    assert SECRET not in body and "secret-" not in body
    assert without_noise(body, outside) == without_noise(other.content.decode(), missing)


@pytest.mark.parametrize("who", ["scientist", "approver", "nobody"])
@pytest.mark.parametrize(("url", "param", "kind"), APIS)
def test_the_api_answers_a_domain_outside_the_scope_like_one_that_does_not_exist(
    world: dict[str, Any], who: str, url: str, param: str, kind: str
) -> None:
    client = APIClient()
    client.force_authenticate(world[who])
    outside, missing = values(world, kind)
    one, other = client.get(url, {param: outside}), client.get(url, {param: missing})
    assert one.status_code == other.status_code
    assert one.status_code in (200, 400)
    body = one.content.decode()
    assert SECRET not in body and "secret-" not in body
    assert body.replace(outside, "VALUE") == other.content.decode().replace(missing, "VALUE")


def test_the_filters_offer_only_the_domains_accounts_and_regions_in_scope(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["scientist"])
    response = client.get("/profiles/")
    form = response.context["filterset"].form
    assert [label for value, label in form.fields["domain"].choices if value] == ["mine"]
    assert [value for value, _ in form.fields["account"].choices if value] == [world["mine"].account.account_id]
    assert [value for value, _ in form.fields["region"].choices if value] == ["us-east-1"]
    assert "InService" in [value for value, _ in form.fields["status"].choices]
    body = response.content.decode()
    assert '<select name="domain"' in body and '<select name="account"' in body and '<select name="region"' in body


def test_a_domain_in_scope_filters_by_id_or_by_arn(world: dict[str, Any]) -> None:
    other = DomainFactory(name="theirs")
    grant(world["scientist"], "data_scientist", other)
    UserProfileFactory(domain=other, owner=world["scientist"], name="maria-there")
    client = Client()
    client.force_login(world["scientist"])
    for value in (world["mine"].domain_id, world["mine"].arn):
        body = client.get("/profiles/", {"domain": value}).content.decode()
        assert "maria-own" in body and "maria-there" not in body
    refused = client.get("/profiles/", {"domain": world["secret"].domain_id}).content.decode()
    assert "maria-own" not in refused and "Select a valid choice" in refused
