"""The demo's governance, set up as ``manage.py demo`` does (every app's demo data) against the in-process sandbox:
every check of the issue fires at least once and some pass, one risk is accepted, one change set applied, and the
posture has 90 days of history ending at today's evaluation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from awssandbox import organisation
from changesets.models import ChangeSet
from domains.models import Domain
from governance import demo as governance_demo
from governance.models import Finding, FindingFix, PostureSnapshot
from portal.demo import ensure_demo_users, setup_app_demos
from portal.registry import registry
from portal.sandboxing import demo_inputs

pytestmark = pytest.mark.django_db

# GOVERNANCE.md's checks that read the inventory: the ones this issue is about.
ISSUE_CHECKS = [
    "ID-01",
    "ID-02",
    "ID-04",
    "ID-05",
    "UX-01",
    "UX-02",
    "UX-03",
    "CO-01",
    "CO-02",
    "CO-03",
    "CO-04",
    "CO-05",
    "SE-01",
    "SE-02",
    "SE-03",
    "SE-04",
    "TG-03",
]
# Where each fires in the demo organisation (a domain, or a resource of it).
WHERE = {
    "ID-01": ("quickstart-sandbox", "ds-team"),
    "ID-02": ("research-lab", "jsmith"),
    "ID-04": ("research-lab", "research-lab"),
    "ID-05": ("legacy-forecasting", "legacy-forecasting"),
    "UX-01": ("legacy-forecasting", "legacy-forecasting"),
    "UX-02": ("legacy-forecasting", None),
    "UX-03": ("risk-analytics", "risk-analytics"),
    "CO-01": ("research-lab", "wei-chen"),
    "CO-02": ("risk-analytics", "lucas-silva"),
    "CO-03": ("payments-fraud", "mateo-fernandez-lab"),
    "CO-04": ("legacy-forecasting", None),
    "CO-05": ("research-lab", "maria-garcia"),
    "SE-01": ("quickstart-sandbox", "quickstart-sandbox"),
    "SE-02": ("risk-analytics", "risk-analytics"),
    "SE-03": ("research-lab", "research-lab"),
    "SE-04": ("research-lab", "wei-chen-lab"),
    "TG-03": ("quickstart-sandbox", "quickstart-sandbox"),
}


@pytest.fixture
def demo(aws_sandbox: None, settings: Any) -> None:
    settings.PROVISION_POLL_SECONDS = 0
    organisation.seed(demo_inputs(), date.today())
    ensure_demo_users()
    setup_app_demos(lambda message: None)


def open_checks(domain: str) -> set[str]:
    return set(Finding.objects.filter(domain__name=domain, status="open").values_list("check_id", flat=True))


def test_every_check_fires_somewhere_and_some_pass(demo: None) -> None:
    assert sorted(WHERE) == sorted(ISSUE_CHECKS) and set(ISSUE_CHECKS) <= set(registry.checks)
    for check_id, (domain, resource) in WHERE.items():
        found = Finding.objects.filter(check_id=check_id, domain__name=domain, status="open")
        if resource:
            found = found.filter(resource_name=resource)
        assert found.exists(), f"{check_id} does not fire on {resource or 'any resource'} of {domain}"
    # Some domains pass some checks: the two SSO domains in a VPC, and what the applied change set fixed.
    for domain in ("risk-analytics", "payments-fraud"):
        assert not {"SE-01", "ID-04", "UX-01", "TG-03"} & open_checks(domain), domain
    assert "CO-05" not in open_checks("payments-fraud")
    assert "SE-03" not in open_checks("risk-analytics") and "SE-04" not in open_checks("payments-fraud")
    # Every finding carries its evidence.
    assert not Finding.objects.filter(evidence=[]).exists()


def test_the_demo_holds_one_accepted_risk_with_reason_and_expiry(demo: None) -> None:
    accepted = Finding.objects.get(status="accepted")
    assert (accepted.check_id, accepted.domain.name) == governance_demo.ACCEPTED
    assert accepted.accepted_by.username == "approver" and "NET-214" in accepted.accepted_reason
    assert accepted.accepted_until == timezone.localdate() + timedelta(days=90)
    assert [e.event for e in accepted.events.all()][-1] == "accepted"


def test_the_demo_holds_one_change_set_applied_after_a_second_approver_approved_it(demo: None) -> None:
    cs = ChangeSet.objects.get()
    assert cs.status == "applied", (cs.error, cs.progress)
    assert (cs.proposed_by.username, cs.decided_by.username) == ("approver", "admin")
    assert cs.domain.name == "payments-fraud" and cs.origin == "governance:CO-05"
    assert cs.title == "Tag 7 profiles and 2 spaces of payments-fraud with sagemaker:domain-arn"
    assert set(cs.changes.values_list("status", flat=True)) == {"applied"}
    fixed = Finding.objects.filter(pk__in=FindingFix.objects.filter(change_set=cs).values("finding_id"))
    assert fixed.count() == 9 and set(fixed.values_list("status", flat=True)) == {"resolved"}


def test_the_posture_history_covers_90_days_improving_to_todays_evaluation(demo: None) -> None:
    today = timezone.localdate()
    for domain in Domain.objects.all():
        days = list(PostureSnapshot.objects.filter(domain=domain).order_by("day"))
        assert [s.day for s in days] == [today - timedelta(days=n) for n in range(89, -1, -1)], domain.name
        for snapshot in days:
            total = snapshot.open_high + snapshot.open_medium + snapshot.open_low
            assert sum(snapshot.by_check.values()) == total, (domain.name, snapshot.day)
        last = days[-1]
        live = Finding.objects.filter(domain=domain, status="open")
        assert last.open_high + last.open_medium + last.open_low == live.count()  # today's is the real one
        first_total = sum(days[0].by_check.values())
        assert first_total > sum(last.by_check.values()), domain.name  # improving
    fraud = PostureSnapshot.objects.filter(domain__name="payments-fraud")
    assert fraud.get(day=today - timedelta(days=1)).by_check.get("CO-05", 0) >= 9  # before the change set
    assert "CO-05" not in fraud.get(day=today).by_check


def test_setting_the_demo_up_again_adds_nothing(demo: None) -> None:
    counts = (ChangeSet.objects.count(), Finding.objects.filter(status="accepted").count())
    snapshots = PostureSnapshot.objects.count()
    governance_demo.setup_demo(lambda message: None)
    governance_demo.finish_demo(lambda message: None)
    assert (ChangeSet.objects.count(), Finding.objects.filter(status="accepted").count()) == counts
    assert PostureSnapshot.objects.count() == snapshots
