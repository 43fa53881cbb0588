"""The demo organisation: deterministic, the size the README promises, the anti-patterns present."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from moto.sagemaker.models import sagemaker_backends

import awssandbox
from awssandbox import organisation
from awssandbox.ce import cost_state
from awssandbox.studio import studio_state
from portal.aws import AccountAccess, gateway
from portal.sandboxing import demo_inputs

TODAY = date(2026, 11, 24)


def snapshot() -> dict[str, list[str]]:
    arns: dict[str, list[str]] = {"domains": [], "profiles": [], "spaces": [], "apps": []}
    for account in organisation.DEMO_ACCOUNTS:
        for region in organisation.REGIONS:
            state = studio_state(account, region)
            arns["domains"] += [d.arn for d in state.domains.values()]
            arns["profiles"] += [p.arn for p in state.profiles.values()]
            arns["spaces"] += [s.arn for s in state.spaces.values()]
            arns["apps"] += [a.arn for a in state.apps.values()]
    return {k: sorted(v) for k, v in arns.items()}


def test_seeding_twice_gives_the_same_organisation_and_bill() -> None:
    with awssandbox.running():
        first_counts = organisation.seed(demo_inputs(), TODAY)
        first = snapshot()
        first_bill = sum(i.amount for i in cost_state(organisation.PAYER_ACCOUNT_ID).items)
    with awssandbox.running():
        assert organisation.seed(demo_inputs(), TODAY) == first_counts
        assert snapshot() == first
        assert sum(i.amount for i in cost_state(organisation.PAYER_ACCOUNT_ID).items) == first_bill


def test_it_has_the_promised_size_and_variety() -> None:
    with awssandbox.running():
        counts = organisation.seed(demo_inputs(), TODAY)
        assert counts["accounts"] == 2 and counts["domains"] >= 4
        assert 35 <= counts["user_profiles"] <= 45 and 12 <= counts["spaces"] <= 18 and 25 <= counts["apps"] <= 35
        domains = [
            d
            for a in organisation.DEMO_ACCOUNTS
            for r in organisation.REGIONS
            for d in studio_state(a, r).domains.values()
        ]
        kinds = {(d.auth_mode, d.network) for d in domains}
        assert ("SSO", "VpcOnly") in kinds and ("IAM", "PublicInternetOnly") in kinds
        assert any(
            d.default_user_settings.get("DefaultLandingUri", "").startswith("app:JupyterServer") for d in domains
        )
        instance_types = Counter(
            a.resource_spec["InstanceType"]
            for a in (
                app
                for acc in organisation.DEMO_ACCOUNTS
                for r in organisation.REGIONS
                for app in studio_state(acc, r).apps.values()
            )
        )
        assert len(instance_types) >= 6


def test_the_anti_patterns_are_there() -> None:
    with awssandbox.running():
        organisation.seed(demo_inputs(), TODAY)
        research = studio_state("271828182845", "eu-west-1")
        names = {p.name for p in research.profiles.values()}
        assert "team-shared" in names  # a generic shared profile
        owners = Counter(research.tags[p.arn].get("owner") for p in research.profiles.values())
        assert owners["john.smith@example.com"] == 2  # one person, two profiles
        risk = studio_state("314159265358", "us-east-1")
        hidden = [p for p in risk.profiles.values() if p.user_settings.get("StudioWebPortalSettings")]
        assert hidden  # tools hidden in the UI
        jobs = sagemaker_backends["271828182845"]["eu-west-1"].training_jobs.values()
        untagged_jobs = [job for job in jobs if not job.tags]
        assert untagged_jobs  # backfill candidates
        bill = cost_state(organisation.PAYER_ACCOUNT_ID).items
        assert any(not item.tags for item in bill)  # untagged spend
        assert min(i.day for i in bill) <= date(2025, 10, 25) and max(i.day for i in bill) == date(2026, 11, 23)


def test_the_portal_reaches_each_demo_account_through_its_role(aws_sandbox: None) -> None:
    organisation.seed(demo_inputs(), TODAY, with_costs=False)
    for account in organisation.DEMO_ACCOUNTS:
        access = AccountAccess(account, organisation.role_arn(account), organisation.EXTERNAL_IDS.get(account))
        assert gateway().caller_identity(access)["Account"] == account
        listed = gateway().sagemaker(region="eu-west-1", account=access).list_domains()["Domains"]
        expected = {d.arn for d in studio_state(account, "eu-west-1").domains.values()}
        assert {d["DomainArn"] for d in listed} == expected


def test_the_bill_matches_the_price_table() -> None:
    with awssandbox.running():
        organisation.seed(demo_inputs(), TODAY)
        items = cost_state(organisation.PAYER_ACCOUNT_ID).items
        t3 = [i for i in items if i.usage_type.endswith("ml.t3.medium") and i.region == "us-east-1"]
        assert t3 and all(abs(i.amount - i.usage_quantity * Decimal("0.05")) < Decimal("0.00000001") for i in t3)
