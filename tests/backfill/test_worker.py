"""Discovery and the backfill's apply through a real Celery worker and the sandbox server: the tasks are registered,
found by name, and do the whole job."""

from __future__ import annotations

from datetime import date

import pytest

from awssandbox import legacy, organisation
from backfill import discovery, wizard
from backfill.models import BackfillPlan, LegacyResource
from domains import demo as domains_demo
from portal.demo import ensure_demo_users
from portal.models import TaskRun
from portal.sandboxing import demo_inputs
from tests.backfill.conftest import DEMO_LEGACY, add_manifest_rules
from tests.conftest import WorkerProcess
from tests.factories import UserFactory, grant
from tests.portal.test_worker import _wait_for as wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def test_a_worker_discovers_and_applies_a_plan(sandbox_server: str, celery_worker_process: WorkerProcess) -> None:
    organisation.seed(demo_inputs(), date.today(), with_costs=False)  # the server's backends live in this process
    manifest = legacy.seed(DEMO_LEGACY)
    ensure_demo_users()
    domains_demo.setup_demo(lambda message: None)
    add_manifest_rules(manifest)
    run, _ = discovery.start_discovery(trigger=TaskRun.Trigger.USER)
    wait_for(lambda: not TaskRun.objects.get(pk=run.pk).is_active, celery_worker_process, timeout=120)
    run.refresh_from_db()
    assert run.status == TaskRun.Status.SUCCEEDED, run.errors
    assert LegacyResource.objects.filter(arn__in=list(manifest["resources"])).count() == DEMO_LEGACY

    admin = UserFactory(username="root", is_superuser=True)
    approver = UserFactory(username="approver")
    grant(approver, "domain_approver")
    plan = wizard.do_plan(admin)
    wizard.do_approve(approver, plan)
    applying = wizard.do_apply(admin, plan)
    wait_for(lambda: not TaskRun.objects.get(pk=applying.pk).is_active, celery_worker_process, timeout=120)
    plan.refresh_from_db()
    assert plan.status == BackfillPlan.Status.APPLIED, plan.items.exclude(status="tagged").values("status", "detail")
    assert not LegacyResource.objects.filter(coverage="attributable").exists()
