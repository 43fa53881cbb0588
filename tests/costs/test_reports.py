"""The dashboard's cached figures: keyed by the last ingestion and by the person's scope."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from awssandbox.ce import LineItem, add_line_items
from costs.models import DOMAIN_TAG, PROFILE_TAG, SpendRollup
from tests.costs.test_ingest import PAYER, TODAY, bill, ingest  # noqa: F401 (bill is a fixture)
from tests.factories import DomainFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


class Page:
    """The dashboard as its HTML shows it (the figures are rendered once and kept: no template context to read)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def section(self, name: str) -> str:
        return self.text.split(f'id="spend-{name}"', 1)[1].split("</section>", 1)[0]

    def total(self) -> Decimal:
        return Decimal(re.search(r'data-total="([^"]+)"', self.section("domains")).group(1))

    def arns(self, name: str) -> list[str]:
        return re.findall(r'<tr data-arn="([^"]*)"', self.section(name))

    def names(self, name: str) -> list[str]:
        rows = re.findall(r'<tr data-arn="[^"]*"><td>(?:<a [^>]*>)?([^<]*)', self.section(name))
        return [html.unescape(row) for row in rows]

    def series_labels(self) -> list[str]:
        found = re.search(r'<script id="spend-series" type="application/json">(.*?)</script>', self.text, re.S)
        return [dataset["label"] for dataset in json.loads(found.group(1))["datasets"]] if found else []


def dashboard(user: Any) -> tuple[Page, list[str]]:
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("costs:dashboard"))
    assert response.status_code == 200
    return Page(response.content.decode()), [q["sql"] for q in queries.captured_queries]


def reads_spend(statements: list[str]) -> bool:
    return any('"costs_spend"' in sql for sql in statements)  # the view, not costs_spendversion


def total(page: Page) -> Decimal:
    return page.total()


@pytest.fixture
def people(bill: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    finance = UserFactory(username="finance")
    grant(finance, "finance")
    scientist = UserFactory(username="maria")
    grant(scientist, "data_scientist", bill["domain"])
    bill["profile"].owner = scientist
    bill["profile"].save()
    approver = UserFactory(username="other-approver")
    grant(approver, "domain_approver", DomainFactory(name="elsewhere"))
    ingest()
    return {"finance": finance, "scientist": scientist, "approver": approver, **bill}


def test_the_same_view_again_is_served_without_reading_the_spend(people: dict[str, Any]) -> None:
    first, statements = dashboard(people["finance"])
    assert reads_spend(statements)
    again, statements = dashboard(people["finance"])
    assert not reads_spend(statements)
    assert total(again) == total(first) > 0 and again.section("profiles") == first.section("profiles")


def test_an_ingestion_makes_new_figures_and_nothing_else_does(people: dict[str, Any], settings: Any) -> None:
    before, _ = dashboard(people["finance"])
    # A change that is not an ingestion is not seen (the figures come from the cache)...
    SpendRollup.objects.filter(level="domain").update(amount=Decimal("999999"))
    cached, _ = dashboard(people["finance"])
    assert total(cached) == total(before)
    # ...an ingestion is: yesterday restated with more spend, re-read in the trailing window.
    domain, profile = people["domain"], people["profile"]
    add_line_items(
        PAYER,
        [
            LineItem(
                TODAY - timedelta(days=1),
                PAYER,
                "us-east-1",
                "USE1-Studio:ml.p4d.24xlarge",
                Decimal("1000"),
                ((DOMAIN_TAG, domain.arn), (PROFILE_TAG, profile.arn)),
            )
        ],
    )
    ingest()
    after, statements = dashboard(people["finance"])
    assert reads_spend(statements)
    # The tampered rollups outside the re-read window keep their tampered amount: compare what the window changed.
    window_days = SpendRollup.objects.filter(period="day", level="domain", start__gte=TODAY - timedelta(days=1))
    assert window_days.filter(amount__gte=1000).exists()
    assert total(after) != total(cached)


def test_cached_figures_stay_within_each_persons_scope(people: dict[str, Any]) -> None:
    everything, _ = dashboard(people["finance"])  # cached first, for the widest scope
    own, statements = dashboard(people["scientist"])
    assert reads_spend(statements)  # another scope: its own key, not the finance figures
    assert own.arns("profiles") == [people["profile"].arn]
    assert Decimal(0) < total(own) < total(everything)
    nothing, _ = dashboard(people["approver"])
    assert nothing.arns("domains") == [] and "No spend here in this view." in nothing.section("domains")
    # And the other way round: a narrow scope cached first never leaks into a wider one.
    again, _ = dashboard(people["finance"])
    assert total(again) == total(everything)


def test_domain_names_are_todays_even_from_the_cache(people: dict[str, Any]) -> None:
    dashboard(people["finance"])
    people["domain"].name = "renamed-line-of-business"
    people["domain"].save()
    context, statements = dashboard(people["finance"])
    assert not reads_spend(statements)
    assert "renamed-line-of-business" in context.names("domains")
    assert "renamed-line-of-business" in context.series_labels()


def test_caching_can_be_turned_off(people: dict[str, Any], settings: Any) -> None:
    settings.COST_FIGURES_CACHE_SECONDS = 0
    dashboard(people["finance"])
    _, statements = dashboard(people["finance"])
    assert reads_spend(statements)


def test_a_budget_set_after_the_figures_were_kept_shows_at_once(people: dict[str, Any]) -> None:
    from costs.budgets import do_set_budget

    before, _ = dashboard(people["finance"])
    assert "of $1,234" not in before.section("domains")
    approver = UserFactory(username="approver")
    grant(approver, "domain_approver", people["domain"])
    do_set_budget(people["domain"], actor=approver, monthly_amount=Decimal("1234"), thresholds=[80])
    after, statements = dashboard(people["finance"])
    assert not reads_spend(statements)  # the figures are still the kept ones: only the rendering is new
    assert "of $1,234" in after.section("domains")


def test_a_profile_removed_from_the_inventory_loses_its_link_at_once(people: dict[str, Any]) -> None:
    from django.urls import reverse as url

    link = url("profiles:profile-detail", args=[people["profile"].pk])
    before, _ = dashboard(people["finance"])
    assert link in before.section("profiles")
    people["profile"].delete()
    after, statements = dashboard(people["finance"])
    assert not reads_spend(statements)
    assert people["profile"].arn in after.arns("profiles") and link not in after.section("profiles")
