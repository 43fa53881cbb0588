from typing import Any

import pytest

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_logs_in_and_out(page: Any, aws_sandbox: None) -> None:
    UserFactory(username="maria")
    page.goto("/")
    assert "/login/" in page.url
    page.fill("#id_username", "maria")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert page.get_by_role("alert").inner_text().startswith("That user name and password do not match")

    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    assert page.get_by_role("heading", name="Overview").is_visible()
    assert page.locator(".who").inner_text() == "maria"
    assert page.evaluate("typeof window.htmx") == "object"  # the vendored HTMX loaded from static

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")
