"""Finance in a real browser: the spend dashboard, a domain filter, the chart and a CSV export."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_inventory import log_in
from tests.costs.test_views import spend
from tests.factories import DomainFactory, UserFactory, grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finance_filters_a_domain_sees_the_chart_and_exports_csv(page: Any, tmp_path: Any) -> None:
    risk, research = DomainFactory(name="risk-analytics"), DomainFactory(name="research-lab")
    for days_ago in range(1, 40):
        spend(risk, "10.00", days_ago)
        spend(research, "2.50", days_ago)
    finance = UserFactory(username="finance")
    grant(finance, "finance")
    log_in(page, "finance")
    page.get_by_role("link", name="Costs").click()
    page.wait_for_selector("#spend-chart[data-ready=true]")
    assert page.get_by_role("cell", name="risk-analytics").is_visible()

    page.select_option("#id_domain", label="research-lab")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#spend-chart[data-ready=true]")
    assert "domain=" in page.url
    assert page.get_by_role("cell", name="research-lab").is_visible()
    assert page.get_by_role("cell", name="risk-analytics").count() == 0

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").first.click()
    saved = tmp_path / "spend.csv"
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("domain,name,arn,amount_usd")
    assert lines[1].startswith("research-lab,research-lab,")
