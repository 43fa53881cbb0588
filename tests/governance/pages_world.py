"""Crafted rows for the governance overview and idle compliance: two domains of one approver (research in
us-east-1, payments in eu-west-1), a domain of an outsider, profiles and spaces whose effective idle shutdown is known,
apps idle for known hours, findings and 90 days of posture snapshots with known numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from domains.models import Domain
from governance.models import Finding, PostureSnapshot
from profiles.models import App, Space, UserProfile
from tests.factories import AppFactory, AwsAccountFactory, DomainFactory, SpaceFactory, UserFactory, UserProfileFactory
from tests.factories import grant as give

ON = {"AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 120}}}
OFF = {"AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": "DISABLED"}}}


def domain_settings(*, space_default: dict | None = None) -> dict[str, Any]:
    """Idle shutdown on by default for JupyterLab and Code Editor profiles; shared spaces per ``space_default``."""
    snapshot: dict[str, Any] = {
        "DefaultUserSettings": {"JupyterLabAppSettings": ON, "CodeEditorAppSettings": ON},
    }
    if space_default is not None:
        snapshot["DefaultSpaceSettings"] = {"JupyterLabAppSettings": space_default}
    return snapshot


@dataclass
class PagesWorld:
    now: datetime
    today: date
    research: Domain
    payments: Domain
    elsewhere: Domain
    users: dict[str, Any]
    profiles: dict[str, UserProfile] = field(default_factory=dict)
    spaces: dict[str, Space] = field(default_factory=dict)
    apps: dict[str, App] = field(default_factory=dict)
    findings: dict[str, Finding] = field(default_factory=dict)


def finding(domain: Domain, key: str, severity: str, status: str = "open", *, days_old: int = 1, **extra: Any) -> Any:
    now = timezone.now()
    return Finding.objects.create(
        check_id=extra.pop("check_id", "ID-01"),
        domain=domain,
        resource_arn=extra.pop("resource_arn", f"{domain.arn}/x/{key}"),
        resource_kind=extra.pop("resource_kind", "profile"),
        resource_name=extra.pop("resource_name", key),
        severity=severity,
        status=status,
        details=extra.pop("details", f"Finding {key}"),
        first_seen=now - timedelta(days=days_old),
        last_seen=now,
        resolved_at=now if status == "resolved" else None,
        **extra,
    )


def snapshot(domain: Domain, day: date, high: int, medium: int, low: int, **extra: int) -> PostureSnapshot:
    return PostureSnapshot.objects.create(
        domain=domain,
        day=day,
        open_high=high,
        open_medium=medium,
        open_low=low,
        taken_at=timezone.now(),
        **extra,
    )


def build() -> PagesWorld:
    now = timezone.now()
    account = AwsAccountFactory(account_id="111122223333", regions=["us-east-1", "eu-west-1"])
    research = DomainFactory(name="research", account=account, settings_snapshot=domain_settings())
    payments = DomainFactory(
        name="payments", account=account, region="eu-west-1", settings_snapshot=domain_settings(space_default=ON)
    )
    elsewhere = DomainFactory(name="elsewhere", settings_snapshot=domain_settings())
    users = {
        name: UserFactory(username=name) for name in ("approver", "lead", "finance", "scientist", "outsider", "nobody")
    }
    users["admin"] = UserFactory(username="admin", is_superuser=True, is_staff=True)
    for domain in (research, payments):
        give(users["approver"], "domain_approver", domain)
    give(users["lead"], "team_lead", research)
    give(users["finance"], "finance", research)
    give(users["scientist"], "data_scientist", research)
    give(users["outsider"], "domain_approver", elsewhere)
    world = PagesWorld(now, timezone.localdate(now), research, payments, elsewhere, users)

    # research: 1 of 3 profiles enforced (both apps on), 2 of 5 spaces.
    p = world.profiles
    p["on"] = UserProfileFactory(domain=research, name="ana", owner=users["scientist"])
    p["lab-off"] = UserProfileFactory(
        domain=research, name="ben", settings_snapshot={"JupyterLabAppSettings": OFF}, owner=users["lead"]
    )
    p["editor-off"] = UserProfileFactory(domain=research, name="cleo", settings_snapshot={"CodeEditorAppSettings": OFF})
    UserProfileFactory(domain=research, name="gone", removed_at=now)  # removed: not counted
    s = world.spaces
    s["private-on"] = SpaceFactory(
        domain=research, name="ana-lab", sharing_type="Private", owner_profile=p["on"], settings_snapshot={}
    )
    s["private-off"] = SpaceFactory(
        domain=research, name="ben-lab", sharing_type="Private", owner_profile=p["lab-off"], settings_snapshot={}
    )
    s["shared"] = SpaceFactory(domain=research, name="team", sharing_type="Shared", owner_profile=p["on"])
    s["editor-off"] = SpaceFactory(
        domain=research,
        name="cleo-code",
        sharing_type="Private",
        owner_profile=p["editor-off"],
        app_type="CodeEditor",
        settings_snapshot={"AppType": "CodeEditor"},
    )
    s["lab-of-editor-off"] = SpaceFactory(
        domain=research,
        name="cleo-lab",
        sharing_type="Private",
        owner_profile=p["editor-off"],
        settings_snapshot={"AppType": "JupyterLab"},
    )
    # payments: its one profile and its shared space follow defaults that are on.
    p["payments"] = UserProfileFactory(domain=payments, name="dan")
    s["payments-shared"] = SpaceFactory(
        domain=payments, name="fraud", sharing_type="Shared", owner_profile=p["payments"]
    )
    p["elsewhere"] = UserProfileFactory(domain=elsewhere, name="eve")

    a = world.apps
    hours = timedelta(hours=1)
    # research, policy default 24 h: GPU idle 50 h (1.408 x 50 = 70.40), CPU idle 30 h without user signal (0.05 x 30
    # = 1.50), an unpriced type idle 48 h, one busy 5 h ago, one pending, a system app.
    a["gpu"] = AppFactory(
        domain=research,
        user_profile=p["on"],
        name="gpu-kernel",
        instance_type="ml.g5.xlarge",
        aws_created_at=now - 100 * hours,
        last_user_activity=now - 50 * hours,
    )
    a["cpu"] = AppFactory(
        domain=research,
        user_profile=None,
        user_profile_name="",
        space=s["shared"],
        space_name="team",
        name="team-lab",
        arn=f"{research.arn.replace(':domain/', ':app/')}/team/jupyterlab/team-lab",
        instance_type="ml.t3.medium",
        aws_created_at=now - 30 * hours - timedelta(minutes=10),
        last_user_activity=None,
    )
    a["unpriced"] = AppFactory(
        domain=research,
        user_profile=p["lab-off"],
        name="big-memory",
        instance_type="ml.r5.large",
        aws_created_at=now - 48 * hours,
    )
    a["busy"] = AppFactory(
        domain=research,
        user_profile=p["lab-off"],
        name="busy",
        aws_created_at=now - 72 * hours,
        last_user_activity=now - 5 * hours,
    )
    a["pending"] = AppFactory(
        domain=research, user_profile=p["lab-off"], name="starting", status="Pending", aws_created_at=now - 72 * hours
    )
    a["system"] = AppFactory(
        domain=research, user_profile=p["on"], name="default", instance_type="system", aws_created_at=now - 99 * hours
    )
    # payments (eu-west-1, prices x 1.11): ml.t3.medium idle 40 h = 0.0555 x 40 = 2.22.
    a["payments"] = AppFactory(
        domain=payments,
        user_profile=p["payments"],
        name="eu-lab",
        instance_type="ml.t3.medium",
        aws_created_at=now - 80 * hours,
        last_user_activity=now - 40 * hours,
    )
    a["elsewhere"] = AppFactory(
        domain=elsewhere, user_profile=p["elsewhere"], name="far", aws_created_at=now - 90 * hours
    )

    # findings: research 2 high (one the scientist's), 1 medium, 1 low, 1 accepted, 1 resolved; payments 1 medium.
    f = world.findings
    f["high-old"] = finding(
        research,
        "old",
        "high",
        days_old=30,
        check_id="SE-01",
        resource_kind="domain",
        resource_arn=research.arn,
        resource_name="research",
    )
    f["high-sci"] = finding(research, "ana", "high", days_old=3, owner=users["scientist"], resource_arn=p["on"].arn)
    f["medium"] = finding(research, "ben", "medium", days_old=40, resource_arn=p["lab-off"].arn, owner=users["lead"])
    f["low"] = finding(
        research,
        "low",
        "low",
        days_old=60,
        check_id="TG-03",
        resource_kind="domain",
        resource_arn=research.arn + "#tags",
        resource_name="research",
    )
    f["accepted"] = finding(research, "acc", "high", "accepted", days_old=5)
    f["resolved"] = finding(research, "res", "high", "resolved", days_old=9)
    f["payments"] = finding(payments, "pay", "medium", days_old=2)
    f["elsewhere"] = finding(elsewhere, "far", "high", days_old=100)

    # snapshots: research on day -120 (outside the window), -89 (its first day), -10 and today; payments today.
    today = world.today
    snapshot(research, today - timedelta(days=120), 9, 9, 9, classic_profiles=12, classic_apps_running=8)
    snapshot(research, today - timedelta(days=89), 5, 4, 2, accepted=0, classic_profiles=6, classic_apps_running=3)
    snapshot(research, today - timedelta(days=10), 3, 2, 1, accepted=1, classic_profiles=2, classic_apps_running=1)
    snapshot(research, today, 2, 1, 1, accepted=1, classic_profiles=1, classic_apps_running=0)
    snapshot(payments, today, 0, 1, 0, classic_profiles=0, classic_apps_running=0)
    snapshot(elsewhere, today, 1, 0, 0, classic_profiles=4, classic_apps_running=4)
    return world
