"""Spend follows the tags: the cost allocation tag backfill, requested and approved by two people, started and
followed in the sandbox's Cost Explorer, and the cost dashboard's notice after a tag backfill."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from awssandbox.ce import cost_state
from backfill import costtags, tasks
from backfill.models import BackfillItem, BackfillPlan, CostTagBackfill, LegacyResource
from portal.aws import call_counter
from portal.models import AuditEvent
from tests.factories import DomainFactory, UserFactory, grant
from tests.inventory import make_account

pytestmark = pytest.mark.django_db

PAYER = "123456789012"


@pytest.fixture
def world(aws_sandbox: None) -> dict[str, Any]:
    payer = make_account(account_id=PAYER, is_payer=True)
    domain = DomainFactory(name="research")
    people = {name: UserFactory(username=name) for name in ("root", "fiona", "arjun", "maria")}
    grant(people["root"], "platform_admin")
    grant(people["fiona"], "finance")
    grant(people["arjun"], "domain_approver", domain)
    grant(people["maria"], "data_scientist", domain)
    return {"payer": payer, "domain": domain, **people}


def client_for(user: Any, api: bool = False) -> Any:
    client = APIClient() if api else Client()
    client.force_login(user)
    return client


def months_back(n: int) -> date:
    return costtags.month_choices()[n]


def applied_plan(domain: Any, finished: Any = None) -> BackfillPlan:
    now = timezone.now()
    resource = LegacyResource.objects.create(
        arn=f"arn:aws:sagemaker:us-east-1:{PAYER}:training-job/legacy-1",
        resource_type="training-job",
        name="legacy-1",
        account_id=PAYER,
        region="us-east-1",
        domain=domain,
        domain_arn=domain.arn,
        coverage="tagged",
        first_seen=now,
        last_seen=now,
    )
    plan = BackfillPlan.objects.create(status="applied", domain_arns=[domain.arn], finished_at=finished or now)
    BackfillItem.objects.create(
        plan=plan,
        resource=resource,
        arn=resource.arn,
        resource_type="training-job",
        name="legacy-1",
        account_id=PAYER,
        region="us-east-1",
        domain_arn=domain.arn,
        rule="lineage",
        chunk=0,
        status="tagged",
    )
    return plan


def test_the_whole_flow_from_the_dashboard_notice_to_aws_and_back(world: dict[str, Any]) -> None:
    fiona, root = client_for(world["fiona"]), client_for(world["root"])
    assert "cost-tag-backfill-notice" not in fiona.get(reverse("costs:dashboard")).content.decode()
    applied_plan(world["domain"])
    page = fiona.get(reverse("costs:dashboard")).content.decode()
    assert "Cost Explorer applies tags to new spend only" in page
    assert timezone.localdate().isoformat() in page and reverse("backfill:cost-tag-backfills") in page

    since = months_back(3)
    answer = fiona.post(
        reverse("backfill:cost-tag-backfills"),
        {"payer": world["payer"].pk, "backfill_from": since.isoformat(), "reason": "legacy jobs tagged"},
    )
    assert answer.status_code == 302
    backfill = CostTagBackfill.objects.get()
    assert (backfill.status, backfill.requested_by, backfill.backfill_from) == ("proposed", world["fiona"], since)
    # Asked for since the tag backfill: the notice is gone.
    assert "cost-tag-backfill-notice" not in fiona.get(reverse("costs:dashboard")).content.decode()

    # The requester does not approve their own request.
    fiona.post(reverse("backfill:cost-tag-backfill-action", args=[backfill.pk, "approve"]))
    backfill.refresh_from_db()
    assert backfill.status == "proposed"
    root.post(reverse("backfill:cost-tag-backfill-action", args=[backfill.pk, "approve"]))
    backfill.refresh_from_db()
    assert (backfill.status, backfill.decided_by) == ("approved", world["root"])

    tasks.start_cost_tag_backfill(backfill.pk)  # what the approval hands to a worker
    backfill.refresh_from_db()
    assert backfill.status == "succeeded" and backfill.aws_status == "SUCCEEDED" and backfill.aws_completed_at
    history = cost_state(PAYER).backfills
    assert [h["BackfillFrom"] for h in history] == [f"{since.isoformat()}T00:00:00Z"]
    actions = list(AuditEvent.objects.filter(action__startswith="cost_tag_backfill.").values_list("action", flat=True))
    assert sorted(actions) == sorted(
        [
            "cost_tag_backfill.requested",
            "cost_tag_backfill.approved",
            "cost_tag_backfill.started",
            "cost_tag_backfill.succeeded",
        ]
    )
    listing = root.get(reverse("backfill:cost-tag-backfills")).content.decode()
    assert "Succeeded" in listing and "SUCCEEDED" in listing


def test_aws_refuses_a_second_backfill_within_24_hours_and_nothing_is_lost(world: dict[str, Any]) -> None:
    first = costtags.do_request(world["fiona"], payer=world["payer"], backfill_from=months_back(1), reason="one")
    costtags.do_approve(world["root"], first)
    costtags.start(first.pk)
    second = costtags.do_request(world["root"], payer=world["payer"], backfill_from=months_back(2), reason="two")
    answer = client_for(world["fiona"]).post(
        reverse("backfill:cost-tag-backfill-action", args=[second.pk, "approve"]), follow=True
    )
    assert answer.status_code == 200
    tasks.start_cost_tag_backfill(second.pk)
    second.refresh_from_db()
    assert second.status == "failed"
    assert "BackfillLimitExceededException" in second.last_error and "24 hours" in second.last_error
    assert (second.reason, second.backfill_from, second.requested_by) == ("two", months_back(2), world["root"])
    page = client_for(world["root"]).get(reverse("backfill:cost-tag-backfills")).content.decode()
    assert "BackfillLimitExceededException" in page
    api = client_for(world["root"], api=True).get(f"/api/cost-tag-backfills/{second.pk}/").json()
    assert api["status"] == "failed" and "24 hours" in api["last_error"]
    assert AuditEvent.objects.filter(action="cost_tag_backfill.failed", object_id=str(second.pk)).exists()
    assert len(cost_state(PAYER).backfills) == 1


@pytest.mark.parametrize(
    ("backfill_from", "message"),
    [
        (lambda: months_back(12) - timedelta(days=1), "first day of a month"),
        (lambda: date(months_back(12).year - 1, months_back(12).month, 1), "more than 12 months back"),
        (lambda: date(months_back(0).year + 1, 1, 1), "in the future"),
    ],
)
def test_a_backfill_from_out_of_range_is_refused_before_any_call(
    world: dict[str, Any], backfill_from: Any, message: str
) -> None:
    before = call_counter.total("ce")
    answer = client_for(world["fiona"], api=True).post(
        "/api/cost-tag-backfills/",
        {"payer": PAYER, "backfill_from": backfill_from().isoformat(), "reason": "old spend"},
        format="json",
    )
    assert answer.status_code == 400 and message in str(answer.json()["backfill_from"])
    assert not CostTagBackfill.objects.exists() and call_counter.total("ce") == before
    assert costtags.month_choices()[-1] == months_back(12)  # the form offers the 13 months AWS accepts


def test_the_api_lists_creates_approves_and_rejects(world: dict[str, Any]) -> None:
    fiona, root = client_for(world["fiona"], api=True), client_for(world["root"], api=True)
    made = fiona.post(
        "/api/cost-tag-backfills/",
        {"payer": PAYER, "backfill_from": months_back(0).isoformat(), "reason": "this month"},
        format="json",
    )
    assert made.status_code == 201 and made.json()["status"] == "proposed"
    pk = made.json()["id"]
    again = root.post(
        "/api/cost-tag-backfills/",
        {"payer": PAYER, "backfill_from": months_back(1).isoformat(), "reason": "twice"},
        format="json",
    )
    assert again.status_code == 400 and "one backfill at a time" in str(again.json())
    own = fiona.post(f"/api/cost-tag-backfills/{pk}/approve/", {}, format="json")
    assert own.status_code == 400 and "Another person" in str(own.json())
    rejected = root.post(f"/api/cost-tag-backfills/{pk}/reject/", {"note": "not yet"}, format="json")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_note"] == "not yet"
    assert [r["id"] for r in fiona.get("/api/cost-tag-backfills/").json()["results"]] == [pk]
    made = root.post(
        "/api/cost-tag-backfills/",
        {"payer": PAYER, "backfill_from": months_back(1).isoformat(), "reason": "after all"},
        format="json",
    )
    approved = fiona.post(f"/api/cost-tag-backfills/{made.json()['id']}/approve/", {}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert not cost_state(PAYER).backfills  # the worker calls AWS, not the request
    costtags.follow_all()  # the scheduler's pass starts what is approved
    assert CostTagBackfill.objects.get(pk=made.json()["id"]).status == "succeeded"


@pytest.mark.parametrize("who", ["arjun", "maria"])
def test_approvers_and_scientists_get_404_and_403(world: dict[str, Any], who: str) -> None:
    backfill = costtags.do_request(world["fiona"], payer=world["payer"], backfill_from=months_back(1), reason="x")
    page = client_for(world[who])
    assert page.get(reverse("backfill:cost-tag-backfills")).status_code == 404
    assert page.post(reverse("backfill:cost-tag-backfill-action", args=[backfill.pk, "approve"])).status_code == 404
    api = client_for(world[who], api=True)
    assert api.get("/api/cost-tag-backfills/").json()["results"] == []
    assert api.get(f"/api/cost-tag-backfills/{backfill.pk}/").status_code == 404
    assert api.post(f"/api/cost-tag-backfills/{backfill.pk}/approve/").status_code == 404
    made = api.post(
        "/api/cost-tag-backfills/", {"payer": PAYER, "backfill_from": months_back(1).isoformat(), "reason": "x"}
    )
    assert made.status_code == 403
    backfill.refresh_from_db()
    assert backfill.status == "proposed" and CostTagBackfill.objects.count() == 1
    # The approver reads the spend, so sees the notice, without a link to a page they cannot open.
    applied_plan(world["domain"], finished=timezone.now() + timedelta(seconds=1))
    dashboard = page.get(reverse("costs:dashboard")).content.decode()
    if who == "arjun":
        assert "Cost Explorer applies tags to new spend only" in dashboard
        assert reverse("backfill:cost-tag-backfills") not in dashboard


def test_the_list_query_count_does_not_grow(world: dict[str, Any], django_assert_num_queries: Any) -> None:
    page, api = client_for(world["root"]), client_for(world["root"], api=True)
    page.get(reverse("backfill:cost-tag-backfills"))
    api.get("/api/cost-tag-backfills/")
    costtags.do_request(world["fiona"], payer=world["payer"], backfill_from=months_back(1), reason="first")
    for n in range(2):
        with django_assert_num_queries(9):  # 3 of them: when resources were last tagged, and by what
            assert page.get(reverse("backfill:cost-tag-backfills")).status_code == 200
        with django_assert_num_queries(5):
            assert api.get("/api/cost-tag-backfills/").status_code == 200
        for i in range(5):
            CostTagBackfill.objects.create(
                payer=world["payer"],
                backfill_from=months_back(i),
                reason=f"r{n}{i}",
                status="rejected",
                requested_by=world["fiona"],
                decided_by=world["root"],
            )


def test_the_list_pages_by_25_and_the_pagination_swaps_the_table_only(world: dict[str, Any]) -> None:
    for i in range(30):
        CostTagBackfill.objects.create(
            payer=world["payer"], backfill_from=months_back(i % 13), reason=f"reason-{i:02d}", status="rejected"
        )
    client = client_for(world["fiona"])
    first = client.get(reverse("backfill:cost-tag-backfills")).content.decode()
    assert "Page 1 of 2" in first and "30 in all" in first and "reason-29" in first and "reason-04" not in first
    second = client.get(reverse("backfill:cost-tag-backfills") + "?page=2", HTTP_HX_REQUEST="true").content.decode()
    assert (
        "reason-04" in second
        and "reason-05" not in second
        and "<html" not in second
        and "Request a backfill" not in second
    )


def test_the_coverage_page_links_to_the_requests_for_admins_and_finance_only(world: dict[str, Any]) -> None:
    url = reverse("backfill:cost-tag-backfills")
    for who, shown in (("root", True), ("fiona", True), ("arjun", False)):
        page = client_for(world[who]).get(reverse("backfill:coverage")).content.decode()
        assert (url in page) is shown, who


def test_the_inbox_lists_requests_waiting_for_another_admin_or_finance(world: dict[str, Any]) -> None:
    def inbox(who: str) -> str:
        return client_for(world[who]).get(reverse("onboarding:inbox")).content.decode()

    assert 'id="inbox-cost-tag-backfills"' not in inbox("root")
    costtags.do_request(world["fiona"], payer=world["payer"], backfill_from=months_back(1), reason="legacy spend")
    assert 'id="inbox-cost-tag-backfills"' in inbox("root") and "legacy spend" in inbox("root")
    for who in ("fiona", "arjun", "maria"):  # the requester, and people who do not decide
        assert 'id="inbox-cost-tag-backfills"' not in inbox(who), who


def test_throttling_keeps_the_request_approved_with_the_error_and_the_scheduler_starts_it_later(
    world: dict[str, Any], fast_aws_backoff: None, settings: Any
) -> None:
    from awssandbox import faults

    settings.AWS_MAX_ATTEMPTS, settings.AWS_STEP_ATTEMPTS = 2, 2
    rule = faults.registry.add(service="ce", kind="throttle", operation="StartCostAllocationTagBackfill", rate=1.0)
    backfill = costtags.do_request(world["fiona"], payer=world["payer"], backfill_from=months_back(1), reason="x")
    costtags.do_approve(world["root"], backfill)
    try:
        tasks.start_cost_tag_backfill(backfill.pk)
        backfill.refresh_from_db()
        assert backfill.status == "approved" and "LimitExceededException" in backfill.last_error
        assert rule.fired == 4 and not cost_state(PAYER).backfills
        page = client_for(world["root"]).get(reverse("backfill:cost-tag-backfills")).content.decode()
        assert "LimitExceededException" in page
    finally:
        faults.registry.clear()
    tasks.follow_cost_tag_backfills()
    backfill.refresh_from_db()
    assert (backfill.status, backfill.last_error, backfill.attempts) == ("succeeded", "", 2)


def test_the_scheduler_runs_the_follower(settings: Any) -> None:
    from portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["backfill-follow-cost-tag-backfills"]
    assert entry["task"] == costtags.FOLLOW_TASK == tasks.follow_cost_tag_backfills.name
    assert {costtags.FOLLOW_TASK, costtags.START_TASK} <= set(app.tasks)


def test_resources_tagged_outside_a_plan_bring_the_notice_too(world: dict[str, Any]) -> None:
    """A change set's AddTags of the domain tag, or a tag put by hand that a discovery finds, leaves the earlier
    spend untagged just as a plan does: the cost dashboard says so and offers the cost allocation tag backfill."""
    from backfill import discovery
    from changesets.models import Change, ChangeSet

    fiona = client_for(world["fiona"])
    domain = world["domain"]
    change_set = ChangeSet.objects.create(domain=domain, title="Tag profiles", status="applied")
    tag = [{"Key": "sagemaker:domain-arn", "Value": domain.arn}]
    profile_arn = domain.arn.replace(":domain/", ":user-profile/") + "/ada"
    change = Change.objects.create(
        change_set=change_set,
        position=0,
        operation="AddTags",
        resource_arn=profile_arn,
        resource_kind="profile",
        request={"ResourceArn": profile_arn, "Tags": tag},
        status="skipped",  # already so: nothing was tagged, nothing to say
        applied_at=timezone.now() - timedelta(days=2),
    )
    assert "cost-tag-backfill-notice" not in fiona.get(reverse("costs:dashboard")).content.decode()
    Change.objects.filter(pk=change.pk).update(status="applied")
    page = fiona.get(reverse("costs:dashboard")).content.decode()
    assert "Cost Explorer applies tags to new spend only" in page and "by an applied change set" in page
    assert (timezone.localdate() - timedelta(days=2)).isoformat() in page

    # Tagged by hand: a discovery that finds the tag on a resource it recorded without says when.
    now = timezone.now()
    row = LegacyResource.objects.create(
        arn=f"arn:aws:sagemaker:us-east-1:{PAYER}:model/by-hand",
        resource_type="model",
        name="by-hand",
        account_id=PAYER,
        region="us-east-1",
        coverage="unattributable",
        first_seen=now - timedelta(days=30),
        last_seen=now - timedelta(days=30),
    )
    facts = {name: getattr(row, name) for name in discovery.FACT_FIELDS}
    discovery.store(PAYER, "us-east-1", {row.arn: facts}, {row.arn: row}, now)
    assert LegacyResource.objects.get(pk=row.pk).found_tagged_at is None  # nothing changed
    facts["tags"] = {"sagemaker:domain-arn": domain.arn, "team": "fraud"}
    discovery.store(PAYER, "us-east-1", {row.arn: facts}, {row.arn: LegacyResource.objects.get(pk=row.pk)}, now)
    assert LegacyResource.objects.get(pk=row.pk).found_tagged_at == now
    page = fiona.get(reverse("costs:dashboard")).content.decode()
    assert "by an applied change set, someone outside the portal (found by a discovery)" in page
    assert timezone.localdate().isoformat() in page
    # Once its tags are known, a later discovery does not date it again.
    later = now + timedelta(days=1)
    discovery.store(PAYER, "us-east-1", {row.arn: facts}, {row.arn: LegacyResource.objects.get(pk=row.pk)}, later)
    assert LegacyResource.objects.get(pk=row.pk).found_tagged_at == now
