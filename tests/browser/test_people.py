"""The people directory in a real browser: an approver sees a leaver proposed on the Requests page, finds them on
People, opens their page and plans their offboarding from there; the proposal then goes away."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from domains import people
from domains.models import Person
from onboarding.models import Offboarding
from tests.browser.test_inventory import log_in
from tests.onboarding.world import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


@pytest.fixture
def world(sandbox_server: str) -> World:
    return build_world()


def test_an_approver_finds_a_leaver_and_plans_their_offboarding(world: World, page: Any) -> None:
    leila = people.person_for_login(world.lead)
    Person.objects.filter(pk=leila.pk).update(status=Person.Status.LEFT, left_at=timezone.now())
    log_in(page, "arjun")
    page.get_by_role("link", name="Requests").click()
    assert page.locator(f"#leaver-{leila.pk}").is_visible()

    page.get_by_role("link", name="People").click()
    page.select_option("#id_status", "left")
    expect(page.locator("#results tbody tr")).to_have_count(1)  # HTMX swapped in the leavers only
    row = page.locator("#results tbody tr", has_text=leila.display_name)
    row.get_by_role("link", name=leila.display_name, exact=True).click()
    page.wait_for_url(f"**/people/{leila.pk}/")

    page.click("#offboard")
    page.wait_for_selector("#create-plan")
    assert "user profile leila" in page.inner_text("main")
    page.fill("#id_reason", "Left the company")
    page.click("#create-plan")
    page.wait_for_url(re.compile(r".*/offboarding/\d+/$"))
    plan = Offboarding.objects.get(person=leila)
    assert plan.status == Offboarding.Status.PLANNED and plan.requested_by == world.approver
    assert "another approver must approve it" in page.inner_text("main")

    page.get_by_role("link", name="Requests").click()
    page.wait_for_selector("#inbox")
    assert page.locator(f"#leaver-{leila.pk}").count() == 0
