"""Contract tests of the sandbox's Cost Explorer: answers computed from line items with AWS's semantics."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from awssandbox.ce import LineItem, add_line_items, set_page_size, set_tag_status, set_today
from tests.awssandbox.contract import call_checked

PAYER = "123456789012"
DOMAIN_A = "arn:aws:sagemaker:us-east-1:123456789012:domain/d-aaaaaaaaaaaa"
DOMAIN_B = "arn:aws:sagemaker:eu-west-1:123456789012:domain/d-bbbbbbbbbbbb"
PROFILE = "arn:aws:sagemaker:us-east-1:123456789012:user-profile/d-aaaaaaaaaaaa/maria"
DK, PK = "sagemaker:domain-arn", "sagemaker:user-profile-arn"


def item(day: str, amount: str, **tags: str) -> LineItem:
    keys = {"domain": DK, "profile": PK}
    return LineItem(
        day=date.fromisoformat(day),
        linked_account=PAYER,
        region="us-east-1",
        usage_type="USE1-Studio:ml.t3.medium",
        amount=Decimal(amount),
        tags=tuple((keys[k], v) for k, v in tags.items()),
    )


@pytest.fixture
def ce(aws_sandbox: None) -> Any:
    set_today(PAYER, date(2026, 11, 24))
    add_line_items(
        PAYER,
        [
            item("2026-10-30", "1.25", domain=DOMAIN_A, profile=PROFILE),
            item("2026-10-31", "2.50", domain=DOMAIN_A),
            item("2026-11-01", "4.00", domain=DOMAIN_B),
            item("2026-11-02", "0.333333333"),
            item("2026-11-02", "1.00", domain=DOMAIN_A, profile=PROFILE),
        ],
    )
    return boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def groups(answer: dict[str, Any]) -> dict[tuple[str, str, tuple[str, ...]], str]:
    return {
        (r["TimePeriod"]["Start"], r["TimePeriod"]["End"], tuple(g["Keys"])): g["Metrics"]["UnblendedCost"]["Amount"]
        for r in answer["ResultsByTime"]
        for g in r["Groups"]
    }


def test_two_tag_groups_give_aws_keys_with_untagged_as_key_dollar(ce: Any) -> None:
    answer = call_checked(
        ce,
        "get_cost_and_usage",
        TimePeriod={"Start": "2026-10-30", "End": "2026-11-03"},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "TAG", "Key": DK}, {"Type": "TAG", "Key": PK}],
    )
    assert len(answer["ResultsByTime"]) == 4
    assert all(r["Total"] == {} for r in answer["ResultsByTime"])
    assert groups(answer) == {
        ("2026-10-30", "2026-10-31", (f"{DK}${DOMAIN_A}", f"{PK}${PROFILE}")): "1.25",
        ("2026-10-31", "2026-11-01", (f"{DK}${DOMAIN_A}", f"{PK}$")): "2.5",
        ("2026-11-01", "2026-11-02", (f"{DK}${DOMAIN_B}", f"{PK}$")): "4",
        ("2026-11-02", "2026-11-03", (f"{DK}$", f"{PK}$")): "0.333333333",
        ("2026-11-02", "2026-11-03", (f"{DK}${DOMAIN_A}", f"{PK}${PROFILE}")): "1",
    }
    assert answer["GroupDefinitions"] == [{"Type": "TAG", "Key": DK}, {"Type": "TAG", "Key": PK}]


def test_without_group_by_the_total_carries_the_metrics_and_months_are_clipped(ce: Any) -> None:
    answer = call_checked(
        ce,
        "get_cost_and_usage",
        TimePeriod={"Start": "2026-10-15", "End": "2026-11-10"},
        Granularity="MONTHLY",
        Metrics=["UnblendedCost", "AmortizedCost"],
    )
    periods = [(r["TimePeriod"]["Start"], r["TimePeriod"]["End"]) for r in answer["ResultsByTime"]]
    assert periods == [("2026-10-15", "2026-11-01"), ("2026-11-01", "2026-11-10")]
    assert answer["ResultsByTime"][0]["Total"]["UnblendedCost"] == {"Amount": "3.75", "Unit": "USD"}
    assert answer["ResultsByTime"][1]["Total"]["AmortizedCost"]["Amount"] == "5.333333333"
    assert [r["Estimated"] for r in answer["ResultsByTime"]] == [False, True]  # November is still open


def test_empty_days_are_still_answered(ce: Any) -> None:
    answer = ce.get_cost_and_usage(
        TimePeriod={"Start": "2026-09-01", "End": "2026-09-04"},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "TAG", "Key": DK}],
    )
    assert [r["Groups"] for r in answer["ResultsByTime"]] == [[], [], []]


def test_an_inactive_cost_allocation_tag_puts_everything_under_key_dollar(ce: Any) -> None:
    set_tag_status(PAYER, DK, "Inactive")
    answer = ce.get_cost_and_usage(
        TimePeriod={"Start": "2026-10-30", "End": "2026-11-03"},
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "TAG", "Key": DK}],
    )
    assert {k[2] for k in groups(answer)} == {(f"{DK}$",)}


def test_filters_on_tags_and_dimensions(ce: Any) -> None:
    def total(expression: dict[str, Any]) -> str:
        answer = call_checked(
            ce,
            "get_cost_and_usage",
            TimePeriod={"Start": "2026-10-01", "End": "2026-12-01"},
            Granularity="MONTHLY",
            Metrics=["UnblendedCost"],
            Filter=expression,
        )
        return str(sum(Decimal(r["Total"]["UnblendedCost"]["Amount"]) for r in answer["ResultsByTime"]))

    assert total({"Tags": {"Key": DK, "Values": [DOMAIN_A]}}) == "4.75"
    assert total({"Tags": {"Key": DK, "MatchOptions": ["ABSENT"]}}) == "0.333333333"
    assert total({"Not": {"Tags": {"Key": DK, "Values": [DOMAIN_A]}}}) == "4.333333333"
    assert (
        total({"Or": [{"Tags": {"Key": DK, "Values": [DOMAIN_A]}}, {"Tags": {"Key": DK, "Values": [DOMAIN_B]}}]})
        == "8.75"
    )
    assert (
        total(
            {
                "And": [
                    {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker"]}},
                    {"Tags": {"Key": PK, "Values": [PROFILE]}},
                ]
            }
        )
        == "2.25"
    )


def test_paging_with_a_small_page_merges_back_to_the_same_answer(ce: Any) -> None:
    request = {
        "TimePeriod": {"Start": "2026-10-30", "End": "2026-11-03"},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "TAG", "Key": DK}, {"Type": "TAG", "Key": PK}],
    }
    whole = groups(ce.get_cost_and_usage(**request))
    set_page_size(PAYER, 2)
    merged: dict[Any, str] = {}
    pages, token = 0, None
    while True:
        answer = call_checked(ce, "get_cost_and_usage", **request, **({"NextPageToken": token} if token else {}))
        merged.update(groups(answer))
        pages += 1
        token = answer.get("NextPageToken")
        if not token:
            break
    assert pages == 3 and merged == whole
    with pytest.raises(ClientError) as exc:
        ce.get_cost_and_usage(**request, NextPageToken="not-a-token")
    assert exc.value.response["Error"]["Code"] == "InvalidNextTokenException"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"TimePeriod": {"Start": "2026-11-02", "End": "2026-11-01"}}, "must be before"),
        ({"Granularity": "WEEKLY"}, "Granularity"),
        ({"Metrics": ["Money"]}, "Unknown metrics"),
        (
            {"GroupBy": [{"Type": "TAG", "Key": "a"}, {"Type": "TAG", "Key": "b"}, {"Type": "TAG", "Key": "c"}]},
            "at most two",
        ),
        (
            {"Filter": {"Tags": {"Key": DK, "Values": ["x"]}, "Dimensions": {"Key": "SERVICE", "Values": ["x"]}}},
            "exactly one",
        ),
        ({"TimePeriod": {"Start": "2020-01-01", "End": "2020-02-01"}}, "not available"),
    ],
)
def test_invalid_requests_get_aws_errors(ce: Any, request_: dict[str, Any], message: str) -> None:
    base = {
        "TimePeriod": {"Start": "2026-10-01", "End": "2026-11-01"},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
    }
    with pytest.raises(ClientError) as exc:
        ce.get_cost_and_usage(**{**base, **request_})
    assert exc.value.response["Error"]["Code"] in ("ValidationException", "DataUnavailableException")
    assert message in exc.value.response["Error"]["Message"]


def test_the_forecast_follows_recent_spend_and_starts_today_or_later(ce: Any) -> None:
    answer = call_checked(
        ce,
        "get_cost_forecast",
        TimePeriod={"Start": "2026-11-24", "End": "2026-12-01"},
        Metric="UNBLENDED_COST",
        Granularity="DAILY",
    )
    assert len(answer["ForecastResultsByTime"]) == 7
    daily = Decimal("9.083333333") / 30  # everything in the 30 days before today, spread evenly
    assert Decimal(answer["Total"]["Amount"]) == pytest.approx(daily * 7, rel=Decimal("1e-6"))
    with pytest.raises(ClientError) as exc:
        ce.get_cost_forecast(
            TimePeriod={"Start": "2026-11-01", "End": "2026-12-01"}, Metric="UNBLENDED_COST", Granularity="MONTHLY"
        )
    assert exc.value.response["Error"]["Code"] == "ValidationException"


def test_cost_allocation_tags_are_listed_and_updated(ce: Any) -> None:
    listed = call_checked(ce, "list_cost_allocation_tags")["CostAllocationTags"]
    assert {(t["TagKey"], t["Status"]) for t in listed} == {(DK, "Active"), (PK, "Active")}
    answer = call_checked(
        ce,
        "update_cost_allocation_tags_status",
        CostAllocationTagsStatus=[{"TagKey": PK, "Status": "Inactive"}, {"TagKey": "nope", "Status": "Active"}],
    )
    assert [e["TagKey"] for e in answer["Errors"]] == ["nope"]
    inactive = call_checked(ce, "list_cost_allocation_tags", Status="Inactive")["CostAllocationTags"]
    assert [t["TagKey"] for t in inactive] == [PK]
