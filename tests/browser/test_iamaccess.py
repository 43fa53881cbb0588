"""The execution roles in a real browser: an approver finds a role whose policies allow what the UI hides, reads
the probe that leaks and follows it to the finding."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from iamaccess.models import ExecutionRole
from portal.demo import DEMO_PASSWORD
from tests.iamaccess.world import review_all, role_arn, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

SHOTS = os.environ.get("IAM_SCREENSHOTS")  # a directory: also save desktop and phone screenshots there


def shoot(page: Any, name: str) -> None:
    if not SHOTS:
        return
    for width, label in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{label}.png"), full_page=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{label}-top.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def reviewed(aws_sandbox: None) -> Any:
    seed_demo()
    return review_all()


def test_an_approver_reads_which_hidden_tool_the_role_still_allows(reviewed: Any, page: Any) -> None:
    assert get_user_model().objects.filter(username="approver").exists()
    page.goto("/login/")
    page.fill("#id_username", "approver")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.get_by_role("link", name="Execution roles").first.click()
    page.wait_for_url("**/execution-roles/")
    assert "RiskAnalyticsExecution" in page.inner_text("#results")
    shoot(page, "role-list")
    page.get_by_role("link", name="RiskAnalyticsExecution").click()
    role = ExecutionRole.objects.get(arn=role_arn("risk"))
    page.wait_for_url(f"**/execution-roles/{role.pk}/")
    probes = page.inner_text("#probes")
    assert "ML tool Models" in probes and "CreateInTheDomainOnly" in probes
    assert "explicit deny" in probes  # AutoML, enforced
    shoot(page, "role-detail")
    page.locator("#findings").get_by_role("link", name="SE-06").first.click()
    page.wait_for_url("**/governance/findings/*/")
    assert (
        "Hidden in" in page.inner_text("h1 + p")
        and "SimulatePrincipalPolicy as RiskAnalyticsExecution" in page.content()
    )
    shoot(page, "finding")
    page.goto(f"/execution-roles/{role.pk}/")
    page.click("#generate-policy")
    page.select_option("#id_kind", "instance-types")
    page.fill("#id_instance_types", "system, ml.t3.*, ml.m5.*")
    page.click("#generate")
    assert "valid" in page.inner_text("#validation")
    page.click("#simulate")
    page.wait_for_selector("#simulation")
    assert "SE-07" in page.inner_text("#simulation")
    shoot(page, "policy")
