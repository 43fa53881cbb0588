"""Benchmark: seeding legacy SageMaker resources (``awssandbox.legacy``) into the in-process sandbox.

Seeds the demo organisation, then times ``legacy.seed(n)`` for each size in a fresh sandbox, and prints the time,
the rate, the realised share of each attribution rule, and how long a backfill's discovery of the untagged training
jobs takes with boto3 (SageMaker Search, 100 a page, in every account and region).

    python benchmarks/legacy_seed.py [--sizes 300,1000,3000] [--seed 20221130]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

import boto3  # noqa: E402

import awssandbox as sandbox  # noqa: E402
from awssandbox import legacy, organisation  # noqa: E402
from portal.sandboxing import demo_inputs  # noqa: E402


def discover_untagged_training_jobs() -> tuple[int, int]:
    """(training jobs found, Search calls) over every account and region of the demo organisation."""
    found = calls = 0
    for account in organisation.DEMO_ACCOUNTS:
        credentials: dict[str, Any] = boto3.client("sts", region_name="us-east-1").assume_role(
            RoleArn=organisation.role_arn(account), RoleSessionName="benchmark"
        )["Credentials"]
        for region in organisation.REGIONS:
            sm = boto3.client(
                "sagemaker",
                region_name=region,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
            for page in sm.get_paginator("search").paginate(
                Resource="TrainingJob",
                SearchExpression={"Filters": [{"Name": "Tags.sagemaker:domain-arn", "Operator": "NotExists"}]},
                PaginationConfig={"PageSize": 100},
            ):
                calls += 1
                found += len(page["Results"])
    return found, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,1000,3000", help="comma-separated numbers of resources")
    parser.add_argument("--seed", type=int, default=20221130)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"{'resources':>9}  {'seconds':>7}  {'per s':>7}  {'search':>17}  rules (share)")
    for size in sizes:
        with sandbox.running():
            organisation.seed(demo_inputs(), with_costs=False)
            started = time.perf_counter()
            manifest = legacy.seed(size, seed=args.seed)
            elapsed = time.perf_counter() - started
            started = time.perf_counter()
            found, calls = discover_untagged_training_jobs()
            search = f"{found} in {calls} / {time.perf_counter() - started:.1f} s"
        rules = legacy.summary(manifest)["rules"]
        shares = ", ".join(f"{rule} {100 * count / size:.0f} %" for rule, count in rules.items())
        print(f"{size:>9}  {elapsed:>7.2f}  {size / elapsed:>7.0f}  {search:>17}  {shares}")


if __name__ == "__main__":
    main()
