"""Fixes proposed as change sets (governance.proposals): every refusal, one change set over many resources, the apps
to restart, the saving, and the findings resolving once a worker applied it, against the in-process sandbox."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from awssandbox import organisation
from changesets import services as changesets
from changesets.models import ChangeSet
from domains.models import Domain
from domains.sync import start_inventory_sync
from governance import engine, proposals, services
from governance.models import Finding, FindingFix
from portal.demo import ensure_demo_users
from portal.models import AuditEvent
from portal.pricing import hourly_price
from portal.sandboxing import demo_inputs
from profiles.models import App, UserProfile
from tests.factories import grant
from tests.inventory import sagemaker
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


def finding(check_id: str, name: str, **filters: Any) -> Finding:
    return Finding.objects.select_related("domain", "domain__account").get(
        check_id=check_id, resource_name=name, status__in=["open", "accepted"], **filters
    )


def refused(match: str, call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    text = " ".join(caught.value.messages)
    assert match in text, text
    return text


# -- refusals, on the small onboarding organisation (research: IAM, leila's profile without idle shutdown) --------
def test_it_refuses_findings_of_several_domains(world: World) -> None:
    both = [finding("TG-03", "research"), finding("TG-03", "other")]
    text = refused("2 domains", proposals.plan, world.admin, both, tag_values={"cost-center": "CC-1"})
    assert "other, research" in text


def test_it_refuses_a_check_no_change_set_can_fix(world: World) -> None:
    text = refused("No change set can fix SE-01", proposals.plan, world.approver, [finding("SE-01", "research")])
    assert "VpcOnly" in text  # the fix text says what a person must do instead


def test_it_refuses_accepted_and_resolved_findings(world: World) -> None:
    co01 = finding("CO-01", "leila")
    services.do_accept(world.approver, co01, reason="Leaving soon", until=timezone.localdate() + timedelta(days=10))
    co01.refresh_from_db()
    refused("risk accepted", proposals.plan, world.approver, [co01])
    co05 = finding("CO-05", "leila")
    Finding.objects.filter(pk=co05.pk).update(status="resolved", resolved_at=timezone.now())
    co05.refresh_from_db()
    refused("resolved", proposals.plan, world.approver, [co05])


def test_it_refuses_people_who_may_not_propose(world: World) -> None:
    co01 = [finding("CO-01", "leila")]
    for person in (world.lead, world.finance, world.scientist, world.outsider):
        refused("approver of research", proposals.plan, person, co01)
    assert proposals.plan(world.admin, co01).changes  # a platform admin may


def test_a_second_proposal_for_the_same_findings_is_refused_while_one_is_pending(world: World) -> None:
    co05 = [finding("CO-05", "leila")]
    cs = proposals.do_propose_fix(world.approver, co05)
    assert cs.status == "proposed" and cs.finding_ids == [co05[0].pk]
    assert FindingFix.objects.get(finding=co05[0]).change_set == cs
    text = refused(f"{cs.ref} (proposed) already fixes #{co05[0].pk}", proposals.plan, world.approver2, co05)
    assert "cancel it" in text
    # Selecting by check and domain leaves out what a pending change set fixes: here, everything.
    refused(
        f"{cs.ref} (proposed) already fixes every open CO-05 finding of research",
        proposals.resolve,
        world.approver2,
        check_id="CO-05",
        domain_key=world.research.domain_id,
    )
    # Rejected, the findings may be fixed again.
    changesets.do_reject(cs, actor=world.approver2, reason="Wrong week")
    assert proposals.do_propose_fix(world.approver2, co05).pk != cs.pk


def test_tg03_needs_a_value_for_each_missing_tag(world: World) -> None:
    tg03 = [finding("TG-03", "research")]
    refused("Give a value for cost-center", proposals.plan, world.approver, tg03)
    refused("not a required tag", proposals.plan, world.approver, tg03, tag_values={"team": "x", "cost-center": "1"})
    refused("letters, digits", proposals.plan, world.approver, tg03, tag_values={"cost-center": "<script>"})
    refused("TG-03 fix", proposals.plan, world.approver, [finding("CO-05", "leila")], tag_values={"cost-center": "1"})
    plan = proposals.plan(world.approver, tg03, tag_values={"cost-center": "CC-2001"})
    assert [(c.operation, c.after) for c in plan.changes] == [
        ("AddTags", {"tags.cost-center": "CC-2001"}),
        ("UpdateDomain", {"TagPropagation": "ENABLED"}),
    ]
    assert plan.title == "Required tags and tag propagation on research"


def test_a_selection_names_findings_or_a_check_and_a_domain(world: World) -> None:
    refused("not both", proposals.resolve, world.approver, finding_ids=[1], check_id="CO-01", domain_key="d-x")
    refused("Say which findings", proposals.resolve, world.approver)
    refused("not a check a change set can fix", proposals.resolve, world.approver, check_id="SE-01", domain_key="x")
    refused("No open SE-04 finding in research", proposals.resolve, world.approver, check_id="SE-04",
            domain_key=world.research.arn)  # fmt: skip
    other = finding("CO-05", "leila")
    with pytest.raises(proposals.NotFound):
        proposals.resolve(world.outsider, finding_ids=[other.pk])
    with pytest.raises(proposals.NotFound):  # finance sees the finding but may not fix it
        proposals.resolve(world.finance, finding_ids=[other.pk])
    with pytest.raises(proposals.NotFound):
        proposals.resolve(world.outsider, check_id="CO-05", domain_key=world.research.domain_id)
    assert proposals.resolve(world.approver, check_id="CO-05", domain_key=world.research.domain_id) == [other]
    with pytest.raises(ValidationError, match="not a finding number"):
        proposals.parse_ids(["12,abc"])
    assert proposals.parse_ids(["3,4", "4", 5]) == [3, 4, 5]


def test_a_plan_that_changed_since_it_was_shown_is_not_proposed(world: World) -> None:
    co01 = [finding("CO-01", "leila")]
    seen = proposals.plan(world.approver, co01).digest
    services.do_edit_policy(world.approver, world.research, idle_timeout_cap_minutes=60)  # the plan now sets 60
    refused("plan changed", proposals.do_propose_fix, world.approver, co01, expected_digest=seen)
    assert not ChangeSet.objects.exists()


def test_a_proposal_is_audited_and_shows_in_the_findings_history(world: World) -> None:
    co01 = finding("CO-01", "leila")
    cs = proposals.do_propose_fix(world.approver, [co01], title="  Leila idles at most two hours ")
    assert cs.title == "Leila idles at most two hours" and cs.origin == "governance:CO-01"
    event = AuditEvent.objects.get(action="finding.fix_proposed", object_id=str(co01.pk))
    assert event.actor == world.approver and event.request_id == cs.ref and event.after["change_set"] == cs.ref
    assert [e.event for e in co01.events.all()] == ["opened", "fix proposed"]
    assert proposals.fixes_of(co01) == [cs]


def test_a_fix_the_worker_applies_resolves_its_findings(world: World, django_capture_on_commit_callbacks: Any) -> None:
    """Approver A proposes leila's CO-01 fix, approver B approves, the task (eager) applies it to the sandbox and
    reads the resources again: the finding resolves, and its history says how."""
    co01 = finding("CO-01", "leila")
    cs = proposals.do_propose_fix(world.approver, [co01])
    assert {c.operation for c in cs.changes.all()} == {"UpdateDomain"}  # leila follows the domain default
    with django_capture_on_commit_callbacks(execute=True):
        changesets.do_approve(cs, actor=world.approver2)
    cs.refresh_from_db()
    assert cs.status == "applied", (cs.error, cs.progress)
    described = sagemaker().describe_domain(DomainId=world.research.domain_id)["DefaultUserSettings"]
    assert described["JupyterLabAppSettings"]["AppLifecycleManagement"]["IdleSettings"] == {
        "LifecycleManagement": "ENABLED",
        "IdleTimeoutInMinutes": 120,
    }
    co01.refresh_from_db()
    assert co01.status == "resolved"  # a profile AWS did not change, resolved by the domain it follows
    assert [e.event for e in co01.events.all()] == ["opened", "fix proposed", "resolved", "fix applied"]
    assert "resolved" in co01.events.last().note


def test_the_next_sync_resolves_what_a_domain_change_made_outside_the_portal_fixed(world: World) -> None:
    """A domain default changed in the console: no profile changed in AWS, so the sync describes none of them
    again, yet their findings depend on the default and resolve with the domain."""
    co01 = finding("CO-01", "leila")
    idle = {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 60}
    sagemaker().update_domain(
        DomainId=world.research.domain_id,
        DefaultUserSettings={
            "JupyterLabAppSettings": {"AppLifecycleManagement": {"IdleSettings": idle}},
            "CodeEditorAppSettings": {"AppLifecycleManagement": {"IdleSettings": idle}},
        },
    )
    start_inventory_sync(inline=True)
    co01.refresh_from_db()
    assert co01.status == "resolved"


# -- the demo organisation: many resources, running apps, prices -------------------------------------------------
@pytest.fixture
def demo(aws_sandbox: None, eager_tasks: None, settings: Any) -> dict[str, Any]:
    from domains import demo as domains_demo

    settings.PROVISION_POLL_SECONDS = 0
    organisation.seed(demo_inputs(), date.today(), with_costs=False)
    ensure_demo_users()
    domains_demo.setup_demo(lambda message: None)
    engine.evaluate()
    users = get_user_model().objects.in_bulk(["admin", "approver"], field_name="username")
    domains = {d.name: d for d in Domain.objects.all()}
    return {"admin": users["admin"], "approver": users["approver"], "domains": domains}


def test_one_change_set_fixes_idle_shutdown_on_a_whole_domain(demo: dict[str, Any]) -> None:
    research = demo["domains"]["research-lab"]
    findings = proposals.resolve(demo["approver"], check_id="CO-01", domain_key=research.domain_id)
    assert len(findings) >= 10 and {f.resource_kind for f in findings} == {"profile", "space"}
    plan = proposals.plan(demo["approver"], findings)
    profiles = UserProfile.objects.filter(domain=research, removed_at__isnull=True).count()
    assert plan.title == f"Idle shutdown 120 min on all {profiles} profiles and 6 spaces of research-lab"
    domain_change, *overrides = plan.changes
    assert domain_change.operation == "UpdateDomain"
    path = "DefaultUserSettings.JupyterLabAppSettings.AppLifecycleManagement.IdleSettings.LifecycleManagement"
    assert (domain_change.before[path], domain_change.after[path]) == ("DISABLED", "ENABLED")
    # The profiles that switch it off themselves get their own call; the others follow the domain.
    assert sorted(c.request["UserProfileName"] for c in overrides) == ["team-shared", "wei-chen", "yuki-tanaka"]
    # Every running JupyterLab / Code Editor app of the domain must restart to pick the default up.
    running = App.objects.filter(domain=research, status="InService", app_type__in=["JupyterLab", "CodeEditor"])
    assert set(plan.restart_arns) == set(running.values_list("arn", flat=True)) and plan.restart_arns
    assert plan.monthly_saving is None


def test_the_whole_domain_fix_resolves_every_finding_it_was_proposed_for(
    demo: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    """The domain is re-read first, the profiles after it: the private spaces of a profile that switched idle
    shutdown off (yuki-tanaka-lab) resolve too, though neither AWS nor the re-read touched them."""
    research = demo["domains"]["research-lab"]
    findings = proposals.resolve(demo["approver"], check_id="CO-01", domain_key=research.domain_id)
    cs = proposals.do_propose_fix(demo["approver"], findings)
    with django_capture_on_commit_callbacks(execute=True):
        changesets.do_approve(cs, actor=demo["admin"])
    cs.refresh_from_db()
    assert cs.status == "applied", (cs.error, cs.progress)
    still = Finding.objects.filter(pk__in=[f.pk for f in findings]).exclude(status="resolved")
    assert list(still.values_list("resource_name", flat=True)) == []
    assert Finding.objects.get(pk=next(f.pk for f in findings if f.resource_name == "yuki-tanaka-lab")).events.filter(
        event="fix applied"
    )


def test_stopping_idle_apps_estimates_the_monthly_saving(demo: dict[str, Any]) -> None:
    legacy = demo["domains"]["legacy-forecasting"]
    findings = proposals.resolve(demo["admin"], check_id="CO-04", domain_key=legacy.arn)
    plan = proposals.plan(demo["admin"], findings)
    gpu = next(c for c in plan.changes if "g4dn" in c.resource_arn)
    hourly = hourly_price("ml.g4dn.xlarge", legacy.region)
    assert gpu.operation == "DeleteApp" and gpu.monthly_saving == (hourly * 730).quantize(Decimal("0.01"))
    assert plan.monthly_saving == sum(c.monthly_saving for c in plan.changes if c.monthly_saving)
    assert f"saving about ${plan.monthly_saving:,.0f} a month" in plan.title
    # UX-02 and CO-04 on the same Classic kernel: the fix of both stops it once.
    both = findings + proposals.resolve(demo["admin"], check_id="UX-02", domain_key=legacy.arn)
    calls = [c.resource_arn for c in proposals.plan(demo["admin"], both).changes]
    assert len(calls) == len(set(calls))


def test_stopping_classic_apps_resolves_ux02_at_once_and_the_next_sync_keeps_it_so(
    demo: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    legacy = demo["domains"]["legacy-forecasting"]
    findings = proposals.resolve(demo["admin"], check_id="UX-02", domain_key=legacy.domain_id)
    second = demo["approver"]
    grant(second, "domain_approver", legacy)  # the demo's approver does not approve legacy-forecasting
    cs = proposals.do_propose_fix(demo["admin"], findings)
    assert cs.title.startswith(f"Stop {len(findings)} Studio Classic apps in legacy-forecasting, saving about $")
    with django_capture_on_commit_callbacks(execute=True):
        changesets.do_approve(cs, actor=second)
    cs.refresh_from_db()
    assert cs.status == "applied", (cs.error, cs.progress)
    states = set(Finding.objects.filter(pk__in=[f.pk for f in findings]).values_list("status", flat=True))
    assert states == {"resolved"}  # DeleteApp marked the apps Deleted: resolved before any sync
    # The next sync lists the apps as Deleted (AWS keeps them listed a while), then without them: nothing reopens.
    start_inventory_sync(inline=True)
    engine.evaluate()
    assert not Finding.objects.filter(check_id="UX-02", domain=legacy, status="open").exists()


FIRES_IN = {  # a domain of the demo where each fixable check fires
    "UX-01": "legacy-forecasting",
    "UX-02": "legacy-forecasting",
    "CO-01": "payments-fraud",
    "CO-02": "risk-analytics",
    "CO-03": "payments-fraud",
    "CO-04": "research-lab",
    "CO-05": "quickstart-sandbox",
    "SE-03": "research-lab",
    "SE-04": "research-lab",
    "TG-03": "quickstart-sandbox",
}


@pytest.mark.parametrize("check_id", sorted(FIRES_IN))
def test_every_fixable_check_is_fixed_through_an_approved_change_set(
    demo: dict[str, Any], check_id: str, django_capture_on_commit_callbacks: Any
) -> None:
    assert sorted(FIRES_IN) == proposals.fixable_check_ids()
    domain = demo["domains"][FIRES_IN[check_id]]
    grant(demo["approver"], "domain_approver", domain)
    findings = proposals.resolve(demo["admin"], check_id=check_id, domain_key=domain.domain_id)
    values = {"cost-center": "CC-4242"} if check_id == "TG-03" else None
    cs = proposals.do_propose_fix(demo["admin"], findings, tag_values=values)
    with django_capture_on_commit_callbacks(execute=True):
        changesets.do_approve(cs, actor=demo["approver"])
    cs.refresh_from_db()
    assert cs.status == "applied", (cs.error, cs.progress)
    still = Finding.objects.filter(pk__in=[f.pk for f in findings]).exclude(status="resolved")
    assert list(still.values_list("resource_name", flat=True)) == []
