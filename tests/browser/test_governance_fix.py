"""A governance fix in a real browser, with a real Celery worker and the sandbox server: approver A opens
governance, proposes "enable idle shutdown" (CO-01) for a whole domain from the findings list, approver B approves
it from the inbox, the worker applies it to AWS, and after the next sync the findings are resolved. The preview page
is looked at on a desktop and on a phone."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from changesets.models import ChangeSet
from domains.sync import start_inventory_sync
from governance.models import Finding
from tests.browser.test_inventory import log_in
from tests.browser.test_layout import DESKTOP, PHONE, problems_on
from tests.browser.test_onboarding import log_out
from tests.inventory import sagemaker
from tests.onboarding.world import World, build_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]
PEOPLE = ("omar", "sana")  # research gets two more profiles, all without idle shutdown


@pytest.fixture
def world(sandbox_server: str) -> World:
    world = build_world()
    for name in PEOPLE:
        sagemaker().create_user_profile(
            DomainId=world.research.domain_id, UserProfileName=name, Tags=[{"Key": "owner", "Value": name}]
        )
    start_inventory_sync(inline=True)
    return world


def test_an_approver_fixes_idle_shutdown_for_a_whole_domain_and_another_approves(
    world: World, start_worker: Any, page: Any, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    worker = start_worker(PROVISION_POLL_SECONDS="0.3")
    findings = list(Finding.objects.filter(check_id="CO-01", domain=world.research, status="open"))
    assert sorted(f.resource_name for f in findings) == ["leila", "omar", "sana"]
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm of Propose and Approve

    log_in(page, "arjun")
    page.locator(".mainnav").get_by_role("link", name="Governance").click()
    page.locator(".subnav").get_by_role("link", name="Findings").click()
    page.locator('[data-fix-group="CO-01 research"]').click()
    page.wait_for_url(re.compile(r".*/governance/fix/\?check=CO-01&domain=.*"))
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Fix: Idle shutdown 120 min on all 3 profiles of research"
    calls = page.inner_text("#fix-calls")
    assert "UpdateDomain" in calls and "LifecycleManagement" in calls and "IdleTimeoutInMinutes" in calls
    assert page.locator("#fix-findings tbody tr").count() == 3
    assert not ChangeSet.objects.exists()  # nothing proposed before the confirmation
    for width in (DESKTOP, PHONE):
        page.set_viewport_size({"width": width, "height": 900})
        url = page.url.removeprefix(page.base_url)
        assert problems_on(page, url, ["#propose-fix"], width) == []
        page.screenshot(path=str(shots / f"governance-fix-preview-{width}.png"), full_page=True)
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    page.click("#propose-fix")
    page.wait_for_url(re.compile(r".*/change-sets/\d+/$"))
    cs = ChangeSet.objects.get()
    assert set(cs.finding_ids) == {f.pk for f in findings}
    assert page.locator("#approve").count() == 0  # not for the proposer
    page.goto(f"/governance/findings/{findings[0].pk}/")
    assert f"Fix proposed in change set {cs.ref}" in page.inner_text("#pending-fix")
    log_out(page)

    log_in(page, "bea")
    page.get_by_role("link", name="Requests").click()
    page.locator("#inbox-change-sets").get_by_role("link", name=cs.ref).click()
    assert "Idle shutdown 120 min on all 3 profiles of research" in page.inner_text("h1")
    page.click("#approve")
    try:
        page.wait_for_selector("#change-set-status [data-status=applied]", timeout=90_000)
    except Exception:
        raise AssertionError(f"the change set was not applied; worker said:\n{worker.output()}") from None
    described = sagemaker().describe_domain(DomainId=world.research.domain_id)["DefaultUserSettings"]
    idle = described["JupyterLabAppSettings"]["AppLifecycleManagement"]["IdleSettings"]
    assert idle == {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 120}

    # The next sync (here from the domain's page) finds AWS as the change set left it: the findings stay resolved.
    page.goto(f"/domains/{world.research.pk}/")
    page.click("#sync-now")
    try:
        page.wait_for_selector("#sync-progress [data-status=succeeded]", timeout=90_000)
    except Exception:
        raise AssertionError(f"the sync did not finish; worker said:\n{worker.output()}") from None
    for finding in findings:
        page.goto(f"/governance/findings/{finding.pk}/")
        assert page.locator("h1 .badge").inner_text() == "Resolved", finding.resource_name
        assert "fix applied" in page.inner_text("body")
    page.goto("/governance/")
    assert page.locator('[data-fix-group="CO-01 research"]').count() == 0
