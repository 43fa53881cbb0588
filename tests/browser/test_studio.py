"""Open Studio in a real browser against the sandbox server: a data scientist clicks Open Studio on their own
profile and lands on the sandbox's "Studio (sandbox)" page naming their domain and profile; the link opens once."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.browser.test_inventory import log_in
from tests.onboarding.world import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


@pytest.fixture
def world(sandbox_server: str) -> World:
    return build_world()


def test_a_scientist_opens_studio_on_their_own_profile_and_lands_on_the_sandbox_studio(
    world: World, sandbox_server: str, page: Any
) -> None:
    profile = world.lead_profile
    log_in(page, "leila")
    page.goto(reverse("profiles:profile-detail", args=[profile.pk]))
    with page.context.expect_page() as opened:  # the button opens Studio in a new tab, as the console does
        page.click("#open-studio")
    studio = opened.value
    studio.wait_for_load_state()
    assert studio.url.startswith(f"{sandbox_server}/_sandbox/studio/auth?token=")
    assert studio.title() == "Studio (sandbox)"
    assert studio.inner_text("#studio-domain") == f"research ({world.research.domain_id})"
    assert studio.inner_text("#studio-profile") == "leila"

    again = studio.goto(studio.url)  # the presigned URL is spent: a reload is refused
    assert again is not None and again.status == 403
    assert "already been used" in studio.inner_text("#refusal")
