"""In a real browser, with a real Celery worker and the sandbox server: sync the inventory and look at it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import WorkerProcess
from tests.factories import TEST_PASSWORD, UserFactory
from tests.inventory import build_org, make_account

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]


def log_in(page: Any, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_an_admin_syncs_and_opens_a_domain(
    sandbox_server: str, celery_worker_process: WorkerProcess, page: Any
) -> None:
    build_org(domains=2, profiles=3, spaces=1)
    make_account()
    UserFactory(username="admin", is_superuser=True, is_staff=True)
    log_in(page, "admin")
    page.get_by_role("link", name="Domains").click()
    assert page.get_by_text("No domain in the inventory yet").is_visible()

    page.click("#sync-now")
    status = page.locator("#sync-progress [data-status]")
    status.wait_for()
    try:
        page.wait_for_selector("#sync-progress [data-status=succeeded]", timeout=60_000)
    except Exception:
        raise AssertionError(f"the sync did not finish; worker said:\n{celery_worker_process.output()}") from None
    assert page.locator("#sync-progress .progress").get_attribute("aria-valuenow") == "100"

    # No reload: the finished run tells the list to re-read its rows (and their "last sync" times).
    page.get_by_role("link", name="team1").click()
    page.wait_for_url("**/domains/*/")
    assert page.get_by_role("heading", name="team1").is_visible()
    assert page.get_by_role("link", name="person2-team1").first.is_visible()
    assert page.get_by_text("ml.t3.medium").first.is_visible()

    page.get_by_role("link", name="All 3 profiles, with search").click()
    page.fill("input[type=search]", "person1")
    page.wait_for_function("() => document.querySelectorAll('#results tbody tr').length === 1")
    assert "q=person1" in page.url  # HTMX pushed the filtered URL: a real link


@pytest.mark.django_db(transaction=True)
def test_a_list_sorted_by_its_header_keeps_the_order_when_a_filter_changes(page: Any) -> None:
    from tests.factories import DomainFactory, UserProfileFactory, grant

    risk, other = DomainFactory(name="risk"), DomainFactory(name="other")
    for name in ("anna", "bruno", "carla"):
        UserProfileFactory(domain=risk, name=name)
    UserProfileFactory(domain=other, name="zed")
    lead = UserFactory(username="lead")
    grant(lead, "team_lead", risk)
    grant(lead, "team_lead", other)
    log_in(page, "lead")
    page.goto("/profiles/")
    page.get_by_role("link", name="Profile", exact=True).click()  # ascending
    page.get_by_role("link", name="Profile ▲").click()  # descending
    page.wait_for_url("**sort=-name**")
    rows = page.locator("#results tbody tr td:first-child")
    assert rows.all_inner_texts() == ["zed", "carla", "bruno", "anna"]
    page.select_option("#id_domain", label="risk")  # HTMX swaps the rows, the order stays
    page.wait_for_function("() => document.querySelectorAll('#results tbody tr').length === 3")
    assert rows.all_inner_texts() == ["carla", "bruno", "anna"]
    assert "sort=-name" in page.url and "domain=" in page.url
