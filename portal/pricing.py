"""On-demand prices the portal uses to estimate spend before AWS bills it (shared space requests) and the sandbox
uses to make its demo bill.

Source: the Amazon SageMaker AI pricing page (aws.amazon.com/sagemaker/pricing), on-demand Studio / notebook
instance prices in US East (N. Virginia), as read on 2026-11-01. Other regions differ by a few percent; the factor
below is an approximation. Keep this the only place prices live; correct them here.
"""

from __future__ import annotations

from decimal import Decimal

PRICES_SOURCE = "Amazon SageMaker AI pricing page, on-demand, us-east-1, read 2026-11-01"

# USD per instance-hour in us-east-1.
HOURLY_USD: dict[str, Decimal] = {
    "ml.t3.medium": Decimal("0.05"),
    "ml.t3.large": Decimal("0.10"),
    "ml.t3.xlarge": Decimal("0.20"),
    "ml.m5.large": Decimal("0.115"),
    "ml.m5.xlarge": Decimal("0.23"),
    "ml.m5.2xlarge": Decimal("0.461"),
    "ml.m5.4xlarge": Decimal("0.922"),
    "ml.c5.xlarge": Decimal("0.204"),
    "ml.c5.2xlarge": Decimal("0.408"),
    "ml.g4dn.xlarge": Decimal("0.7364"),
    "ml.g5.xlarge": Decimal("1.408"),
    "ml.g5.2xlarge": Decimal("1.515"),
    "ml.p3.2xlarge": Decimal("3.825"),
}

# USD per GB-month.
EBS_GB_MONTH_USD = Decimal("0.14")  # SageMaker ML storage (general purpose SSD)
EFS_GB_MONTH_USD = Decimal("0.30")  # EFS standard, the domain's home directories

REGION_FACTOR: dict[str, Decimal] = {
    "us-east-1": Decimal("1.00"),
    "us-west-2": Decimal("1.00"),
    "eu-west-1": Decimal("1.11"),
    "eu-central-1": Decimal("1.19"),
}


def hourly_price(instance_type: str, region: str = "us-east-1") -> Decimal:
    """USD per hour; KeyError for an instance type the table does not know."""
    return (HOURLY_USD[instance_type] * REGION_FACTOR.get(region, Decimal("1.10"))).quantize(Decimal("0.0001"))
