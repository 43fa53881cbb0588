"""Onboarding in a real browser, with a real Celery worker and the sandbox server: a data scientist requests a
profile, an approver approves it from the inbox, the profile reaches InService and shows in the portal; a team lead
requests a shared space, seeing its estimate first; a user of another domain sees neither."""

from __future__ import annotations

import re
from typing import Any

import pytest

from awssandbox.studio import studio_state
from onboarding.models import ProfileRequest, SpaceRequest
from tests.browser.test_inventory import log_in
from tests.inventory import ACCOUNT_ID, REGION, sagemaker
from tests.onboarding.world import World, build_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]


@pytest.fixture
def world(sandbox_server: str) -> World:
    return build_world()


def submit(page: Any, pattern: str) -> None:
    """Press the form's submit button and wait for the request page; a form error fails with its text."""
    page.get_by_role("button", name="Submit the request").click()
    try:
        page.wait_for_url(re.compile(pattern))
    except Exception:
        errors = page.locator(".msg-error").all_inner_texts()
        raise AssertionError(f"the form did not go through: {errors}") from None


def log_out(page: Any) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")


def test_a_scientist_requests_a_profile_an_approver_approves_it_and_it_goes_live(
    world: World, start_worker: Any, page: Any
) -> None:
    studio_state(ACCOUNT_ID, REGION).pending_describes = 3  # a few "Pending" answers before InService
    worker = start_worker(PROVISION_POLL_SECONDS="0.3")
    log_in(page, "maria")
    page.get_by_role("link", name="Requests").click()
    page.click("#request-profile")
    page.select_option("#id_domain", str(world.research.pk))
    page.wait_for_selector("#name-preview")  # HTMX re-rendered the form for the domain
    assert "will be named maria" in page.inner_text("#name-preview")
    page.select_option("#id_template", label="Data scientist")
    page.fill("#id_justification", "Churn model")
    submit(page, r".*/requests/profiles/\d+/$")
    assert page.locator("[data-status=submitted]").is_visible()
    req = ProfileRequest.objects.get()
    log_out(page)

    log_in(page, "arjun")
    page.get_by_role("link", name="Requests").click()
    row = page.locator(f"#profile-request-{req.pk}")
    row.get_by_role("button", name="Approve").click()
    page.wait_for_selector(f"#profile-request-{req.pk}[data-status=approved]")  # swapped in place
    page.goto(req.get_absolute_url())
    try:
        page.wait_for_selector("#request-status [data-status=active]", timeout=60_000)
    except Exception:
        raise AssertionError(f"provisioning did not finish; worker said:\n{worker.output()}") from None
    assert "aws.create_user_profile" in page.inner_text(".timeline")
    answer = sagemaker().describe_user_profile(DomainId=world.research.domain_id, UserProfileName="maria")
    assert answer["Status"] == "InService"
    log_out(page)

    log_in(page, "maria")
    page.goto(req.get_absolute_url())
    page.click("#created-profile")
    page.wait_for_url(re.compile(r".*/profiles/\d+/$"))
    assert page.get_by_role("heading", name="maria").is_visible()
    assert page.locator("#open-studio").is_visible()


def test_a_lead_requests_a_shared_space_and_an_outsider_sees_neither(world: World, page: Any) -> None:
    log_in(page, "leila")
    page.goto("/requests/spaces/new/")
    page.select_option("#id_domain", str(world.research.pk))
    page.wait_for_selector("text=owned by your profile")
    page.fill("#id_space_name", "churn-model")
    page.fill("#id_display_name", "Churn model")
    page.select_option("#id_instance_type", "ml.m5.large")
    page.fill("#id_ebs_size_gb", "99999")  # answered 400: the message replaces the estimate, it is not left stale
    page.wait_for_function("() => document.querySelector('#space-estimate').innerText.includes('No estimate')")
    page.fill("#id_ebs_size_gb", "50")
    page.wait_for_function("() => document.querySelector('#space-estimate').innerText.includes('$26.32')")
    page.fill("#id_purpose", "Churn model for 2027")
    submit(page, r".*/requests/spaces/\d+/$")
    assert page.locator("[data-status=submitted]").is_visible()
    space_req = SpaceRequest.objects.get()
    assert str(space_req.estimated_monthly_usd) == "26.32"
    log_out(page)

    from onboarding import services

    profile_req = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
    )
    log_in(page, "olga")
    for url in (space_req.get_absolute_url(), profile_req.get_absolute_url()):
        response = page.goto(url)
        assert response is not None and response.status == 404
    page.goto("/requests/spaces/")
    assert page.get_by_text("No shared space request yet").is_visible()
    page.goto("/requests/profiles/")
    assert page.get_by_text("No profile request yet").is_visible()
