"""A settings change in a real browser, with a real Celery worker and the sandbox server: an approver edits a
profile's idle timeout (which proposes a change set), a second approver approves it from the inbox, the worker applies
it to AWS and the profile page shows the new value."""

from __future__ import annotations

import re
from typing import Any

import pytest

from changesets.models import ChangeSet
from tests.browser.test_inventory import log_in
from tests.browser.test_onboarding import log_out
from tests.inventory import sagemaker
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


def test_an_approver_edits_a_profiles_idle_timeout_another_approves_and_the_worker_applies_it(
    world: World, start_worker: Any, page: Any
) -> None:
    worker = start_worker(PROVISION_POLL_SECONDS="0.3")
    profile = world.research.user_profiles.get(name="leila")
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm of Approve

    log_in(page, "arjun")
    page.goto(f"/profiles/{profile.pk}/")
    page.click("#edit-settings-link")
    page.select_option("#id_idle_shutdown", "ENABLED")
    page.fill("#id_idle_timeout_minutes", "120")
    page.click("#propose")
    page.wait_for_url(re.compile(r".*/change-sets/\d+/$"))
    assert "IdleTimeoutInMinutes" in page.inner_text("#changes")
    assert page.locator("#approve").count() == 0  # not for the proposer
    cs = ChangeSet.objects.get()
    log_out(page)

    log_in(page, "bea")
    page.get_by_role("link", name="Requests").click()
    page.locator("#inbox-change-sets").get_by_role("link", name=cs.ref).click()
    page.click("#approve")
    try:
        page.wait_for_selector("#change-set-status [data-status=applied]", timeout=60_000)
    except Exception:
        raise AssertionError(f"the change set was not applied; worker said:\n{worker.output()}") from None
    answer = sagemaker().describe_user_profile(DomainId=world.research.domain_id, UserProfileName="leila")
    idle = answer["UserSettings"]["JupyterLabAppSettings"]["AppLifecycleManagement"]["IdleSettings"]
    assert idle == {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 120}
    page.goto(f"/profiles/{profile.pk}/")
    assert "after 120 min (profile override)" in page.inner_text("body")
