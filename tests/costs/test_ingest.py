"""Cost ingestion from the sandbox's Cost Explorer: parsing, paging, idempotency, failures, throttling, rollups."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from awssandbox import faults
from awssandbox.ce import LineItem, add_line_items, cost_state, set_page_size, set_tag_status
from costs.ingest import IngestionScopeError, history_start, split_key, start_cost_ingestion
from costs.models import DOMAIN_TAG, PROFILE_TAG, SPACE_TAG, CostRecord, CostTagStatus, Spend, SpendRollup
from portal.aws import call_counter
from portal.models import TaskRun
from tests.factories import DomainFactory, SpaceFactory, UserProfileFactory
from tests.inventory import make_account

pytestmark = pytest.mark.django_db

PAYER = "123456789012"
TODAY = timezone.localdate()


@pytest.fixture
def bill(aws_sandbox: None) -> dict[str, Any]:
    """Inventory and a bill: 400 days of spend on a profile, a space, an unknown domain and nothing at all."""
    domain = DomainFactory(arn=f"arn:aws:sagemaker:us-east-1:{PAYER}:domain/d-aaaaaaaaaaaa", domain_id="d-aaaaaaaaaaaa")
    profile = UserProfileFactory(domain=domain, arn=f"{domain.arn.replace(':domain/', ':user-profile/')}/maria")
    space = SpaceFactory(domain=domain, arn=f"{domain.arn.replace(':domain/', ':space/')}/models")
    unknown = f"arn:aws:sagemaker:eu-west-1:{PAYER}:domain/d-unknown00000"
    items = []
    for offset in range(1, 401):
        day = TODAY - timedelta(days=offset)
        items += [
            LineItem(
                day,
                PAYER,
                "us-east-1",
                "USE1-Studio:ml.t3.medium",
                Decimal("1.2345"),
                ((DOMAIN_TAG, domain.arn), (PROFILE_TAG, profile.arn)),
            ),
            LineItem(
                day,
                PAYER,
                "us-east-1",
                "USE1-Studio:ml.g5.xlarge",
                Decimal("10.5"),
                ((DOMAIN_TAG, domain.arn), (SPACE_TAG, space.arn)),
            ),
            LineItem(day, PAYER, "eu-west-1", "EUW1-Train:ml.m5.xlarge", Decimal("0.333333"), ((DOMAIN_TAG, unknown),)),
            LineItem(day, PAYER, "us-east-1", "USE1-Host:ml.m5.large", Decimal("2"), ()),
        ]
    add_line_items(PAYER, items)
    make_account(account_id=PAYER, is_payer=True)
    return {"domain": domain, "profile": profile, "space": space, "unknown": unknown, "items": items}


def ingest(**kwargs: Any) -> TaskRun:
    run, created = start_cost_ingestion(inline=True, **kwargs)
    assert created
    return run


def exact_sum(records: Any) -> Decimal:
    """Summed in Python: SQLite's SUM goes through floats."""
    return sum(records.values_list("amount", flat=True), Decimal(0))


def line_item_total(items: list[LineItem], start: date) -> Decimal:
    return sum((i.amount for i in items if start <= i.day < TODAY), Decimal(0))


def test_tag_keys_are_parsed_with_untagged_as_empty() -> None:
    assert split_key(f"{DOMAIN_TAG}$arn:aws:sagemaker:x", DOMAIN_TAG) == "arn:aws:sagemaker:x"
    assert split_key(f"{DOMAIN_TAG}$", DOMAIN_TAG) == ""
    with pytest.raises(ValueError):
        split_key("SERVICE$x", DOMAIN_TAG)


def test_a_page_with_a_group_of_another_key_is_refused_naming_it() -> None:
    from costs.ingest import page_rows

    def page(keys: list[str]) -> dict[str, Any]:
        group = {"Keys": keys, "Metrics": {"UnblendedCost": {"Amount": "1.25", "Unit": "USD"}}}
        return {"ResultsByTime": [{"TimePeriod": {"Start": "2026-11-02", "End": "2026-11-03"}, "Groups": [group]}]}

    [row] = page_rows(page([f"{DOMAIN_TAG}$arn:d", f"{PROFILE_TAG}$arn:p"]), PROFILE_TAG)
    assert (row.domain_arn, row.member_arn, row.amount) == ("arn:d", "arn:p", Decimal("1.25"))
    with pytest.raises(ValueError, match="SERVICE"):
        page_rows(page([f"{DOMAIN_TAG}$arn:d", "SERVICE$x"]), PROFILE_TAG)


