"""Spend follows the tags, in a real browser: finance sees the dashboard's notice after a tag backfill, requests the
cost allocation tag backfill, a platform admin approves it (confirming), and the list shows AWS's answer; at desktop
and phone widths."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from backfill import costtags
from backfill.models import CostTagBackfill
from tests.backfill.test_cost_tags import PAYER, applied_plan, months_back
from tests.browser.test_inventory import log_in
from tests.factories import DomainFactory, UserFactory, grant
from tests.inventory import make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def shot(page: Any, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_finance_requests_and_an_admin_approves_the_cost_allocation_tag_backfill(
    aws_sandbox: None, page: Any, tmp_path: Path, width: int
) -> None:
    make_account(account_id=PAYER, is_payer=True)
    domain = DomainFactory(name="research")
    UserFactory(username="root", is_superuser=True)
    grant(UserFactory(username="fiona"), "finance")
    applied_plan(domain)
    page.set_viewport_size({"width": width, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())

    log_in(page, "fiona")
    page.goto("/costs/")
    notice = page.locator("#cost-tag-backfill-notice")
    assert "Cost Explorer applies tags to new spend only" in notice.inner_text()
    shot(page, f"cost-dashboard-notice-{width}", tmp_path)
    notice.get_by_role("link").click()
    page.wait_for_url("**/backfill/cost-tags/")
    page.select_option("#id_payer", label=f"Account {PAYER} ({PAYER})")
    page.select_option("#id_backfill_from", months_back(2).isoformat())
    page.fill("#id_reason", "legacy training jobs tagged")
    page.click("#request-backfill")
    page.wait_for_selector("#cost-tag-backfills tr[data-status=proposed]")
    backfill = CostTagBackfill.objects.get()
    assert page.locator(f"#approve-{backfill.pk}").count() == 0  # not for the requester
    shot(page, f"cost-tag-backfills-proposed-{width}", tmp_path)
    page.context.clear_cookies()  # log out (the menu folds away at phone width)

    log_in(page, "root")
    page.goto("/backfill/cost-tags/")
    page.click(f"#approve-{backfill.pk}")
    page.wait_for_selector("#cost-tag-backfills tr[data-status=approved]")
    costtags.start(backfill.pk)  # the worker's part
    page.reload()
    assert "SUCCEEDED" in page.inner_text("#cost-tag-backfills")
    shot(page, f"cost-tag-backfills-succeeded-{width}", tmp_path)
