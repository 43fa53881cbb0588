"""The governance checks of GOVERNANCE.md section 3 that read the inventory (ID-01, ID-02, ID-04, ID-05, UX-01..03,
CO-01..05, SE-01..04, TG-03), registered from :class:`governance.apps.GovernanceConfig`.

Each is a plain function over one domain's :class:`governance.inventory.DomainInventory` yielding
:class:`portal.registry.Found` with its evidence; the engine turns them into findings.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from governance.inventory import DomainInventory
from portal.registry import Check, Evidence, Found
from profiles import effective
from profiles.services import OWNER_TAG_KEYS

DOCS = "https://docs.aws.amazon.com/sagemaker/latest/dg/"
APIREF = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/"
GENERIC_NAME = re.compile(r"^(team|shared|test|admin)[-_.]|^default-\d+$", re.IGNORECASE)
CLASSIC_APP_TYPES = ("JupyterServer", "KernelGateway")
STUDIO_TAGS = {"profile": "sagemaker:domain-arn", "space": "sagemaker:domain-arn"}


def _ev(setting: effective.Setting) -> Evidence:
    return Evidence(setting.path, setting.value, setting.source)


def _owner_tag(profile: Any) -> str:
    tags = profile.tags or {}
    return next((tags[k] for k in OWNER_TAG_KEYS if tags.get(k)), "")


# -- identity ---------------------------------------------------------------------------------------------------
def id01_generic_profiles(inv: DomainInventory) -> Iterator[Found]:
    for profile in inv.profiles:
        generic = bool(GENERIC_NAME.search(profile.name))
        person = profile.person_id or profile.owner_id or _owner_tag(profile) or profile.sso_user_value
        if not generic and person:
            continue
        evidence = [
            Evidence("UserProfileName", profile.name, "DescribeUserProfile"),
            Evidence("person", str(profile.person) if profile.person_id else None, "the people directory"),
            Evidence("owner", profile.owner.username if profile.owner else None, "the portal's people"),
            Evidence("tags.owner", _owner_tag(profile) or None, "ListTags"),
            Evidence("SingleSignOnUserValue", profile.sso_user_value or None, "DescribeUserProfile"),
        ]
        why = "has a generic or shared name" if generic else "has no single person behind it"
        yield Found(profile, "profile", f"Profile {profile.name} {why}.", tuple(evidence))


def _person_key(profile: Any) -> str:
    if profile.person_id:
        return f"directory:{profile.person_id}"
    if profile.owner_id:
        return f"user:{profile.owner_id}"
    person = (_owner_tag(profile) or profile.sso_user_value or "").strip().lower()
    return f"person:{person}" if person else ""


def id03_sso_binding(inv: DomainInventory) -> Iterator[Found]:
    """SSO profiles bound to no current Identity Center user (a leaver), or several profiles bound to one user. Only
    once the directory listed Identity Center (else nobody is judged by it)."""
    from domains.models import IdentityCenterUser

    if inv.domain.auth_mode != "SSO" or not IdentityCenterUser.objects.exists():
        return
    current = {
        name.lower()
        for name in IdentityCenterUser.objects.filter(removed_at__isnull=True).values_list("user_name", flat=True)
    }
    bound: dict[str, list[Any]] = defaultdict(list)
    for profile in inv.all_profiles or ():
        if profile.sso_user_value:
            bound[profile.sso_user_value.lower()].append(profile)
    for profile in inv.profiles:
        value = profile.sso_user_value
        if not value:
            continue
        evidence = [Evidence("SingleSignOnUserValue", value, "DescribeUserProfile")]
        problems = []
        if value.lower() not in current:
            evidence.append(Evidence("Identity Center user", None, "identitystore ListUsers (the people directory)"))
            problems.append(f"is bound to {value}, who is not a current Identity Center user (a leaver?)")
        others = sorted(p.name for p in bound[value.lower()] if p.pk != profile.pk)
        if others:
            evidence.append(Evidence("other profiles", others, "ListUserProfiles"))
            problems.append(f"shares its SSO user {value} with {', '.join(others)}")
        if problems:
            yield Found(profile, "profile", f"Profile {profile.name} {' and '.join(problems)}.", tuple(evidence))


def id02_duplicate_profiles(inv: DomainInventory) -> Iterator[Found]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for profile in inv.all_profiles or ():  # a changed profile is a duplicate of any other, changed or not
        keys = {f"name:{profile.name.lower()}"}
        if _person_key(profile):
            keys.add(_person_key(profile))
        for key in keys:
            groups[key].append(profile)
    flagged: dict[int, tuple[str, list[Any]]] = {}
    for key, profiles in groups.items():
        if len(profiles) > 1:
            for profile in profiles:
                flagged.setdefault(profile.pk, (key, profiles))
    for profile in inv.profiles:
        if profile.pk not in flagged:
            continue
        key, group = flagged[profile.pk]
        others = sorted(p.name for p in group if p.pk != profile.pk)
        person = (
            str(profile.person)
            if profile.person_id
            else profile.owner.username
            if profile.owner
            else key.partition(":")[2]
        )
        yield Found(
            profile,
            "profile",
            f"{person} has {len(group)} profiles in {inv.domain.name}: {profile.name}, {', '.join(others)}.",
            (
                Evidence("person", person, "the portal's people" if profile.owner_id else "owner tag / SSO user"),
                Evidence("other profiles", others, "ListUserProfiles (names compared case-insensitively)"),
            ),
        )


def id04_iam_on_regulated(inv: DomainInventory) -> Iterator[Found]:
    domain = inv.domain
    if domain.auth_mode == "IAM" and inv.policy.is_regulated():
        yield Found(
            domain,
            "domain",
            f"{domain.name} uses IAM authentication but belongs to a regulated line of business.",
            (
                Evidence("AuthMode", domain.auth_mode, "DescribeDomain"),
                Evidence("regulated", True, f"governance policy ({inv.policy.get_regulated_display()})"),
                Evidence("tags.data-classification", (domain.tags or {}).get("data-classification"), "ListTags"),
            ),
        )


def id05_execution_identity(inv: DomainInventory) -> Iterator[Found]:
    config = (inv.domain.settings_snapshot.get("DomainSettings") or {}).get("ExecutionRoleIdentityConfig")
    if config != "USER_PROFILE_NAME":
        yield Found(
            inv.domain,
            "domain",
            "CloudTrail cannot tell this domain's users apart: the execution role's identity is not the profile.",
            (Evidence("DomainSettings.ExecutionRoleIdentityConfig", config or "DISABLED", "DescribeDomain"),),
        )


# -- Studio experience ------------------------------------------------------------------------------------------
def _classic(settings: dict[str, effective.Setting]) -> bool:
    landing = settings["DefaultLandingUri"].value or ""
    return settings["StudioWebPortal"].value != "ENABLED" or not landing.startswith("studio::")


def ux01_classic_landing(inv: DomainInventory) -> Iterator[Found]:
    defaults = effective.profile_settings(inv.domain.settings_snapshot, {})
    if _classic(defaults):
        yield Found(
            inv.domain,
            "domain",
            f"Users of {inv.domain.name} land in Studio Classic, which lost maintenance on 2024-12-31.",
            (_ev(defaults["StudioWebPortal"]), _ev(defaults["DefaultLandingUri"])),
        )
    for profile in inv.profiles:
        settings = inv.profile_settings(profile)
        own = {settings["StudioWebPortal"].source, settings["DefaultLandingUri"].source}
        if _classic(settings) and effective.PROFILE in own:
            yield Found(
                profile,
                "profile",
                f"{profile.name} lands in Studio Classic by its own setting.",
                (_ev(settings["StudioWebPortal"]), _ev(settings["DefaultLandingUri"])),
            )


def ux02_classic_apps(inv: DomainInventory) -> Iterator[Found]:
    for app in inv.apps:
        if app.app_type in CLASSIC_APP_TYPES and app.status == "InService":
            yield Found(
                app,
                "app",
                f"Studio Classic app {app.app_type}/{app.name} of {app.owner_label} is still running.",
                (
                    Evidence("AppType", app.app_type, "DescribeApp"),
                    Evidence("Status", app.status, "DescribeApp"),
                    Evidence("ResourceSpec.InstanceType", app.instance_type, "DescribeApp"),
                ),
            )


def ux03_home_efs(inv: DomainInventory) -> Iterator[Found]:
    snapshot = inv.domain.settings_snapshot
    efs = snapshot.get("HomeEfsFileSystemId")
    defaults = effective.profile_settings(snapshot, {})
    mount = defaults["AutoMountHomeEFS"]
    if efs and not _classic(defaults) and mount.value != "Disabled":
        yield Found(
            inv.domain,
            "domain",
            f"The home EFS {efs} is still mounted in every new-Studio space of {inv.domain.name}.",
            (Evidence("HomeEfsFileSystemId", efs, "DescribeDomain"), _ev(mount)),
        )


# -- cost -------------------------------------------------------------------------------------------------------
def co01_idle_shutdown(inv: DomainInventory) -> Iterator[Found]:
    for profile in inv.profiles:
        settings = inv.profile_settings(profile)
        off = [settings[f"{app}.LifecycleManagement"] for app in effective.APPS]
        off = [s for s in off if s.value != "ENABLED"]
        if off:
            apps = ", ".join(s.path.partition("AppSettings")[0] for s in off)
            yield Found(
                profile, "profile", f"Idle shutdown is not enabled for {profile.name} ({apps}).", tuple(map(_ev, off))
            )
    for space in inv.spaces:
        settings = inv.space_settings(space)
        app = settings["AppType"].value
        state = settings[f"{app}.LifecycleManagement"]
        if state.value != "ENABLED":
            yield Found(
                space,
                "space",
                f"Idle shutdown is not enabled for {space.sharing_type.lower() or 'the'} space {space.name}.",
                (_ev(state), Evidence("SpaceSharingSettings.SharingType", space.sharing_type, "DescribeSpace")),
            )


def co01_severity(found: Found, inv: DomainInventory) -> str:
    resource = found.resource
    if found.kind == "space":
        return "high" if inv.policy.is_gpu(resource.instance_type) else "medium"
    return "high" if resource.pk in inv.gpu_profile_pks else "medium"


def co02_idle_timeout_cap(inv: DomainInventory) -> Iterator[Found]:
    cap = inv.policy.idle_timeout_cap_minutes
    for profile in inv.profiles:
        settings = inv.profile_settings(profile)
        over = []
        for app in effective.APPS:
            if settings[f"{app}.LifecycleManagement"].value != "ENABLED":
                continue  # CO-01's business
            for name in ("IdleTimeoutInMinutes", "MaxIdleTimeoutInMinutes"):
                setting = settings[f"{app}.{name}"]
                if setting.value is not None and int(setting.value) > cap:
                    over.append(setting)
        if over:
            evidence = (*map(_ev, over), Evidence("policy.idle_timeout_cap_minutes", cap, "governance policy"))
            yield Found(profile, "profile", f"{profile.name} may stay idle longer than {cap} minutes.", evidence)


def co03_space_timeout(inv: DomainInventory) -> Iterator[Found]:
    for space in inv.spaces:
        settings = inv.space_settings(space)
        app = settings["AppType"].value
        own = settings[f"{app}.IdleTimeoutInMinutes"]
        ceiling = settings[f"{app}.MaxIdleTimeoutInMinutes"]
        if own.source == effective.SPACE and ceiling.value is not None and int(own.value) > int(ceiling.value):
            yield Found(
                space,
                "space",
                f"Space {space.name} idles {own.value} minutes, above the {ceiling.value} allowed.",
                (_ev(own), _ev(ceiling)),
            )


def _idle_since(app: Any) -> tuple[Any, str]:
    if app.last_user_activity and (not app.aws_created_at or app.last_user_activity > app.aws_created_at):
        return app.last_user_activity, "DescribeApp LastUserActivityTimestamp"
    return app.aws_created_at, "DescribeApp CreationTime (no user signal)"


def _co04_flags(app: Any, limit: timedelta, now: Any) -> bool:
    if app.status != "InService" or not app.instance_type or app.instance_type == "system":
        return False
    since, _source = _idle_since(app)
    return since is not None and now - since >= limit


def co04_activity_wanted(apps: Any, policy: Any, now: Any) -> list[Any]:
    """The apps whose last user activity CO-04 needs read from AWS (DescribeApp) before it runs: the ones the stored
    activity would flag. The sync never reads activity (ListApps lacks it); an app whose stored activity clears it
    is not idle whatever AWS says now."""
    limit = timedelta(hours=policy.app_idle_hours)
    return [app for app in apps if _co04_flags(app, limit, now)]


def co04_idle_apps(inv: DomainInventory) -> Iterator[Found]:
    limit = timedelta(hours=inv.policy.app_idle_hours)
    for app in inv.apps:
        if not _co04_flags(app, limit, inv.now):
            continue
        since, source = _idle_since(app)
        hours = int((inv.now - since).total_seconds() // 3600)
        yield Found(
            app,
            "app",
            f"{app.app_type}/{app.name} on {app.instance_type} has had no user activity for {hours} hours.",
            (
                Evidence("ResourceSpec.InstanceType", app.instance_type, "DescribeApp"),
                Evidence("idle since", since.isoformat(), source),
                Evidence("hours idle", hours, "computed"),
                Evidence("policy.app_idle_hours", inv.policy.app_idle_hours, "governance policy"),
            ),
        )


def gpu_severity(found: Found, inv: DomainInventory) -> str:
    return "high" if inv.policy.is_gpu(getattr(found.resource, "instance_type", "")) else "medium"


def co05_studio_tags(inv: DomainInventory) -> Iterator[Found]:
    for kind, rows in (("profile", inv.profiles), ("space", inv.spaces)):
        key = STUDIO_TAGS[kind]
        for row in rows:
            if not (row.tags or {}).get(key):
                yield Found(
                    row,
                    kind,
                    f"The {kind} {row.name} lacks the {key} tag: domain isolation by tag and spend by domain miss it.",
                    (Evidence(f"tags.{key}", None, "ListTags"),),
                )


# -- security ---------------------------------------------------------------------------------------------------
def se01_public_internet(inv: DomainInventory) -> Iterator[Found]:
    if inv.domain.network_access_type == "PublicInternetOnly":
        yield Found(
            inv.domain,
            "domain",
            f"{inv.domain.name}'s apps reach the internet directly, not through the VPC.",
            (Evidence("AppNetworkAccessType", inv.domain.network_access_type, "DescribeDomain"),),
        )


def se02_kms(inv: DomainInventory) -> Iterator[Found]:
    if not inv.domain.settings_snapshot.get("KmsKeyId"):
        yield Found(
            inv.domain,
            "domain",
            f"{inv.domain.name}'s home EFS is encrypted with an AWS-owned key, not a customer key.",
            (Evidence("KmsKeyId", None, "DescribeDomain"),),
        )


def se03_docker(inv: DomainInventory) -> Iterator[Found]:
    docker = ((inv.domain.settings_snapshot.get("DomainSettings") or {}).get("DockerSettings") or {}).get(
        "EnableDockerAccess"
    )
    if docker == "ENABLED":
        yield Found(
            inv.domain,
            "domain",
            f"Docker access is enabled in {inv.domain.name}'s spaces.",
            (Evidence("DomainSettings.DockerSettings.EnableDockerAccess", docker, "DescribeDomain"),),
        )


def se04_remote_access(inv: DomainInventory) -> Iterator[Found]:
    for space in inv.spaces:
        remote = (space.settings_snapshot or {}).get("RemoteAccess")
        if remote == "ENABLED":
            yield Found(
                space,
                "space",
                f"Space {space.name} can be reached remotely (e.g. from a local IDE).",
                (Evidence("SpaceSettings.RemoteAccess", remote, "DescribeSpace"),),
            )


def tg03_domain_tags(inv: DomainInventory) -> Iterator[Found]:
    domain = inv.domain
    missing = [key for key in inv.policy.required_tags if not (domain.tags or {}).get(key)]
    propagation = domain.tag_propagation or "DISABLED"
    if missing or propagation != "ENABLED":
        problems = []
        if missing:
            problems.append(f"missing tags {', '.join(missing)}")
        if propagation != "ENABLED":
            problems.append("tag propagation is off")
        yield Found(
            domain,
            "domain",
            f"{domain.name}: {'; '.join(problems)}.",
            (
                Evidence("missing tags", missing, "ListTags vs the governance policy"),
                Evidence("TagPropagation", propagation, "DescribeDomain" if domain.tag_propagation else "AWS default"),
            ),
        )


CHECKS = (
    Check(
        "ID-01",
        "Generic or shared user profile",
        "high",
        ("profile",),
        DOCS + "domain-user-profile.html",
        id01_generic_profiles,
        fix="Onboard each person with their own profile, move the spaces, offboard this one.",
    ),
    Check(
        "ID-02",
        "A person with several profiles in one domain",
        "medium",
        ("profile",),
        DOCS + "domain-user-profile.html",
        id02_duplicate_profiles,
        fix="Keep one profile; offboard the others.",
    ),
    Check(
        "ID-03",
        "SSO profile bound to no current Identity Center user, or several profiles bound to one",
        "high",
        ("profile",),
        DOCS + "onboard-sso-users.html",
        id03_sso_binding,
        fix="Offboard the leaver's profile, or rebind (a new profile for the right Identity Center user).",
    ),
    Check(
        "ID-04",
        "IAM authentication on a regulated domain",
        "medium",
        ("domain",),
        DOCS + "onboard-sso-users.html",
        id04_iam_on_regulated,
        fix="Plan a new SSO domain (AuthMode cannot change) and move the users.",
    ),
    Check(
        "ID-05",
        "Execution role identity not per user",
        "medium",
        ("domain",),
        APIREF + "API_DomainSettings.html",
        id05_execution_identity,
        fix="UpdateDomain ExecutionRoleIdentityConfig=USER_PROFILE_NAME (only with no app InService or Pending).",
    ),
    Check(
        "UX-01",
        "Users land in Studio Classic",
        "high",
        ("domain", "profile"),
        DOCS + "studio-updated-migrate.html",
        ux01_classic_landing,
        fixable=True,
        fix="UpdateDomain / UpdateUserProfile: StudioWebPortal ENABLED, DefaultLandingUri studio::.",
    ),
    Check(
        "UX-02",
        "Studio Classic app still running",
        "medium",
        ("app",),
        DOCS + "studio-updated-migrate.html",
        ux02_classic_apps,
        fixable=True,
        fix="DeleteApp (Classic apps can only be stopped).",
    ),
    Check(
        "UX-03",
        "Home EFS still mounted in new Studio",
        "low",
        ("domain",),
        DOCS + "studio-updated-migrate-data.html",
        ux03_home_efs,
        fix="Move the data off EFS, then set AutoMountHomeEFS Disabled.",
    ),
    Check(
        "CO-01",
        "Idle shutdown not enabled",
        co01_severity,
        ("domain", "profile", "space"),
        DOCS + "studio-updated-idle-shutdown-setup.html",
        co01_idle_shutdown,
        fixable=True,
        fix="UpdateDomain / UpdateUserProfile: LifecycleManagement ENABLED with the policy's timeout; running "
        "apps pick it up after a restart.",
    ),
    Check(
        "CO-02",
        "Idle timeout above the policy's cap",
        "medium",
        ("domain", "profile"),
        DOCS + "studio-updated-idle-shutdown-setup.html",
        co02_idle_timeout_cap,
        fixable=True,
        fix="Set Idle = Min = Max = the cap on the domain and on the profiles that override it.",
    ),
    Check(
        "CO-03",
        "Space idle timeout above the allowed maximum",
        "low",
        ("space",),
        DOCS + "studio-updated-idle-shutdown-setup.html",
        co03_space_timeout,
        fixable=True,
        fix="UpdateSpace: the space's idle timeout at the maximum.",
    ),
    Check(
        "CO-04",
        "App running without user activity",
        gpu_severity,
        ("app",),
        DOCS + "studio-updated-running-stop.html",
        co04_idle_apps,
        fixable=True,
        fix="DeleteApp (the space's storage stays).",
    ),
    Check(
        "CO-05",
        "Studio resource without its sagemaker:domain-arn tag",
        "medium",
        ("profile", "space"),
        DOCS + "domain-multiple-backfill.html",
        co05_studio_tags,
        fixable=True,
        fix="AddTags sagemaker:domain-arn (apps get new tags only when relaunched).",
    ),
    Check(
        "SE-01",
        "Domain on the public internet",
        "high",
        ("domain",),
        DOCS + "studio-notebooks-and-internet-access.html",
        se01_public_internet,
        fix="VpcOnly with subnets and security groups (only with no app running).",
    ),
    Check(
        "SE-02",
        "No customer KMS key",
        "medium",
        ("domain",),
        DOCS + "encryption-at-rest-studio.html",
        se02_kms,
        fix="A new domain: the key is set only at CreateDomain.",
    ),
    Check(
        "SE-03",
        "Docker access enabled",
        "medium",
        ("domain",),
        DOCS + "studio-updated-local.html",
        se03_docker,
        fixable=True,
        fix="UpdateDomain DockerSettings.EnableDockerAccess DISABLED.",
    ),
    Check(
        "SE-04",
        "Remote access to a space enabled",
        "medium",
        ("space",),
        DOCS + "remote-access.html",
        se04_remote_access,
        fixable=True,
        fix="UpdateSpace RemoteAccess DISABLED, or deny sagemaker:RemoteAccess.",
    ),
    Check(
        "TG-03",
        "Domain tags missing or not propagated",
        "low",
        ("domain",),
        DOCS + "domain-multiple-tag.html",
        tg03_domain_tags,
        fixable=True,
        fix="AddTags with the required tags; UpdateDomain TagPropagation ENABLED.",
    ),
)