def test_the_first_run_backfills_13_months_and_matches_the_bill_to_the_cent(bill: dict[str, Any]) -> None:
    run = ingest()
    assert run.status == TaskRun.Status.SUCCEEDED, run.errors
    start = history_start(TODAY)
    records = CostRecord.objects.filter(grain="profile")
    assert records.order_by("day").first().day == start
    total = exact_sum(records)
    assert total.quantize(Decimal("0.01")) == line_item_total(bill["items"], start).quantize(Decimal("0.01"))
    assert total == line_item_total(bill["items"], start)  # to the last decimal, in fact


def test_records_join_the_inventory_and_keep_unknown_and_untagged_spend_visible(bill: dict[str, Any]) -> None:
    ingest()
    day = TODAY - timedelta(days=3)
    on_profile = CostRecord.objects.get(day=day, grain="profile", member_arn=bill["profile"].arn)
    assert on_profile.user_profile == bill["profile"] and on_profile.domain == bill["domain"]
    on_space = CostRecord.objects.get(day=day, grain="space", member_arn=bill["space"].arn)
    assert on_space.space == bill["space"] and on_space.amount == Decimal("10.5")
    unknown = CostRecord.objects.get(day=day, grain="profile", domain_arn=bill["unknown"])
    assert unknown.domain is None and unknown.amount == Decimal("0.333333")
    untagged = CostRecord.objects.get(day=day, grain="profile", domain_arn="")
    assert untagged.amount == Decimal("2")


def test_ingesting_the_same_period_twice_never_double_counts(bill: dict[str, Any]) -> None:
    ingest()
    before = (exact_sum(CostRecord.objects.all()), CostRecord.objects.count())
    since = TODAY - timedelta(days=40)
    run = ingest(since=since)
    assert run.counts["cost_records"]["removed"] == run.counts["cost_records"]["created"]
    assert (exact_sum(CostRecord.objects.all()), CostRecord.objects.count()) == before


def test_later_runs_refetch_a_trailing_window_in_two_requests(bill: dict[str, Any], settings: Any) -> None:
    settings.COST_RESTATED_DAYS = 14
    ingest()
    run = ingest(trigger=TaskRun.Trigger.SCHEDULE)
    assert run.aws_calls == {"ce:GetCostAndUsage": 2}  # by profile and by space; the tag check waits a day
    assert run.counts["cost_records"]["created"] == 14 * 8  # 14 days x 4 groups in each of the two groupings


def test_a_failure_mid_run_leaves_the_earlier_data_as_it_was(bill: dict[str, Any], settings: Any) -> None:
    settings.AWS_MAX_ATTEMPTS = 1
    ingest()
    before = list(CostRecord.objects.order_by("pk").values_list("pk", "amount"))
    set_page_size(PAYER, 50)
    faults.registry.add(service="ce", kind="server_error", operation="GetCostAndUsage", rate=1.0, after=2)
    run = ingest(since=TODAY - timedelta(days=100))
    faults.registry.clear()
    assert run.status == TaskRun.Status.FAILED
    assert "GetCostAndUsage" in run.errors[0]["message"]
    assert list(CostRecord.objects.order_by("pk").values_list("pk", "amount")) == before


def test_throttling_is_retried(bill: dict[str, Any], fast_aws_backoff: None) -> None:
    faults.registry.add(service="ce", kind="throttle", operation="GetCostAndUsage", count=2)
    before = call_counter.snapshot().get(("ce", "GetCostAndUsage"), 0)
    run = ingest()
    assert run.status == TaskRun.Status.SUCCEEDED
    assert call_counter.snapshot()[("ce", "GetCostAndUsage")] - before == 2 + 2  # two queries, two throttled tries


def test_paging_follows_next_page_token_to_the_same_result(bill: dict[str, Any]) -> None:
    set_page_size(PAYER, 100)
    run = ingest()
    pages = run.aws_calls["ce:GetCostAndUsage"]
    assert pages > 2
    total = exact_sum(CostRecord.objects.filter(grain="profile"))
    assert total == line_item_total(bill["items"], history_start(TODAY))


