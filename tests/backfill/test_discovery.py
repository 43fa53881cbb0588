"""Discovery against the sandbox: incremental re-discovery (nothing described twice, no duplicate, tag changes and
removals seen), throttling survived, the command with its progress bar, and TG-02 fed by the coverage."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from awssandbox import faults
from backfill import discovery
from backfill.models import DOMAIN_TAG, LegacyResource
from domains.models import AwsAccount, Domain
from governance import engine
from governance.models import Finding
from portal.aws import gateway
from portal.models import TaskRun
from tests.backfill.conftest import DEMO_LEGACY, add_manifest_rules

pytestmark = pytest.mark.django_db


def discover() -> TaskRun:
    run, created = discovery.start_discovery(trigger=TaskRun.Trigger.COMMAND, inline=True)
    assert created
    return run


def calls_of(run: TaskRun, operation: str) -> int:
    return sum(n for key, n in run.aws_calls.items() if key.endswith(f":{operation}"))


def test_rediscovery_is_incremental(legacy_world: dict[str, Any]) -> None:
    first = discover()
    assert first.status == TaskRun.Status.SUCCEEDED, first.errors
    total = LegacyResource.objects.count()
    assert total >= DEMO_LEGACY and first.counts["resources"]["created"] == total
    assert calls_of(first, "DescribeModel") > 0 and calls_of(first, "Search") > 0
    assert calls_of(first, "GetResources") > 0

    # Nothing changed: nothing described again, nothing written, nothing duplicated.
    second = discover()
    assert second.counts["resources"] == {"created": 0, "updated": 0, "removed": 0, "unchanged": total}
    assert calls_of(second, "DescribeModel") == calls_of(second, "DescribeProcessingJob") == 0
    assert calls_of(second, "DescribeEndpointConfig") == 0
    assert LegacyResource.objects.count() == total

    # A resource tagged in AWS, and one deleted there, are seen by the next discovery.
    untagged = LegacyResource.objects.filter(coverage="attributable", resource_type="training-job").first()
    gone = LegacyResource.objects.filter(resource_type="experiment", coverage="unattributable").first()
    account = AwsAccount.objects.get(account_id=untagged.account_id)
    client = gateway().sagemaker(region=untagged.region, account=account.access)
    client.add_tags(ResourceArn=untagged.arn, Tags=[{"Key": DOMAIN_TAG, "Value": untagged.domain_arn}])
    account = AwsAccount.objects.get(account_id=gone.account_id)
    gateway().sagemaker(region=gone.region, account=account.access).delete_experiment(ExperimentName=gone.name)
    third = discover()
    assert third.counts["resources"]["updated"] == 1 and third.counts["resources"]["removed"] == 1
    untagged.refresh_from_db()
    gone.refresh_from_db()
    assert untagged.coverage == "tagged" and untagged.rule == "domain-tag"
    assert gone.removed_at is not None


def test_discovery_survives_throttling(legacy_world: dict[str, Any], fast_aws_backoff: None) -> None:
    # A quarter of SageMaker's answers throttle, drawn from the fault registry's seeded generator: the same calls
    # throttle on every run, whatever the machine's speed (a rate limit throttles only a fast enough machine).
    faults.registry.add(service="sagemaker", kind="throttle", rate=0.25)
    try:
        run = discover()
    finally:
        faults.registry.clear()
    assert run.status == TaskRun.Status.SUCCEEDED, run.errors
    assert run.aws_throttled_total > 0
    assert LegacyResource.objects.filter(arn__in=list(legacy_world["resources"])).count() == DEMO_LEGACY


@pytest.mark.django_db(transaction=True)  # the command works in a thread of its own, on its own connection
def test_the_command_shows_progress_and_the_outcome(legacy_world: dict[str, Any]) -> None:
    out = io.StringIO()
    call_command("discover_legacy", stdout=out)
    text = out.getvalue()
    assert "steps" in text and "Succeeded" in text and "created" in text
    assert LegacyResource.objects.count() >= DEMO_LEGACY


def test_tg02_finds_the_domains_with_untagged_attributable_resources(legacy_world: dict[str, Any]) -> None:
    add_manifest_rules(legacy_world)
    discover()
    engine.evaluate()
    findings = {f.domain.arn: f for f in Finding.objects.filter(check_id="TG-02", status="open")}
    expected = set(
        LegacyResource.objects.filter(coverage="attributable", removed_at__isnull=True).values_list(
            "domain_arn", flat=True
        )
    )
    assert expected and set(findings) == expected
    domain_arn = sorted(expected)[0]
    evidence = {e["field"]: e["value"] for e in findings[domain_arn].evidence}
    assert (
        evidence["untagged, attributable"]
        == LegacyResource.objects.filter(domain_arn=domain_arn, coverage="attributable").count()
    )
    # Every attributable resource of that domain excepted: the finding resolves at the next evaluation.
    LegacyResource.objects.filter(domain_arn=domain_arn, coverage="attributable").update(
        coverage="excepted", excepted_reason="Deleted next week"
    )
    engine.evaluate()
    assert Finding.objects.get(pk=findings[domain_arn].pk).status == "resolved"
    assert Domain.objects.filter(arn=domain_arn).exists()
