"""Cost Explorer in the sandbox as strict as AWS: tokens tied to their request, no data from the future, forecast
horizons, cost allocation tags that change history only through a backfill; in process and over HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from awssandbox.ce import LineItem, add_line_items, set_page_size, set_tag_status, set_today
from tests.awssandbox.contract import call_checked
from tests.awssandbox.test_limits import control

PAYER = "123456789012"
TODAY = date(2026, 11, 24)
DK = "sagemaker:domain-arn"
DOMAIN = "arn:aws:sagemaker:us-east-1:123456789012:domain/d-aaaaaaaaaaaa"


def item(day: str, amount: str = "1", tagged: bool = True) -> LineItem:
    return LineItem(
        day=date.fromisoformat(day),
        linked_account=PAYER,
        region="us-east-1",
        usage_type="USE1-Studio:ml.t3.medium",
        amount=Decimal(amount),
        tags=((DK, DOMAIN),) if tagged else (),
    )


@pytest.fixture
def ce(endpoint: str | None) -> Any:
    set_today(PAYER, TODAY)
    add_line_items(PAYER, [item(f"2026-{m:02d}-{d:02d}") for m in (8, 9, 10, 11) for d in (1, 10, 20)])
    extra = {"endpoint_url": endpoint} if endpoint else {}
    return boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x", **extra)


def code(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as exc:
        call(**params)
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def by_tag(ce: Any, start: str, end: str) -> dict[tuple[str, str], str]:
    answer = ce.get_cost_and_usage(
        TimePeriod={"Start": start, "End": end},
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "TAG", "Key": DK}],
    )
    return {
        (r["TimePeriod"]["Start"], g["Keys"][0]): g["Metrics"]["UnblendedCost"]["Amount"]
        for r in answer["ResultsByTime"]
        for g in r["Groups"]
    }


DAILY = {
    "TimePeriod": {"Start": "2026-08-01", "End": "2026-11-01"},
    "Granularity": "DAILY",
    "Metrics": ["UnblendedCost"],
}


# -- pagination ----------------------------------------------------------------------------------------------------
def test_a_token_sent_with_other_parameters_answers_request_changed(ce: Any) -> None:
    set_page_size(PAYER, 10)
    first = ce.get_cost_and_usage(**DAILY)
    token = first["NextPageToken"]
    assert ce.get_cost_and_usage(**DAILY, NextPageToken=token)["ResultsByTime"]  # the same request: the next page
    for changed in (
        {**DAILY, "Metrics": ["AmortizedCost"]},
        {**DAILY, "TimePeriod": {"Start": "2026-08-01", "End": "2026-10-31"}},
        {**DAILY, "Filter": {"Dimensions": {"Key": "REGION", "Values": ["us-east-1"]}}},
    ):
        assert code(ce.get_cost_and_usage, **changed, NextPageToken=token)[0] == "RequestChangedException"
    assert code(ce.get_cost_and_usage, **DAILY, NextPageToken="bm90LWEtdG9rZW4=")[0] == "InvalidNextTokenException"


def test_the_page_size_is_set_over_the_control_api(sandbox_server: str) -> None:
    set_today(PAYER, TODAY)
    add_line_items(PAYER, [item("2026-10-01")])
    client = boto3.client(
        "ce", region_name="us-east-1", endpoint_url=sandbox_server, aws_access_key_id="x", aws_secret_access_key="x"
    )
    assert "NextPageToken" not in client.get_cost_and_usage(**DAILY)
    assert control(sandbox_server, "POST", "ce/page-size", {"account": PAYER, "rows": 30}) == (
        200,
        {"account": PAYER, "rows": 30},
    )
    pages, token = [], None
    while True:
        answer = client.get_cost_and_usage(**DAILY, **({"NextPageToken": token} if token else {}))
        pages.append(len(answer["ResultsByTime"]))
        token = answer.get("NextPageToken")
        if not token:
            break
    assert pages == [30, 30, 30, 2]  # 92 days
    for bad in (
        {"account": PAYER, "rows": 0},
        {"account": "12", "rows": 5},
        {"rows": 5},
        {"account": PAYER, "rows": "5"},
    ):
        status, body = control(sandbox_server, "POST", "ce/page-size", bad)
        assert status == 400 and "error" in body


# -- dates ---------------------------------------------------------------------------------------------------------
def test_a_start_in_the_future_is_refused_but_an_end_in_the_future_is_not(ce: Any) -> None:
    future = {"Start": "2026-11-25", "End": "2026-12-01"}
    error, message = code(ce.get_cost_and_usage, **{**DAILY, "TimePeriod": future})
    assert error == "ValidationException" and "2026-11-25" in message
    answer = ce.get_cost_and_usage(**{**DAILY, "TimePeriod": {"Start": "2026-11-01", "End": "2026-12-01"}})
    assert len(answer["ResultsByTime"]) == 30


@pytest.mark.parametrize(
    ("granularity", "last_ok", "too_far"),
    [("DAILY", "2027-02-24", "2027-02-25"), ("MONTHLY", "2028-05-24", "2028-05-25")],
)
def test_forecasts_stop_at_aws_horizons(ce: Any, granularity: str, last_ok: str, too_far: str) -> None:
    request = {"Metric": "UNBLENDED_COST", "Granularity": granularity}
    answer = call_checked(ce, "get_cost_forecast", TimePeriod={"Start": "2026-11-24", "End": last_ok}, **request)
    assert answer["ForecastResultsByTime"]
    error, message = code(ce.get_cost_forecast, TimePeriod={"Start": "2026-11-24", "End": too_far}, **request)
    assert error == "ValidationException" and "horizon" in message


# -- cost allocation tags -----------------------------------------------------------------------------------------
def test_activating_a_tag_shows_it_from_the_activation_onward_and_a_backfill_rewrites_history(ce: Any) -> None:
    set_tag_status(PAYER, DK, "Inactive")  # inactive for the whole history
    set_today(PAYER, date(2026, 10, 15))
    ce.update_cost_allocation_tags_status(CostAllocationTagsStatus=[{"TagKey": DK, "Status": "Active"}])
    set_today(PAYER, TODAY)
    assert by_tag(ce, "2026-08-01", "2026-11-24") == {
        ("2026-08-01", f"{DK}$"): "3",
        ("2026-09-01", f"{DK}$"): "3",
        ("2026-10-01", f"{DK}$"): "2",  # the 1st and the 10th, before the activation
        ("2026-10-01", f"{DK}${DOMAIN}"): "1",  # the 20th
        ("2026-11-01", f"{DK}${DOMAIN}"): "3",
    }
    answer = call_checked(ce, "start_cost_allocation_tag_backfill", BackfillFrom="2026-09-01T00:00:00Z")
    assert answer["BackfillRequest"]["BackfillFrom"] == "2026-09-01T00:00:00Z"
    assert answer["BackfillRequest"]["BackfillStatus"] == "SUCCEEDED"
    assert by_tag(ce, "2026-08-01", "2026-11-24") == {
        ("2026-08-01", f"{DK}$"): "3",  # before the backfill's start
        ("2026-09-01", f"{DK}${DOMAIN}"): "3",
        ("2026-10-01", f"{DK}${DOMAIN}"): "3",
        ("2026-11-01", f"{DK}${DOMAIN}"): "3",
    }
    history = call_checked(ce, "list_cost_allocation_tag_backfill_history")
    assert [r["BackfillFrom"] for r in history["BackfillRequests"]] == ["2026-09-01T00:00:00Z"]
    # Once a day at most.
    error, _ = code(ce.start_cost_allocation_tag_backfill, BackfillFrom="2026-08-01T00:00:00Z")
    assert error == "BackfillLimitExceededException"


def test_deactivating_a_tag_keeps_its_history(ce: Any) -> None:
    set_today(PAYER, date(2026, 11, 5))
    ce.update_cost_allocation_tags_status(CostAllocationTagsStatus=[{"TagKey": DK, "Status": "Inactive"}])
    set_today(PAYER, TODAY)
    assert by_tag(ce, "2026-10-01", "2026-11-24") == {
        ("2026-10-01", f"{DK}${DOMAIN}"): "3",
        ("2026-11-01", f"{DK}${DOMAIN}"): "1",
        ("2026-11-01", f"{DK}$"): "2",
    }
    tags = ce.list_cost_allocation_tags()["CostAllocationTags"]
    assert [(t["TagKey"], t["Status"]) for t in tags] == [(DK, "Inactive")]


@pytest.mark.parametrize(
    ("backfill_from", "message"),
    [
        ("2026-09-15T00:00:00Z", "first day of a month"),
        ("2026-09-01T06:00:00Z", "first day of a month"),
        ("2026-12-01T00:00:00Z", "in the future"),
        ("2025-10-01T00:00:00Z", "more than 12 months back"),
        ("2026-13-01T00:00:00Z", "not a date"),
    ],
)
def test_a_backfill_from_an_impossible_date_is_refused(ce: Any, backfill_from: str, message: str) -> None:
    error, text = code(ce.start_cost_allocation_tag_backfill, BackfillFrom=backfill_from)
    assert error == "ValidationException" and message in text
    ce.start_cost_allocation_tag_backfill(BackfillFrom="2025-11-01T00:00:00Z")  # 12 months back is the limit