def test_inactive_tags_are_flagged_with_the_fix(bill: dict[str, Any]) -> None:
    set_tag_status(PAYER, PROFILE_TAG, "Inactive")
    run = ingest()
    assert CostTagStatus.objects.get(tag_key=PROFILE_TAG).status == "Inactive"
    assert "Activate them in Billing > Cost allocation tags" in run.notes[0]
    assert not CostRecord.objects.filter(grain="profile").exclude(member_arn="").exists()


def test_rollups_sum_the_records_per_domain_profile_and_space(bill: dict[str, Any]) -> None:
    ingest()
    month = date(TODAY.year, TODAY.month, 1) - timedelta(days=1)
    month = date(month.year, month.month, 1)
    domain_month = SpendRollup.objects.get(period="month", start=month, level="domain", key_arn=bill["domain"].arn)
    records = exact_sum(
        CostRecord.objects.filter(
            grain="profile", domain_arn=bill["domain"].arn, day__year=month.year, day__month=month.month
        )
    )
    assert domain_month.amount.quantize(Decimal("0.000001")) == records.quantize(Decimal("0.000001"))
    # A space's day is its record, read through the Spend view (the rollups keep a member's months only).
    assert not SpendRollup.objects.filter(period="day").exclude(level="domain").exists()
    space_day = Spend.objects.get(period="day", start=TODAY - timedelta(days=2), level="space")
    assert space_day.space == bill["space"] and space_day.amount == Decimal("10.5")
    assert SpendRollup.objects.filter(period="month", level="domain", key_arn="").exists()  # untagged, visible


def test_it_explains_what_it_cannot_ingest(bill: dict[str, Any]) -> None:
    make_account(account_id="111122223333")
    with pytest.raises(IngestionScopeError, match="not marked as a payer"):
        start_cost_ingestion(account_id="111122223333", enqueue=False)
    with pytest.raises(IngestionScopeError, match="No AWS account 999999999999"):
        start_cost_ingestion(account_id="999999999999", enqueue=False)
    with pytest.raises(IngestionScopeError, match="is not in the past"):
        start_cost_ingestion(since=TODAY, enqueue=False)


def test_without_a_payer_account_the_run_says_what_to_do(aws_sandbox: None) -> None:
    run = ingest()
    assert run.status == TaskRun.Status.FAILED
    assert "mark the account that holds the bill as payer" in run.errors[0]["message"]
    assert cost_state(PAYER).items == []


@pytest.mark.django_db(transaction=True)
def test_ingest_costs_command_reads_the_bill_with_progress(bill: dict[str, Any]) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("ingest_costs", stdout=out)
    assert "Succeeded:" in out.getvalue() and "steps" in out.getvalue()
    assert CostRecord.objects.exists()
    with pytest.raises(CommandError, match="not a date"):
        call_command("ingest_costs", "--since", "yesterday", stdout=StringIO())


def test_an_ingestion_records_the_domains_it_read_so_their_people_see_it(bill: dict[str, Any]) -> None:
    from django.test import Client
    from django.urls import reverse

    from tests.factories import UserFactory, grant

    run = ingest()
    run.refresh_from_db()
    assert run.domain_arns == sorted([bill["domain"].arn, bill["unknown"]])
    lead = UserFactory(username="lead")
    grant(lead, "team_lead", bill["domain"])
    client = Client()
    client.force_login(lead)
    assert f"#{run.pk}<" in client.get(reverse("costs:run-list")).content.decode()
    assert client.get(reverse("costs:run-detail", args=[run.pk])).status_code == 200


def test_a_run_under_permanent_throttling_records_every_request_cost_explorer_saw(
    bill: dict[str, Any], fast_aws_backoff: None, settings: Any
) -> None:
    settings.AWS_MAX_ATTEMPTS, settings.AWS_STEP_ATTEMPTS = 3, 4
    rule = faults.registry.add(service="ce", kind="throttle", operation="GetCostAndUsage", rate=1.0)
    run = ingest()
    assert run.status == TaskRun.Status.FAILED
    assert rule.seen == 4 * 3  # four step attempts of three HTTP attempts each, all billed
    assert run.aws_calls["ce:GetCostAndUsage"] == rule.seen
    assert run.aws_throttled == {"ce:GetCostAndUsage": rule.seen}
    assert run.aws_retried == {"ce:GetCostAndUsage": 4 * 2}


