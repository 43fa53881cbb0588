"""Fix planners: findings of a fixable check turned into the AWS calls of a change set (:class:`PlannedChange`).

Entry point: :func:`plan_fix` ``(findings, *, tag_values=None) -> list[PlannedChange]``, findings of one or more
checks and domains; one change may cover a whole domain (the default) plus the profiles that override it.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.utils import timezone

from changesets.planning import PlannedChange
from governance.inventory import DomainInventory, load
from governance.models import Finding
from portal.pricing import hourly_price
from profiles import effective
from profiles.models import App, UserProfile

HOURS_A_MONTH = Decimal(730)
IDLE_APPS = {"JupyterLab": "JupyterLab", "CodeEditor": "CodeEditor"}


def _idle_block(app: str, values: dict[str, Any]) -> dict[str, Any]:
    return {f"{app}AppSettings": {"AppLifecycleManagement": {"IdleSettings": values}}}


def _merge(into: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


def _running(inv: DomainInventory, app_types: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(a.arn for a in inv.apps if a.status == "InService" and a.app_type in app_types))


def _profiles(inv: DomainInventory, findings: list[Finding]) -> list[UserProfile]:
    arns = {f.resource_arn for f in findings}
    return [p for p in inv.profiles if p.arn in arns]


def _idle_plan(inv: DomainInventory, findings: list[Finding], values: dict[str, Any]) -> list[PlannedChange]:
    """The domain default (user and space settings) set to ``values`` for both apps, plus UpdateUserProfile for
    each flagged profile that overrides a field."""
    domain = inv.domain
    defaults = effective.profile_settings(domain.settings_snapshot, {})
    user_settings: dict[str, Any] = {}
    space_settings: dict[str, Any] = {}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for app in effective.APPS:
        _merge(user_settings, _idle_block(app, dict(values)))
        for name, value in values.items():
            path = "DefaultUserSettings." + effective.idle_path(app, name)
            before[path], after[path] = defaults[f"{app}.{name}"].value, value
    _merge(space_settings, _idle_block("JupyterLab", dict(values)))
    shared = effective.space_settings(domain.settings_snapshot, {"AppType": "JupyterLab"}, shared=True)
    for name, value in values.items():
        path = "DefaultSpaceSettings." + effective.idle_path("JupyterLab", name)
        before[path], after[path] = shared[f"JupyterLab.{name}"].value, value
    restarts = _running(inv, ("JupyterLab", "CodeEditor"))
    changes = [
        PlannedChange(
            "UpdateDomain",
            domain.arn,
            "domain",
            {
                "DomainId": domain.domain_id,
                "DefaultUserSettings": user_settings,
                "DefaultSpaceSettings": space_settings,
            },
            before,
            after,
            restarts=restarts,
        )
    ]
    for profile in _profiles(inv, findings):
        settings = inv.profile_settings(profile)
        request_settings: dict[str, Any] = {}
        p_before: dict[str, Any] = {}
        p_after: dict[str, Any] = {}
        for app in effective.APPS:
            own = {n: v for n, v in values.items() if settings[f"{app}.{n}"].source == effective.PROFILE}
            if own:
                _merge(request_settings, _idle_block(app, own))
                for name, value in own.items():
                    path = "UserSettings." + effective.idle_path(app, name)
                    p_before[path], p_after[path] = settings[f"{app}.{name}"].value, value
        if request_settings:
            changes.append(
                PlannedChange(
                    "UpdateUserProfile",
                    profile.arn,
                    "profile",
                    {"DomainId": domain.domain_id, "UserProfileName": profile.name, "UserSettings": request_settings},
                    p_before,
                    p_after,
                    restarts=tuple(
                        a.arn for a in inv.apps if a.user_profile_id == profile.pk and a.status == "InService"
                    ),
                )
            )
    return changes


def plan_co01(inv: DomainInventory, findings: list[Finding], **_: Any) -> list[PlannedChange]:
    cap = inv.policy.idle_timeout_cap_minutes
    return _idle_plan(inv, findings, {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": cap})


def plan_co02(inv: DomainInventory, findings: list[Finding], **_: Any) -> list[PlannedChange]:
    cap = inv.policy.idle_timeout_cap_minutes
    values = {"IdleTimeoutInMinutes": cap, "MinIdleTimeoutInMinutes": cap, "MaxIdleTimeoutInMinutes": cap}
    return _idle_plan(inv, findings, values)


def plan_ux01(inv: DomainInventory, findings: list[Finding], **_: Any) -> list[PlannedChange]:
    wanted = {"StudioWebPortal": "ENABLED", "DefaultLandingUri": "studio::"}
    domain = inv.domain
    changes = []
    defaults = effective.profile_settings(domain.settings_snapshot, {})
    if any(f.resource_kind == "domain" for f in findings):
        changes.append(
            PlannedChange(
                "UpdateDomain",
                domain.arn,
                "domain",
                {"DomainId": domain.domain_id, "DefaultUserSettings": dict(wanted)},
                {f"DefaultUserSettings.{k}": defaults[k].value for k in wanted},
                {f"DefaultUserSettings.{k}": v for k, v in wanted.items()},
            )
        )
    for profile in _profiles(inv, findings):
        settings = inv.profile_settings(profile)
        changes.append(
            PlannedChange(
                "UpdateUserProfile",
                profile.arn,
                "profile",
                {"DomainId": domain.domain_id, "UserProfileName": profile.name, "UserSettings": dict(wanted)},
                {f"UserSettings.{k}": settings[k].value for k in wanted},
                {f"UserSettings.{k}": v for k, v in wanted.items()},
            )
        )
    return changes


def _delete_app(inv: DomainInventory, app: App, saving: Decimal | None = None) -> PlannedChange:
    request = {"DomainId": inv.domain.domain_id, "AppType": app.app_type, "AppName": app.name}
    if app.space_name:
        request["SpaceName"] = app.space_name
    else:
        request["UserProfileName"] = app.user_profile_name
    return PlannedChange(
        "DeleteApp", app.arn, "app", request, {"Status": app.status}, {"Status": "Deleted"}, monthly_saving=saving
    )


def plan_delete_apps(inv: DomainInventory, findings: list[Finding], **_: Any) -> list[PlannedChange]:
    arns = {f.resource_arn for f in findings}
    changes = []
    for app in inv.apps:
        if app.arn not in arns:
            continue
        saving = None
        if app.instance_type and app.instance_type != "system":
            try:
                saving = (hourly_price(app.instance_type, inv.domain.region) * HOURS_A_MONTH).quantize(Decimal("0.01"))
            except KeyError:
                saving = None
        changes.append(_delete_app(inv, app, saving))
    return changes


def plan_co03(inv: DomainInventory, findings: list[Finding], **_: Any) -> list[PlannedChange]:
    arns = {f.resource_arn for f in findings}
    changes = []
    for space in inv.spaces:
        if space.arn not in arns:
            continue
        settings = inv.space_settings(space)
        app = settings["AppType"].value
        ceiling = settings[f"{app}.MaxIdleTimeoutInMinutes"].value
        path = "SpaceSettings." + effective.idle_path(app, "IdleTimeoutInMinutes")
        changes.append(
            PlannedChange(
                "UpdateSpace",
                space.arn,
                "space",
                {
                    "DomainId": inv.domain.domain_id,
                    "SpaceName": space.name,
                    "SpaceSettings": _idle_block(app, {"IdleTimeoutInMinutes": int(ceiling)}),
                },
                {path: settings[f"{app}.IdleTimeoutInMinutes"].value},
                {path: int(ceiling)},
                restarts=tuple(a.arn for a in inv.apps if a.space_id == space.pk and a.status == "InService"),
            )
        )
    return changes


def plan_co05(inv: DomainInventory, findings: list[Finding], **_: Any) -> list[PlannedChange]:
    key = "sagemaker:domain-arn"
    return [
        PlannedChange(
            "AddTags",
            f.resource_arn,
            f.resource_kind,
            {"ResourceArn": f.resource_arn, "Tags": [{"Key": key, "Value": inv.domain.arn}]},
            {f"tags.{key}": None},
            {f"tags.{key}": inv.domain.arn},
        )
        for f in findings
        if f.resource_kind in ("profile", "space")
    ]


def plan_se03(inv: DomainInventory, findings: list[Finding], **_: Any) -> list[PlannedChange]:
    path = "DomainSettings.DockerSettings.EnableDockerAccess"
    return [
        PlannedChange(
            "UpdateDomain",
            inv.domain.arn,
            "domain",
            {
                "DomainId": inv.domain.domain_id,
                "DomainSettingsForUpdate": {"DockerSettings": {"EnableDockerAccess": "DISABLED"}},
            },
            {path: "ENABLED"},
            {path: "DISABLED"},
        )
    ]


def plan_se04(inv: DomainInventory, findings: list[Finding], **_: Any) -> list[PlannedChange]:
    arns = {f.resource_arn for f in findings}
    return [
        PlannedChange(
            "UpdateSpace",
            s.arn,
            "space",
            {"DomainId": inv.domain.domain_id, "SpaceName": s.name, "SpaceSettings": {"RemoteAccess": "DISABLED"}},
            {"SpaceSettings.RemoteAccess": "ENABLED"},
            {"SpaceSettings.RemoteAccess": "DISABLED"},
            restarts=tuple(a.arn for a in inv.apps if a.space_id == s.pk and a.status == "InService"),
        )
        for s in inv.spaces
        if s.arn in arns
    ]


def plan_tg03(
    inv: DomainInventory, findings: list[Finding], *, tag_values: dict[str, str] | None = None, **_: Any
) -> list[PlannedChange]:
    domain = inv.domain
    changes = []
    missing = [k for k in inv.policy.required_tags if not (domain.tags or {}).get(k)]
    values = {k: v for k, v in (tag_values or {}).items() if k in missing and v}
    if values:
        changes.append(
            PlannedChange(
                "AddTags",
                domain.arn,
                "domain",
                {"ResourceArn": domain.arn, "Tags": [{"Key": k, "Value": v} for k, v in sorted(values.items())]},
                {f"tags.{k}": None for k in values},
                {f"tags.{k}": v for k, v in values.items()},
            )
        )
    if (domain.tag_propagation or "DISABLED") != "ENABLED":
        changes.append(
            PlannedChange(
                "UpdateDomain",
                domain.arn,
                "domain",
                {"DomainId": domain.domain_id, "TagPropagation": "ENABLED"},
                {"TagPropagation": domain.tag_propagation or "DISABLED"},
                {"TagPropagation": "ENABLED"},
            )
        )
    return changes


PLANNERS = {
    "UX-01": plan_ux01,
    "UX-02": plan_delete_apps,
    "CO-01": plan_co01,
    "CO-02": plan_co02,
    "CO-03": plan_co03,
    "CO-04": plan_delete_apps,
    "CO-05": plan_co05,
    "SE-03": plan_se03,
    "SE-04": plan_se04,
    "TG-03": plan_tg03,
}


def plan_fix(findings: list[Finding], *, tag_values: dict[str, str] | None = None) -> list[PlannedChange]:
    """The AWS calls that fix these live findings, grouped per domain and check. A finding of a check without a
    planner is refused (ValueError) rather than silently skipped."""
    unplannable = sorted({f.check_id for f in findings if f.check_id not in PLANNERS})
    if unplannable:
        raise ValueError(f"No change set can fix {', '.join(unplannable)}; see the finding's fix text.")
    groups: dict[tuple[int, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.status != Finding.Status.RESOLVED:
            groups[(finding.domain_id, finding.check_id)].append(finding)
    domains = {f.domain_id: f.domain for f in findings}
    inventories = {inv.domain.pk: inv for inv in load(list(domains.values()), timezone.now())}
    changes: list[PlannedChange] = []
    for (domain_pk, check_id), items in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        changes.extend(PLANNERS[check_id](inventories[domain_pk], items, tag_values=tag_values))
    return changes
