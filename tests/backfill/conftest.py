"""The demo organisation with its 300 legacy resources, synced into the inventory, for the backfill's tests."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from portal.sandboxing import demo_inputs

DEMO_LEGACY = 300


@pytest.fixture
def legacy_world(aws_sandbox: None) -> dict[str, Any]:
    return build_legacy_world()


def build_legacy_world() -> dict[str, Any]:
    """Seed the organisation and its legacy resources (before the sync: seeding gives two domains a shared role),
    then sync the inventory as the demo does; answers the sandbox's manifest (the truth, read only by tests)."""
    from awssandbox import legacy, organisation
    from domains import demo as domains_demo
    from portal.demo import ensure_demo_users

    organisation.seed(demo_inputs(), date.today(), with_costs=False)
    manifest = legacy.seed(DEMO_LEGACY)
    ensure_demo_users()
    domains_demo.setup_demo(lambda message: None)
    return manifest


def add_manifest_rules(manifest: dict[str, Any]) -> None:
    """The admin's rules the demo expects: a name prefix and an S3 prefix per domain."""
    from backfill.models import AttributionRule
    from domains.models import Domain

    domains = {d.arn: d for d in Domain.objects.all()}
    for kind, prefixes in (("name-prefix", manifest["name_prefixes"]), ("s3-prefix", manifest["s3_prefixes"])):
        for arn, prefix in prefixes.items():
            AttributionRule.objects.create(kind=kind, prefix=prefix, domain=domains[arn])
