"""Applying a generated deny in a real browser, with a real Celery worker and the sandbox server: an approver sees
Canvas hidden but allowed on research-lab's role, generates the deny of what the UI hides, simulates it, proposes it
as a change set; the admin approves it, the worker puts it on the role in IAM, and the finding resolves."""

from __future__ import annotations

import re
from typing import Any

import pytest

from changesets.models import ChangeSet
from domains.models import Domain
from governance.models import Finding
from iamaccess.models import ExecutionRole
from portal.demo import DEMO_PASSWORD
from tests.browser.test_onboarding import log_out
from tests.iamaccess.world import review_all, role_arn, seed_demo

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(900),  # the demo seeded, reviewed over HTTP, then simulated twice
]


@pytest.fixture
def reviewed(sandbox_server: str) -> Any:
    seed_demo()
    return review_all()


def log_in(page: Any, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def canvas_findings() -> list[Finding]:
    domain = Domain.objects.get(name="research-lab")
    return [
        f
        for f in Finding.objects.filter(check_id="SE-06", domain=domain, status=Finding.Status.OPEN)
        if "Canvas" in f.details
    ]


def test_an_approver_denies_hidden_canvas_through_a_change_set_and_the_finding_resolves(
    reviewed: Any, start_worker: Any, page: Any
) -> None:
    worker = start_worker(PROVISION_POLL_SECONDS="0.3")
    page.set_default_timeout(120_000)  # simulating asks IAM for every probe: slow on a loaded machine
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm of Propose and Approve
    role = ExecutionRole.objects.get(arn=role_arn("research"))
    leaking = canvas_findings()
    assert leaking

    log_in(page, "approver")
    page.get_by_role("link", name="Execution roles").first.click()
    page.get_by_role("link", name="ResearchLabExecution").click()
    page.wait_for_url(f"**/execution-roles/{role.pk}/")
    findings = page.inner_text("#findings")
    assert "Canvas" in findings and "but allowed by IAM" in findings
    page.click("#generate-policy")
    page.select_option("#id_kind", "hidden")
    page.click("#generate")
    assert "valid" in page.inner_text("#validation") and "NoHiddenApps" in page.inner_text("#proposal")
    page.click("#simulate")
    page.wait_for_selector("#simulation")
    simulation = page.inner_text("#simulation")
    assert "SE-06" in simulation and "Newly denied" in simulation
    page.click("#propose")
    page.wait_for_url(re.compile(r".*/change-sets/\d+/$"))
    assert "PutRolePolicy" in page.inner_text("#changes") and page.locator("#approve").count() == 0
    cs = ChangeSet.objects.get(origin="iam:hidden")
    log_out(page)

    log_in(page, "admin")
    page.goto(f"/change-sets/{cs.pk}/")
    page.click("#approve")
    try:
        page.wait_for_selector("#change-set-status [data-status=applied]", timeout=120_000)
    except Exception:
        raise AssertionError(f"the change set was not applied; worker said:\n{worker.output()}") from None
    assert canvas_findings() == []
    for finding in leaking:
        finding.refresh_from_db()
        assert finding.status == Finding.Status.RESOLVED
    page.goto(f"/governance/findings/{leaking[0].pk}/")
    assert "resolved" in page.inner_text("body").lower()
    page.goto(f"/execution-roles/{role.pk}/")
    assert "sagemaker-portal-hidden-" in page.inner_text("#policies")
    assert "Canvas" not in page.inner_text("#findings")
