"""The tag backfill in a real browser, on the demo's 300 legacy resources: coverage with its chart, the
unattributed resources with why, and an attribution rule previewed, then saved; at desktop and phone widths."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from backfill import discovery, wizard
from backfill.models import AttributionRule, BackfillPlan, LegacyResource
from domains.models import Domain
from portal.models import TaskRun
from tests.backfill.conftest import build_legacy_world
from tests.browser.test_inventory import log_in
from tests.factories import UserFactory, grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def shot(page: Any, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_reads_coverage_and_adds_a_rule(aws_sandbox: None, page: Any, tmp_path: Path, width: int) -> None:
    build_legacy_world()
    discovery.start_discovery(trigger=TaskRun.Trigger.COMMAND, inline=True)
    UserFactory(username="root", is_superuser=True)
    approver = UserFactory(username="risk-approver")
    grant(approver, "domain_approver")
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "root")
    page.goto("/backfill/")
    page.wait_for_selector("#coverage-chart[data-ready=true]")
    assert "risk-analytics" in page.inner_text("#coverage-table")
    shot(page, f"coverage-{width}", tmp_path)

    page.goto("/backfill/resources/?coverage=unattributable")
    assert "Unattributed:" in page.inner_text("#results")
    shot(page, f"resources-{width}", tmp_path)

    lineage = LegacyResource.objects.filter(rule="lineage").first()
    page.goto(f"/backfill/resources/{lineage.pk}/")
    assert "Lineage" in page.inner_text("main")
    page.click("#upstream")  # lineage leads to what the resource was made from
    page.wait_for_url(f"**/backfill/resources/{LegacyResource.objects.get(arn=lineage.upstream_arn).pk}/")
    page.go_back()
    shot(page, f"resource-{width}", tmp_path)

    stray = LegacyResource.objects.filter(coverage="unattributable", name__startswith="risk-").first()
    before = LegacyResource.objects.filter(coverage="unattributable").count()
    page.goto("/backfill/rules/")
    page.select_option("#id_kind", "name-prefix")
    page.fill("#id_prefix", "risk-")
    risk = Domain.objects.get(name="risk-analytics")
    page.select_option("#id_domain", str(risk.pk))
    page.click("#preview-rule")
    page.wait_for_selector("#rule-preview")
    assert not AttributionRule.objects.exists()
    shot(page, f"rules-preview-{width}", tmp_path)
    page.click("#save-rule")
    page.wait_for_selector("#rules")
    assert AttributionRule.objects.count() == 1
    after = LegacyResource.objects.filter(coverage="unattributable").count()
    assert after < before
    if stray is not None:
        stray.refresh_from_db()
        assert stray.rule == "name-prefix"

    # The wizard: a dry run, approved by another approver, applied.
    page.goto("/backfill/plans/")
    page.select_option("#id_domain", str(risk.pk))
    page.click("#make-plan")
    page.wait_for_selector("#plan-domains")
    plan = BackfillPlan.objects.get()
    assert page.locator("#approve").count() == 0  # not by its author
    shot(page, f"plan-{width}", tmp_path)
    wizard.do_approve(approver, plan)
    page.reload()
    page.click("#apply")
    page.wait_for_selector("#plan-status[data-status=applying], #plan-status[data-status=applied]")