def test_a_run_that_succeeds_under_heavy_throttling_records_every_request(
    bill: dict[str, Any], fast_aws_backoff: None, settings: Any
) -> None:
    settings.AWS_MAX_ATTEMPTS, settings.AWS_STEP_ATTEMPTS = 4, 10
    faults.registry.clear(seed=3)
    seen = faults.registry.add(service="ce", kind="latency", latency_ms=1, rate=1.0)  # counts every request
    throttle = faults.registry.add(service="ce", kind="throttle", rate=0.8)
    run = ingest()
    assert run.status == TaskRun.Status.SUCCEEDED, run.errors
    assert throttle.fired > seen.seen / 2
    assert run.aws_call_total == seen.seen
    assert run.aws_throttled_total == throttle.fired
    assert run.counts["cost_records"]["created"] > 0


def reference_rollups() -> set[tuple[Any, ...]]:
    """The rollups as the ingestion built them before it used SQL: every level per day and per month, summed in
    Python from the records (domain totals from the profile grain; a member's rows without the blank member)."""
    sums: dict[tuple[Any, ...], Decimal] = {}
    for r in CostRecord.objects.all():
        month = r.day.replace(day=1)
        keys = []
        if r.grain == "profile":
            keys += [
                ("day", r.day, "domain", r.domain_arn, r.domain_arn),
                ("month", month, "domain", r.domain_arn, r.domain_arn),
            ]
        if r.member_arn:
            keys += [
                ("day", r.day, r.grain, r.domain_arn, r.member_arn),
                ("month", month, r.grain, r.domain_arn, r.member_arn),
            ]
        for key in keys:
            sums[(r.payer_id, *key)] = sums.get((r.payer_id, *key), Decimal(0)) + r.amount
    return {(*key, amount.quantize(Decimal("0.000001"))) for key, amount in sums.items()}


def spend_rows() -> set[tuple[Any, ...]]:
    return {
        (s.payer_id, s.period, s.start, s.level, s.domain_arn, s.key_arn, s.amount.quantize(Decimal("0.000001")))
        for s in Spend.objects.all()
    }


def test_the_spend_the_pages_read_equals_the_rollups_the_python_rebuild_made(bill: dict[str, Any]) -> None:
    # The first load and a refresh window: both must give every row the former rollups had, and no other.
    ingest()
    assert spend_rows() == reference_rollups()
    ingest()
    assert spend_rows() == reference_rollups()
    # Only the member days moved out of the table: the domain's days and every month are still rollups.
    assert SpendRollup.objects.count() == len(
        {row for row in reference_rollups() if row[1] == "month" or row[3] == "domain"}
    )
    assert Spend.objects.get(level="space", period="day", start=TODAY - timedelta(days=1)).space == bill["space"]
    first_month = Spend.objects.get(level="profile", period="month", start=history_start(TODAY))
    assert first_month.user_profile == bill["profile"] and first_month.domain == bill["domain"]


def test_pages_are_written_as_they_arrive_not_gathered_first(bill: dict[str, Any]) -> None:
    from django.db import connection

    from costs.ingest import STAGING, Row, replace_window
    from domains.models import AwsAccount

    payer = AwsAccount.objects.get(account_id=PAYER)
    start, end = TODAY - timedelta(days=10), TODAY
    written_before_each_page = []

    def written() -> int:
        """Rows of the window in the database so far: in the window's staging table, until its end."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {STAGING}")
            return cursor.fetchone()[0]

    def pages() -> Any:
        for offset in range(10, 0, -1):
            # When the next page is asked for, the one before it is in the database already.
            written_before_each_page.append(written())
            day = TODAY - timedelta(days=offset)
            yield [Row(day, bill["domain"].arn, bill["profile"].arn, Decimal("1.5"), False)]
        # A group a later page repeats adds up rather than failing or replacing.
        yield [Row(TODAY - timedelta(days=1), bill["domain"].arn, bill["profile"].arn, Decimal("0.5"), True)]

    counts = replace_window(payer, start, end, pages(), iter(()))
    assert written_before_each_page == list(range(10))
    assert counts == {"created": 10, "removed": 0}
    last = CostRecord.objects.get(day=TODAY - timedelta(days=1))
    assert last.amount == Decimal("2") and last.estimated and last.user_profile == bill["profile"]
    month = (TODAY - timedelta(days=1)).replace(day=1)
    assert SpendRollup.objects.get(period="month", level="domain", start=month).amount == sum(
        CostRecord.objects.filter(day__gte=month).values_list("amount", flat=True), Decimal(0)
    )
