"""The backfill wizard against the sandbox: a dry run frozen as a plan, approved by another approver of each domain,
applied 20 ARNs a call, never overwriting a different value nor passing 50 tags, retrying only the throttled ARNs,
resumable after a step that never ran, every batch audited, and verified by reading the tags back."""

from __future__ import annotations

import io
import math
from collections import Counter
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from awssandbox import faults
from backfill import discovery, wizard
from backfill.models import DOMAIN_TAG, BackfillPlan, LegacyResource
from domains.models import AwsAccount, Domain
from portal.aws import gateway
from portal.models import AuditEvent, TaskRun
from tests.backfill.conftest import add_manifest_rules
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned(legacy_world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(wizard.pacer, "sleep", lambda seconds: None)
    add_manifest_rules(legacy_world)
    discovery.start_discovery(trigger=TaskRun.Trigger.COMMAND, inline=True)
    admin = UserFactory(username="root", is_superuser=True)
    approver = UserFactory(username="everywhere")
    grant(approver, "domain_approver")
    return {"manifest": legacy_world, "admin": admin, "approver": approver}


def calls(run: TaskRun, operation: str) -> int:
    return sum(n for key, n in run.aws_calls.items() if key.endswith(f":{operation}"))


def tagging(item: Any) -> Any:
    account = AwsAccount.objects.get(account_id=item.account_id)
    return gateway().client("resourcegroupstaggingapi", region=item.region, account=account.access)


def aws_tags(item: Any) -> dict[str, str]:
    answer = tagging(item).get_resources(ResourceARNList=[item.arn])["ResourceTagMappingList"]
    return {t["Key"]: t["Value"] for t in answer[0]["Tags"]} if answer else {}


def test_a_plan_needs_another_approver_of_each_domain(planned: dict[str, Any]) -> None:
    plan = wizard.do_plan(planned["admin"])
    attributable = LegacyResource.objects.filter(coverage="attributable")
    assert plan.total == attributable.count() and plan.status == BackfillPlan.Status.PLANNED
    assert set(plan.domain_arns) == set(attributable.values_list("domain_arn", flat=True))
    assert sum(plan.counts["rules"].values()) == plan.total and "lineage" in plan.counts["rules"]
    with pytest.raises(ValidationError, match="approval"):
        wizard.do_apply(planned["admin"], plan)
    with pytest.raises(ValidationError, match="not its author"):
        wizard.do_approve(planned["admin"], plan)
    one = UserFactory(username="one-domain")
    first = Domain.objects.get(arn=plan.domain_arns[0])
    grant(one, "domain_approver", first)
    wizard.do_approve(one, plan)
    plan.refresh_from_db()
    assert plan.status == BackfillPlan.Status.PLANNED and wizard.approvals_needed(plan) == plan.domain_arns[1:]
    wizard.do_approve(planned["approver"], plan)
    plan.refresh_from_db()
    assert plan.status == BackfillPlan.Status.APPROVED
    assert AuditEvent.objects.filter(action="backfill_plan.approved").count() == len(plan.domain_arns)


def test_apply_tags_every_attributable_resource_and_respects_what_is_there(planned: dict[str, Any]) -> None:
    plan = wizard.do_plan(planned["admin"])
    items = list(plan.items.all())
    # In AWS, since discovery: one resource tagged with another domain, one filled with 50 tags.
    conflict, full = items[0], items[1]
    other = next(arn for arn in plan.domain_arns if arn != conflict.domain_arn)
    tagging(conflict).tag_resources(ResourceARNList=[conflict.arn], Tags={DOMAIN_TAG: other})
    tagging(full).tag_resources(ResourceARNList=[full.arn], Tags={f"k{n}": "v" for n in range(50)})
    wizard.do_approve(planned["approver"], plan)
    run = wizard.do_apply(planned["admin"], plan, inline=True)
    plan.refresh_from_db()
    assert run.status == TaskRun.Status.SUCCEEDED, run.errors
    assert plan.status == BackfillPlan.Status.PARTIAL
    statuses = Counter(plan.items.values_list("status", flat=True))
    assert statuses == {"tagged": len(items) - 2, "conflict": 1, "too_many_tags": 1}
    assert aws_tags(conflict)[DOMAIN_TAG] == other  # never overwritten
    assert DOMAIN_TAG not in aws_tags(full)
    for item in plan.items.filter(status="tagged")[:20]:
        assert aws_tags(item)[DOMAIN_TAG] == item.domain_arn
    # 20 ARNs a call per account, region and domain; one read before and one after per step of 100.
    groups = Counter((i.account_id, i.region, i.domain_arn) for i in items)
    ready = Counter((i.account_id, i.region, i.domain_arn) for i in items[2:])
    assert calls(run, "TagResources") == sum(math.ceil(n / 20) for n in ready.values())
    steps = sum(math.ceil(n / 100) for n in groups.values())
    assert calls(run, "GetResources") == 2 * steps
    batches = AuditEvent.objects.filter(action="backfill_batch.applied")
    assert batches.count() == calls(run, "TagResources")
    # Coverage follows: every attributable resource is tagged now, but the two left as they were.
    left = LegacyResource.objects.filter(coverage="attributable")
    assert set(left.values_list("arn", flat=True)) == {full.arn}
    moved = LegacyResource.objects.get(arn=conflict.arn)
    assert moved.coverage == "tagged" and moved.domain_arn == other and moved.rule == "domain-tag"


def test_a_step_that_writes_nothing_reads_the_tags_once(planned: dict[str, Any]) -> None:
    """Tagged by someone else since the dry run: the read before tagging finds every resource already right, and
    with nothing written there is nothing to verify with a second read."""
    plan = wizard.do_plan(planned["admin"])
    items = list(plan.items.all())
    for item in items:
        tagging(item).tag_resources(ResourceARNList=[item.arn], Tags={DOMAIN_TAG: item.domain_arn})
    wizard.do_approve(planned["approver"], plan)
    run = wizard.do_apply(planned["admin"], plan, inline=True)
    plan.refresh_from_db()
    assert plan.status == BackfillPlan.Status.APPLIED
    assert Counter(plan.items.values_list("status", flat=True)) == {"already": len(items)}
    assert calls(run, "TagResources") == 0
    assert calls(run, "GetResources") == plan.counts["chunks"]
    assert not LegacyResource.objects.filter(arn__in=[i.arn for i in items]).exclude(coverage="tagged").exists()


def test_only_the_throttled_arns_are_retried(planned: dict[str, Any]) -> None:
    plan = wizard.do_plan(planned["admin"])
    wizard.do_approve(planned["approver"], plan)
    faults.registry.add(service="sagemaker", kind="throttle", operation="AddTags", rate=0.3)
    try:
        run = wizard.do_apply(planned["admin"], plan, inline=True)
    finally:
        faults.registry.clear()
    plan.refresh_from_db()
    assert plan.status == BackfillPlan.Status.APPLIED, Counter(plan.items.values_list("status", "detail"))
    assert plan.items.filter(attempts__gt=1).exists()
    retried = sum(e.after["retried_arns"] for e in AuditEvent.objects.filter(action="backfill_batch.applied"))
    assert retried == sum(i.attempts - 1 for i in plan.items.all())
    assert calls(run, "TagResources") > math.ceil(plan.total / 20)


def test_what_aws_kept_throttling_is_retried_later(planned: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    plan = wizard.do_plan(planned["admin"])
    wizard.do_approve(planned["approver"], plan)
    monkeypatch.setattr(wizard, "MAX_ATTEMPTS", 1)
    faults.registry.add(service="sagemaker", kind="throttle", operation="AddTags", rate=0.5)
    try:
        wizard.do_apply(planned["admin"], plan, inline=True)
    finally:
        faults.registry.clear()
    plan.refresh_from_db()
    throttled = plan.items.filter(status="failed", detail__startswith="Still throttled").count()
    assert plan.status == BackfillPlan.Status.PARTIAL and throttled > 0
    run = wizard.do_apply(planned["admin"], plan, inline=True)
    plan.refresh_from_db()
    assert plan.status == BackfillPlan.Status.APPLIED and run.counts["resources"]["updated"] == throttled
    with pytest.raises(ValidationError, match="nothing to apply"):
        wizard.do_apply(planned["admin"], plan)


def test_apply_resumes_where_a_dead_worker_stopped(planned: dict[str, Any]) -> None:
    plan = wizard.do_plan(planned["admin"])
    wizard.do_approve(planned["approver"], plan)
    run = wizard.do_apply(planned["admin"], plan, enqueue=False)  # queued for workers that never came
    wizard.apply_step(run.pk, plan.pk, 1)  # one worker did one step, then died
    done = set(plan.items.filter(chunk=1).values_list("pk", flat=True))
    assert plan.items.filter(status="pending").exists()
    run = wizard.do_apply(planned["admin"], plan, inline=True)  # resume
    plan.refresh_from_db()
    assert plan.status == BackfillPlan.Status.APPLIED and run.status == TaskRun.Status.SUCCEEDED
    assert not plan.items.filter(status="pending").exists()
    assert set(plan.items.filter(chunk=1, attempts=1).values_list("pk", flat=True)) == done  # tagged once


@pytest.mark.django_db(transaction=True)
def test_the_command_plans_and_applies(planned: dict[str, Any]) -> None:
    out = io.StringIO()
    call_command("backfill_tags", "--dry-run", stdout=out)
    plan = BackfillPlan.objects.get()
    assert f"Plan #{plan.pk}" in out.getvalue() and "Dry run only" in out.getvalue()
    wizard.do_approve(planned["approver"], plan)
    out = io.StringIO()
    call_command("backfill_tags", "--apply", str(plan.pk), stdout=out)
    assert "steps" in out.getvalue() and "Applied" in out.getvalue()
    assert not LegacyResource.objects.filter(coverage="attributable").exists()
