"""Checking the cost allocation tags now (otherwise once a day): page button and API action, audited, run as a task
whose result the dashboard shows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from awssandbox.ce import LineItem, add_line_items, set_tag_status
from costs import tag_check, tasks
from costs.models import DOMAIN_TAG, PROFILE_TAG, SPACE_TAG, CostTagStatus
from portal.models import AuditEvent, TaskRun
from tests.factories import DomainFactory, UserFactory, grant
from tests.inventory import make_account

pytestmark = pytest.mark.django_db

PAYER = "123456789012"


@pytest.fixture
def world(aws_sandbox: None) -> dict[str, Any]:
    day = timezone.localdate() - timedelta(days=1)
    arn = f"arn:aws:sagemaker:us-east-1:{PAYER}:domain/d-aaaaaaaaaaaa"
    tags = ((DOMAIN_TAG, arn), (PROFILE_TAG, f"{arn}/maria"), (SPACE_TAG, f"{arn}/models"))
    add_line_items(PAYER, [LineItem(day, PAYER, "us-east-1", "USE1-Studio:ml.t3.medium", Decimal("1"), tags)])
    set_tag_status(PAYER, PROFILE_TAG, "Inactive")
    payer = make_account(account_id=PAYER, is_payer=True)
    admin = UserFactory(username="root", is_superuser=True)
    lead = UserFactory(username="lead")
    grant(lead, "team_lead", DomainFactory(name="research"))
    return {"payer": payer, "admin": admin, "lead": lead}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_checks_the_tags_now_and_the_dashboard_shows_the_result(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.celery import app

    sent: list[tuple[str, list[Any]]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args: sent.append((name, args)))
    client = client_for(world["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        fragment = client.post(reverse("costs:tag-check"), headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and 'data-status="queued"' in fragment.content.decode()
    run = TaskRun.objects.get(scope={"cost_tags": "all"})
    assert sent == [(tag_check.RUN_TASK, [run.pk, [world["payer"].pk]])]
    event = AuditEvent.objects.get(action="cost_tags.check_requested")
    assert event.actor == world["admin"] and event.after == {"payers": [PAYER]}

    tasks.run_tag_check(*sent[0][1])  # what the worker does
    tasks.run_tag_check(*sent[0][1])  # delivered twice: the second finds the run planned and leaves it
    run.refresh_from_db()
    assert run.status == "succeeded" and run.aws_calls == {"ce:ListCostAllocationTags": 1}
    assert "Activate them in Billing > Cost allocation tags" in run.notes[0]
    assert dict(CostTagStatus.objects.values_list("tag_key", "status")) == {
        DOMAIN_TAG: "Active",
        PROFILE_TAG: "Inactive",
        SPACE_TAG: "Active",
    }
    done = client.get(reverse("costs:run-progress", args=[run.pk]), headers={"HX-Request": "true"})
    assert done.status_code == 286 and done["HX-Trigger"] == "run-finished"  # the page refreshes the tag table
    assert '<p class="msg run-note">In payer account 123456789012 the cost allocation tag(s)' in done.content.decode()
    page = client.get(reverse("costs:dashboard")).content.decode()
    assert f'<tr data-tag="{PROFILE_TAG}">' in page and 'data-status="Inactive"' in page
    assert 'id="tag-check-now"' in page
    assert AuditEvent.objects.filter(action="cost_ingestion.finished", object_id=str(run.pk)).exists()


def test_the_api_checks_now_for_admins_and_finance_only(world: dict[str, Any]) -> None:
    api = APIClient()
    api.force_authenticate(world["lead"])
    assert api.post("/api/costs/runs/check-tags/").status_code == 403
    api.force_authenticate(world["admin"])
    started = api.post("/api/costs/runs/check-tags/")
    assert started.status_code == 201 and started.json()["scope_label"] == tag_check.SCOPE_LABEL
    joined = api.post("/api/costs/runs/check-tags/")
    assert joined.status_code == 200 and joined.json()["id"] == started.json()["id"]
    assert AuditEvent.objects.filter(action="cost_tags.check_requested").count() == 1


def test_others_get_404_from_the_check_and_see_no_button(world: dict[str, Any]) -> None:
    client = client_for(world["lead"])
    assert client.post(reverse("costs:tag-check")).status_code == 404
    assert 'id="tag-check-now"' not in client.get(reverse("costs:dashboard")).content.decode()
    assert not TaskRun.objects.exists()


def test_the_check_runs_inline_and_fails_clearly_without_a_payer(aws_sandbox: None) -> None:
    run, created = tag_check.start_tag_check(actor="test", inline=True)
    assert created and run.status == "failed" and "No enabled payer account" in run.errors[0]["message"]
