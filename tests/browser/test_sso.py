"""In a real browser: "Log in with SSO" through the sandbox's identity provider on loopback lands with the roles of
the person's groups; then the person makes an API token (the key shown once) and revokes it after confirming."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from portal.models import ApiToken, GroupRoleMapping, RoleAssignment
from tests.factories import DomainFactory
from tests.portal.test_sso import add_person, provider  # noqa: F401 - the provider fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def test_a_person_logs_in_with_sso_and_manages_a_token(provider: str, page: Any) -> None:  # noqa: F811
    fraud = DomainFactory(name="payments-fraud")
    GroupRoleMapping.objects.create(group="sagemaker-payments-fraud", role="data_scientist", domain_arns=[fraud.arn])
    add_person("chloe.dubois", "chloe.dubois@example.com", ["sagemaker-payments-fraud"])

    page.goto("/login/")
    assert page.inner_text("#sso-login") == "Log in with SSO"
    page.click("#sso-login")
    page.wait_for_selector("#idp-username")  # the provider's own login form
    page.fill("#idp-username", "chloe.dubois")
    page.fill("#idp-password", "sagemaker-demo")
    page.click("#idp-submit")
    page.wait_for_url(f"{page.base_url}/")

    chloe = get_user_model().objects.get(username="chloe.dubois")
    assert list(RoleAssignment.objects.filter(user=chloe).values_list("role", "domain_arn")) == [
        ("data_scientist", fraud.arn)
    ]
    assert "chloe.dubois" in page.inner_text("body") or "Chloe" in page.inner_text("body")

    page.goto("/tokens/")
    assert "You have no API token yet" in page.inner_text("#results")
    page.fill("#id_name", "laptop CLI")
    page.fill("#id_expires_in_days", "30")
    page.click("#token-form button[type=submit]")
    key = page.inner_text("#new-key").strip()
    token = ApiToken.objects.get(user=chloe)
    assert key.startswith(token.prefix) and "laptop CLI" in page.inner_text("#token-table")

    page.on("dialog", lambda dialog: dialog.accept())
    page.fill(f"#token-{token.pk} input[name=reason]", "done")
    page.click(f"#token-{token.pk} button[type=submit]")
    page.wait_for_selector(".msg-success")
    token.refresh_from_db()
    assert token.state == "revoked" and token.revoke_reason == "done"
    assert key not in page.content()  # shown once, never again


def test_a_wrong_password_at_the_provider_keeps_the_person_out(provider: str, page: Any) -> None:  # noqa: F811
    add_person("chloe.dubois", "chloe.dubois@example.com", [])
    page.goto("/login/")
    page.click("#sso-login")
    page.fill("#idp-username", "chloe.dubois")
    page.fill("#idp-password", "not-it")
    page.click("#idp-submit")
    assert "do not match" in page.inner_text("#idp-error")
    assert not get_user_model().objects.filter(username="chloe.dubois").exists()
