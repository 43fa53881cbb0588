"""The governance engine over the demo organisation, crafted rows, acceptance and the SQL bound."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import boto3
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from awssandbox import organisation
from domains.models import Domain
from governance import engine, fixes, services
from governance.models import Finding, PostureSnapshot
from portal.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY
from portal.demo import ensure_demo_users
from portal.models import AuditEvent, OutgoingMail
from portal.sandboxing import demo_inputs
from profiles import effective
from tests.factories import AppFactory, DomainFactory, SpaceFactory, UserFactory, UserProfileFactory, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(aws_sandbox: None) -> None:
    from domains import demo as domains_demo

    organisation.seed(demo_inputs(), date.today(), with_costs=False)
    ensure_demo_users()
    domains_demo.setup_demo(lambda message: None)


def fired(check_id: str, name: str) -> bool:
    return Finding.objects.filter(check_id=check_id, resource_name=name, status="open").exists()


def test_the_demo_organisation_shows_its_anti_patterns(demo: None) -> None:
    # The demo's syncs already evaluated what they stored (resources_changed), domains included, before any full
    # evaluation; a full evaluation then finds the same things.
    assert fired("ID-01", "ds-team") and fired("UX-01", "legacy-forecasting")
    engine.evaluate()
    assert fired("ID-01", "ds-team") and fired("ID-01", "team-shared")
    assert fired("ID-02", "john-smith") and fired("ID-02", "jsmith")
    assert fired("UX-01", "legacy-forecasting")
    gpu = Finding.objects.get(check_id="CO-04", resource_name__contains="g4dn", status="open")
    assert gpu.severity == "high" and any(e["source"].startswith("DescribeApp") for e in gpu.evidence)
    assert fired("CO-01", "wei-chen")
    assert PostureSnapshot.objects.get(domain__name="legacy-forecasting").classic_apps_running > 0
    # The approvers heard about the new high-severity findings once; a second evaluation sends nothing new.
    mails = OutgoingMail.objects.count()
    assert mails > 0
    engine.evaluate()
    assert OutgoingMail.objects.count() == mails


def test_a_fixed_finding_resolves_and_history_is_kept(demo: None) -> None:
    engine.evaluate()
    finding = Finding.objects.get(check_id="UX-01", resource_name="legacy-forecasting", status="open")
    domain = Domain.objects.get(name="legacy-forecasting")
    domain.settings_snapshot["DefaultUserSettings"].update(StudioWebPortal="ENABLED", DefaultLandingUri="studio::")
    domain.save()
    engine.evaluate()
    finding.refresh_from_db()
    assert finding.status == "resolved" and finding.resolved_at is not None
    assert [e.event for e in finding.events.all()] == ["opened", "resolved"]


def _org(profiles: int) -> None:
    for d in range(2):
        domain = DomainFactory(name=f"size{profiles}-{d}")
        for p in range(profiles):
            profile = UserProfileFactory(domain=domain, name=f"team-{d}-{p}")
            SpaceFactory(domain=domain, name=f"space-{d}-{p}", owner_profile=profile, instance_type="ml.g5.xlarge")
            AppFactory(domain=domain, user_profile=profile, aws_created_at=timezone.now() - timedelta(days=3))


def test_the_engine_statement_count_does_not_grow_with_resources() -> None:
    _org(3)
    with CaptureQueriesContext(connection) as small:
        engine.evaluate()
    Finding.objects.all().delete()
    _org(12)  # rows are written in batches of 500: both sizes fit one batch
    with CaptureQueriesContext(connection) as large:
        engine.evaluate()
    assert Finding.objects.filter(domain__name__startswith="size12").count() > 12 * 2 * 3

    def shapes(queries: list[dict]) -> list[str]:
        return [q["sql"].split(" ")[0] for q in queries if not q["sql"].startswith("INSERT")]

    # Reads and updates are one statement each whatever the size; inserts are batched (500 rows on PostgreSQL,
    # SQLite's variable limit below that), so on PostgreSQL both sizes (under 500 findings) count the same.
    assert shapes(large.captured_queries) == shapes(small.captured_queries)
    if connection.vendor == "postgresql":
        assert len(large.captured_queries) == len(small.captured_queries)


def test_incremental_evaluation_touches_only_changed_resources() -> None:
    domain = DomainFactory()
    a = UserProfileFactory(domain=domain, name="team-a")
    b = UserProfileFactory(domain=domain, name="team-b")
    engine.evaluate([domain])
    before = {f.resource_arn: f.last_seen for f in Finding.objects.all()}
    engine.evaluate([domain], only_arns={a.arn})
    after = {f.resource_arn: f.last_seen for f in Finding.objects.filter(check_id="ID-01")}
    assert after[a.arn] > before[a.arn] and after[b.arn] == before[b.arn]


def test_an_incremental_evaluation_checks_a_changed_profile_against_the_whole_domain() -> None:
    domain = DomainFactory()
    UserProfileFactory(domain=domain, name="maria-garcia")
    other = UserProfileFactory(domain=domain, name="wei-chen")
    engine.evaluate([domain])
    assert not Finding.objects.filter(check_id="ID-02").exists()
    # A sync stores a new profile that is the same name in other case: only it changed, yet the duplicate check
    # compares it with every profile of the domain.
    copy = UserProfileFactory(domain=domain, name="Maria-Garcia")
    engine.evaluate([domain], only_arns={copy.arn})
    assert set(Finding.objects.filter(check_id="ID-02").values_list("resource_arn", flat=True)) == {copy.arn}
    # The snapshot counts every live finding of the domain, not only those of this evaluation.
    snapshot = PostureSnapshot.objects.get(domain=domain)
    live = Finding.objects.filter(domain=domain, status="open")
    assert snapshot.open_high + snapshot.open_medium + snapshot.open_low == live.count()
    assert snapshot.by_check["CO-01"] == live.filter(check_id="CO-01").count() == 3
    assert other.arn in set(live.filter(check_id="CO-01").values_list("resource_arn", flat=True))


def test_a_changed_profile_reaches_its_private_spaces_and_a_removed_one_resolves() -> None:
    domain = DomainFactory()
    owner = UserProfileFactory(domain=domain, name="maria-garcia")
    private = SpaceFactory(domain=domain, owner_profile=owner, sharing_type="Private", settings_snapshot={})
    engine.evaluate([domain])
    assert Finding.objects.filter(check_id="CO-01", resource_arn=private.arn, status="open").exists()
    idle = {"AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 60}}}
    owner.settings_snapshot = {"JupyterLabAppSettings": idle, "CodeEditorAppSettings": idle}
    owner.save()
    # Only the profile changed in AWS; its private space follows it, so its finding resolves as well.
    engine.evaluate([domain], only_arns={owner.arn})
    assert set(Finding.objects.filter(check_id="CO-01", status="resolved").values_list("resource_arn", flat=True)) == {
        owner.arn,
        private.arn,
    }
    other = UserProfileFactory(domain=domain, name="team-shared")
    engine.evaluate([domain], only_arns={other.arn})
    assert Finding.objects.get(check_id="ID-01", resource_arn=other.arn).status == "open"
    other.removed_at = timezone.now()
    other.save()
    engine.evaluate([domain], only_arns={other.arn})
    assert Finding.objects.get(check_id="ID-01", resource_arn=other.arn).status == "resolved"


def test_an_incremental_evaluation_counts_every_classic_app_of_a_domain_without_a_recent_snapshot() -> None:
    domain = DomainFactory()
    profile = UserProfileFactory(domain=domain, name="person-1")
    running = [
        AppFactory(domain=domain, user_profile=profile, app_type="JupyterServer", status="InService") for _ in range(3)
    ]
    # The first evaluation of the domain is incremental and reads one app: the snapshot still counts all three.
    engine.evaluate([domain], only_arns={running[0].arn})
    assert PostureSnapshot.objects.get(domain=domain).classic_apps_running == 3


def test_a_changed_domain_is_evaluated_whole() -> None:
    domain = DomainFactory()
    profiles = [UserProfileFactory(domain=domain, name=f"person-{i}") for i in range(3)]
    engine.evaluate([domain])
    assert Finding.objects.filter(check_id="CO-01", status="open").count() == 3
    # The domain's defaults now enforce idle shutdown: only the domain's ARN changed, every profile follows it.
    idle = {"AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 60}}}
    domain.settings_snapshot = {
        **domain.settings_snapshot,
        "DefaultUserSettings": {"JupyterLabAppSettings": idle, "CodeEditorAppSettings": idle},
    }
    domain.save()
    engine.evaluate([domain], only_arns={domain.arn})
    resolved = Finding.objects.filter(check_id="CO-01", status="resolved")
    assert set(resolved.values_list("resource_arn", flat=True)) == {p.arn for p in profiles}
    assert (
        PostureSnapshot.objects.get(domain=domain).resolved_today
        == resolved.count() + Finding.objects.filter(domain=domain, status="resolved").exclude(check_id="CO-01").count()
    )


@pytest.mark.parametrize(
    ("domain_idle", "profile_idle", "expected", "source"),
    [
        ({}, {}, "DISABLED", effective.AWS_DEFAULT),
        ({"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 120}, {}, "ENABLED", effective.DOMAIN),
        ({"LifecycleManagement": "ENABLED"}, {"LifecycleManagement": "DISABLED"}, "DISABLED", effective.PROFILE),
        ({}, {"LifecycleManagement": "ENABLED"}, "ENABLED", effective.PROFILE),
    ],
)
def test_effective_idle_settings(domain_idle: dict, profile_idle: dict, expected: str, source: str) -> None:
    def block(idle: dict) -> dict:
        return {"JupyterLabAppSettings": {"AppLifecycleManagement": {"IdleSettings": idle}}} if idle else {}

    result = effective.profile_settings({"DefaultUserSettings": block(domain_idle)}, block(profile_idle))
    assert (result["JupyterLab.LifecycleManagement"].value, result["JupyterLab.LifecycleManagement"].source) == (
        expected,
        source,
    )
    shared = effective.space_settings(
        {"DefaultSpaceSettings": block(domain_idle), "DefaultUserSettings": block(domain_idle)},
        {"AppType": "JupyterLab", **block({"IdleTimeoutInMinutes": 90})},
        shared=True,
    )
    assert shared["JupyterLab.IdleTimeoutInMinutes"].source == effective.SPACE


def test_accepting_a_risk_then_expiry_reopens_and_tells_the_approver() -> None:
    domain = DomainFactory()
    UserProfileFactory(domain=domain, name="shared-lab")
    engine.evaluate([domain])
    finding = Finding.objects.get(check_id="ID-01")
    approver = UserFactory(username="appr")
    grant(approver, "domain_approver", domain)
    outsider = UserFactory(username="other")
    grant(outsider, "domain_approver", DomainFactory())
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        services.do_accept(outsider, finding, reason="fine", until=today + timedelta(days=30))
    with pytest.raises(ValidationError, match="180"):
        services.do_accept(approver, finding, reason="fine", until=today + timedelta(days=181))
    services.do_accept(approver, finding, reason="Lab account, reviewed", until=today + timedelta(days=30))
    finding.refresh_from_db()
    assert finding.status == "accepted"
    assert services.expire_acceptances(today + timedelta(days=31)) == 1
    finding.refresh_from_db()
    assert finding.status == "open"
    actions = set(AuditEvent.objects.filter(object_id=str(finding.pk)).values_list("action", flat=True))
    assert {"finding.accepted", "finding.acceptance_expired", "finding.reopened"} <= actions
    assert OutgoingMail.objects.filter(to=[approver.email]).exists()


def test_the_weekly_digest_goes_to_each_domains_approvers_with_its_counts() -> None:
    from governance import notify

    busy, other, unwatched = DomainFactory(name="busy"), DomainFactory(name="other"), DomainFactory(name="nobody")
    UserProfileFactory(domain=busy, name="team-shared")
    UserProfileFactory(domain=unwatched, name="team-shared")
    engine.evaluate([busy, other, unwatched])
    grant(UserFactory(username="busy-approver", email="busy@example.com"), "domain_approver", busy)
    grant(UserFactory(username="other-approver", email="other@example.com"), "domain_approver", other)
    OutgoingMail.objects.all().delete()
    # One digest per domain with approvers, to them alone; the domain nobody approves gets none.
    assert notify.weekly_digest() == 2
    mails = {m.subject: m for m in OutgoingMail.objects.all()}
    assert set(mails) == {"Weekly governance digest: busy", "Weekly governance digest: other"}
    mail = mails["Weekly governance digest: busy"]
    assert mail.to == ["busy@example.com"]
    open_busy = Finding.objects.filter(domain=busy, status="open")
    high = open_busy.filter(severity="high").count()
    medium = open_busy.filter(severity="medium").count()
    assert f"Open: {high} high, {medium} medium" in mail.body
    assert f"Opened in the last 7 days: {open_busy.count()}; resolved: 0." in mail.body
    assert f"?domain={busy.domain_id}" in mail.body


def test_policy_edit_is_for_approvers_and_audited() -> None:
    domain = DomainFactory()
    lead = UserFactory(username="lead1")
    grant(lead, "team_lead", domain)
    with pytest.raises(ValidationError):
        services.do_edit_policy(lead, domain, idle_timeout_cap_minutes=60)
    with pytest.raises(ValidationError, match="60"):
        services.do_edit_policy("test", domain, idle_timeout_cap_minutes=5)
    policy = services.do_edit_policy("test", domain, idle_timeout_cap_minutes=90, required_tags=["owner"])
    assert policy.idle_timeout_cap_minutes == 90
    assert AuditEvent.objects.filter(action="governance_policy.created").exists()


def _client(region: str, account: str) -> Any:
    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=settings.AWS_ENDPOINT_URL,
        aws_access_key_id=SANDBOX_ACCESS_KEY,
        aws_secret_access_key=SANDBOX_SECRET_KEY,
    )
    extra = {"ExternalId": organisation.EXTERNAL_IDS[account]} if account in organisation.EXTERNAL_IDS else {}
    creds = sts.assume_role(RoleArn=organisation.role_arn(account), RoleSessionName="test", **extra)["Credentials"]
    return boto3.client(
        "sagemaker",
        region_name=region,
        endpoint_url=settings.AWS_ENDPOINT_URL,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


CALLS = {
    "UpdateDomain": "update_domain",
    "UpdateUserProfile": "update_user_profile",
    "UpdateSpace": "update_space",
    "AddTags": "add_tags",
    "DeleteApp": "delete_app",
}


@pytest.mark.parametrize("check_id", ["UX-01", "UX-02", "CO-01", "CO-02", "CO-04", "CO-05", "TG-03"])
def test_fix_plans_apply_in_the_sandbox(demo: None, check_id: str) -> None:
    engine.evaluate()
    if check_id == "CO-02":
        services.do_edit_policy("test", Domain.objects.get(name="risk-analytics"), idle_timeout_cap_minutes=60)
        engine.evaluate()
    findings = list(Finding.objects.filter(check_id=check_id, status="open").select_related("domain__account"))
    assert findings
    changes = fixes.plan_fix(findings)
    assert changes
    for change in changes:
        domain = next(f.domain for f in findings if change.resource_arn.split(":")[4] == f.domain.account.account_id)
        client = _client(change.resource_arn.split(":")[3], domain.account.account_id)
        getattr(client, CALLS[change.operation])(**change.request)
    if check_id == "CO-05":  # tags do not move LastModifiedTime, so a sync does not re-read them: ask AWS
        for change in changes:
            client = _client(change.resource_arn.split(":")[3], change.resource_arn.split(":")[4])
            tags = {t["Key"]: t["Value"] for t in client.list_tags(ResourceArn=change.resource_arn)["Tags"]}
            assert tags["sagemaker:domain-arn"] == change.after["tags.sagemaker:domain-arn"]
        return
    if check_id == "CO-04":
        assert all(c.monthly_saving for c in changes if "g4dn" in c.resource_arn)
    # After a sync the findings the plan covered are gone.
    from domains.sync import start_inventory_sync

    start_inventory_sync(trigger="command", inline=True)
    engine.evaluate()
    still = Finding.objects.filter(pk__in=[f.pk for f in findings], status="open").values_list(
        "resource_name", flat=True
    )
    if check_id == "TG-03":  # the missing tag values are not invented: only the propagation is fixed
        assert all(
            "missing tags" in f.details for f in Finding.objects.filter(pk__in=[f.pk for f in findings], status="open")
        )
    else:
        assert list(still) == []
