"""The demo bill: daily Cost Explorer line items for what the demo organisation runs.

Deterministic for a given seed and end date. Prices are the caller's (:class:`Prices`, the portal passes its price
table); usage follows the working
week (interactive apps and training run less at weekends, endpoints and storage do not) and grows slowly over the
13 months, so dashboards show trends, a weekly rhythm and month-to-month change.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from awssandbox.ce import LineItem, add_line_items

REGION_CODES = {"us-east-1": "USE1", "us-west-2": "USW2", "eu-west-1": "EUW1", "eu-central-1": "EUC1"}
USAGE_PREFIX = {"studio-app": "Studio", "training": "Train", "endpoint": "Host"}
EFS_GB_PER_DOMAIN = 60


class Prices(Protocol):
    """On-demand prices the bill is made of (a module such as the portal's price table fits)."""

    REGION_FACTOR: Mapping[str, Decimal]
    EBS_GB_MONTH_USD: Decimal  # per GB-month
    EFS_GB_MONTH_USD: Decimal  # per GB-month

    def hourly_price(self, instance_type: str, region: str = ...) -> Decimal: ...  # USD per instance-hour


@dataclass(frozen=True)
class BillableResource:
    """Something the demo bills for: where it runs, what it runs on and which tags its spend carries.

    ``instance_type`` is an instance type for compute, ``ebs-<GB>`` for a space's volume, ``efs`` for a domain's
    home file system.
    """

    account_id: str
    region: str
    domain_arn: str | None
    user_profile_arn: str | None
    space_arn: str | None
    instance_type: str
    usage: str  # "studio-app" | "training" | "endpoint" | "storage"
    hours_per_day: float
    tagged: bool = True


def _months_back(end: date, months: int) -> date:
    index = end.year * 12 + end.month - 1 - months
    return date(index // 12, index % 12 + 1, min(end.day, 28))


def _daily_rate(resource: BillableResource, pricing: Prices) -> tuple[str, Decimal, Decimal]:
    """(usage type, USD per unit, units per day at full use)."""
    region_code = REGION_CODES.get(resource.region, "USE1")
    factor = pricing.REGION_FACTOR.get(resource.region, Decimal("1.10"))
    if resource.instance_type == "efs":
        per_day = pricing.EFS_GB_MONTH_USD * factor / 30
        return f"{region_code}-TimedStorage-ByteHrs", per_day, Decimal(EFS_GB_PER_DOMAIN)
    if resource.instance_type.startswith("ebs-"):
        gb = Decimal(resource.instance_type.removeprefix("ebs-"))
        return f"{region_code}-Studio:VolumeUsage.gp3", pricing.EBS_GB_MONTH_USD * factor / 30, gb
    price = pricing.hourly_price(resource.instance_type, resource.region)
    return (
        f"{region_code}-{USAGE_PREFIX.get(resource.usage, 'Studio')}:{resource.instance_type}",
        price,
        Decimal(str(resource.hours_per_day)),
    )


def line_items(
    resources: list[BillableResource], *, prices: Prices, end: date, months: int = 13, seed: int = 7
) -> list[LineItem]:
    rng = random.Random(seed)
    start = _months_back(end, months)
    days = (end - start).days
    items: list[LineItem] = []
    for resource in resources:
        usage_type, unit_price, full_units = _daily_rate(resource, prices)
        tags: list[tuple[str, str]] = []
        if resource.tagged and resource.domain_arn:
            tags.append(("sagemaker:domain-arn", resource.domain_arn))
            if resource.user_profile_arn:
                tags.append(("sagemaker:user-profile-arn", resource.user_profile_arn))
            if resource.space_arn:
                tags.append(("sagemaker:space-arn", resource.space_arn))
        steady = resource.usage in ("storage", "endpoint")
        for offset in range(days):
            day = start + timedelta(days=offset)
            weekend = day.weekday() >= 5
            if resource.usage == "training" and (weekend or rng.random() > 0.35):
                continue
            growth = Decimal("0.75") + Decimal("0.35") * offset / days
            rhythm = Decimal("1") if steady else (Decimal("0.25") if weekend else Decimal("1"))
            noise = Decimal(str(round(rng.uniform(0.85, 1.15), 3))) if not steady else Decimal("1")
            units = (full_units * growth * rhythm * noise).quantize(Decimal("0.001"))
            amount = (units * unit_price).quantize(Decimal("0.00000001"))
            if amount <= 0:
                continue
            items.append(
                LineItem(
                    day=day,
                    linked_account=resource.account_id,
                    region=resource.region,
                    usage_type=usage_type,
                    amount=amount,
                    tags=tuple(tags),
                    usage_quantity=units,
                )
            )
    return items


def seed_costs(
    payer_account_id: str,
    resources: list[BillableResource],
    *,
    prices: Prices,
    end: date,
    months: int = 13,
    seed: int = 7,
) -> int:
    """Write 13 months of daily line items (up to the day before ``end``) into the payer's bill."""
    return add_line_items(payer_account_id, line_items(resources, prices=prices, end=end, months=months, seed=seed))
