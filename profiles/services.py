"""The one writer of the inventory's user profiles, spaces and apps.

The sync stores what a domain's listing said through :func:`store_members`; onboarding stores what it created in
AWS through :func:`store_profile` and :func:`store_space` (the same upsert by ARN, from the same describe answers)
and marks what it deleted through :func:`mark_deleted`. Nobody else writes these rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from domains.models import Domain
from domains.signals import resources_changed
from domains.upsert import jsonable, upsert_by_arn
from portal.aws import tally
from profiles.models import App, Space, UserProfile

OWNER_TAG_KEYS = ("owner", "Owner", "portal:owner")


class Listing:
    """What AWS said about one domain's members: every listed ARN and the fresh values of the described ones."""

    def __init__(self) -> None:
        self.profile_arns: list[str] = []
        self.profiles: dict[str, dict[str, Any]] = {}
        self.space_arns: list[str] = []
        self.spaces: dict[str, dict[str, Any]] = {}
        self.space_owner: dict[str, str] = {}
        self.app_arns: list[str] = []
        self.apps: dict[str, dict[str, Any]] = {}
        self.calls_by_kind: dict[str, int] = {}  # the AWS calls (attempts) made for each kind of member
        self.note = ""  # for the run: e.g. that the tagging API was refused and ListTags was used instead

    @contextlib.contextmanager
    def counting(self, kind: str) -> Iterator[None]:
        """Count the AWS calls made inside the block as ``kind``'s (listing, describes and tag pages alike)."""
        with tally() as calls:
            try:
                yield
            finally:
                self.calls_by_kind[kind] = self.calls_by_kind.get(kind, 0) + sum(calls.made().values())


def _idle(settings: dict[str, Any]) -> tuple[str, int | None]:
    """Idle shutdown of JupyterLab (the default app of new Studio), or Code Editor when JupyterLab says nothing."""
    for key in ("JupyterLabAppSettings", "CodeEditorAppSettings"):
        idle = settings.get(key, {}).get("AppLifecycleManagement", {}).get("IdleSettings", {})
        if idle:
            return idle.get("LifecycleManagement", ""), idle.get("IdleTimeoutInMinutes")
    return "", None


def profile_values(answer: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
    user_settings = answer.get("UserSettings", {})
    portal = user_settings.get("StudioWebPortalSettings", {})
    idle, timeout = _idle(user_settings)
    return {
        "name": answer["UserProfileName"],
        "status": answer.get("Status", ""),
        "execution_role": user_settings.get("ExecutionRole", ""),
        "landing_uri": user_settings.get("DefaultLandingUri", ""),
        "studio_web_portal": user_settings.get("StudioWebPortal", ""),
        "hidden_app_types": portal.get("HiddenAppTypes", []),
        "hidden_ml_tools": portal.get("HiddenMlTools", []),
        "hidden_instance_types": portal.get("HiddenInstanceTypes", []),
        "idle_shutdown": idle,
        "idle_timeout_minutes": timeout,
        "sso_user_value": answer.get("SingleSignOnUserValue", ""),
        "tags": tags,
        "settings_snapshot": jsonable(user_settings),
        "aws_created_at": answer.get("CreationTime"),
        "aws_modified_at": answer.get("LastModifiedTime"),
    }


def space_values(answer: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
    space_settings = answer.get("SpaceSettings", {})
    app_type = space_settings.get("AppType", "")
    app_settings = space_settings.get("JupyterLabAppSettings") or space_settings.get("CodeEditorAppSettings") or {}
    idle = app_settings.get("AppLifecycleManagement", {}).get("IdleSettings", {})
    resource = app_settings.get("DefaultResourceSpec", {})
    ebs = space_settings.get("SpaceStorageSettings", {}).get("EbsStorageSettings", {})
    return {
        "name": answer["SpaceName"],
        "display_name": answer.get("SpaceDisplayName", ""),
        "sharing_type": answer.get("SpaceSharingSettings", {}).get("SharingType", ""),
        "owner_profile_name": answer.get("OwnershipSettings", {}).get("OwnerUserProfileName", ""),
        "app_type": app_type,
        "instance_type": resource.get("InstanceType", ""),
        "ebs_size_gb": ebs.get("EbsVolumeSizeInGb"),
        "idle_timeout_minutes": idle.get("IdleTimeoutInMinutes"),
        "status": answer.get("Status", ""),
        "tags": tags,
        "settings_snapshot": jsonable(space_settings),
        "aws_created_at": answer.get("CreationTime"),
        "aws_modified_at": answer.get("LastModifiedTime"),
    }


def app_values(summary: dict[str, Any], tags: dict[str, str]) -> dict[str, Any]:
    """An app as ListApps lists it: everything the inventory keeps except the last user activity, which only
    DescribeApp tells (:func:`store_app_activity`)."""
    return {
        "user_profile_name": summary.get("UserProfileName", ""),
        "space_name": summary.get("SpaceName", ""),
        "app_type": summary["AppType"],
        "name": summary["AppName"],
        "status": summary.get("Status", ""),
        "instance_type": summary.get("ResourceSpec", {}).get("InstanceType", ""),
        "aws_created_at": summary.get("CreationTime"),
        "tags": tags,
    }


def store_app_activity(answers: dict[int, dict[str, Any]], *, at: datetime) -> int:
    """Store what DescribeApp said about these apps (by pk): their last user activity and status. The number
    whose activity changed."""
    apps = list(App.objects.filter(pk__in=answers))
    changed = []
    for app in apps:
        answer = answers[app.pk]
        activity = answer.get("LastUserActivityTimestamp")
        if activity != app.last_user_activity or answer.get("Status", app.status) != app.status:
            app.last_user_activity = activity
            app.status = answer.get("Status", app.status)
            app.last_changed = at
            changed.append(app)
        app.activity_read_at = at
    App.objects.bulk_update(apps, ["last_user_activity", "status", "last_changed", "activity_read_at"], batch_size=500)
    by_domain: dict[int, list[str]] = {}
    for app in changed:
        by_domain.setdefault(app.domain_id, []).append(app.arn)
    for domain_pk, arns in by_domain.items():
        _changed(domain_pk, arns)
    return len(changed)


# -- storing ----------------------------------------------------------------------------------------------------
def owners_of(profiles: dict[str, dict[str, Any]]) -> dict[str, int | None]:
    """The person behind each described profile: an owner tag, else the SSO user name, matched to a login."""
    wanted: dict[str, str] = {}
    for arn, values in profiles.items():
        tag = next((values["tags"][k] for k in OWNER_TAG_KEYS if values["tags"].get(k)), "")
        if tag or values["sso_user_value"]:
            wanted[arn] = (tag or values["sso_user_value"]).strip().lower()
    if not wanted:
        return {arn: None for arn in profiles}
    names = set(wanted.values())
    users = (
        get_user_model()
        .objects.filter(Q(username__in=names) | Q(email__in=names))
        .values_list("pk", "username", "email")
    )
    by_name: dict[str, int] = {}
    for pk, username, email in users:
        by_name.setdefault(username.lower(), pk)
        if email:
            by_name.setdefault(email.lower(), pk)
    return {arn: by_name.get(wanted.get(arn, "")) for arn in profiles}


def store_members(domain: Domain, listing: Listing) -> dict[str, dict[str, int]]:
    """Upsert what a completed listing of the domain's members said (the sync's step); counts per resource."""
    now = timezone.now()
    owners = owners_of(listing.profiles)
    profile_rows = {
        arn: {**values, "domain_id": domain.pk, "owner_id": owners.get(arn)} for arn, values in listing.profiles.items()
    }
    profiles = upsert_by_arn(
        UserProfile,
        UserProfile.objects.filter(domain=domain),
        described=profile_rows,
        listed=listing.profile_arns,
        now=now,
        complete=True,
    )
    # Every listed profile, new ones included (bulk_create set their pk): what spaces and apps link to.
    profile_by_name = {p.name: p.pk for p in profiles.objects.values()}
    space_rows = {}
    for arn, values in listing.spaces.items():
        owner = profile_by_name.get(values["owner_profile_name"])
        space_rows[arn] = {**values, "domain_id": domain.pk, "owner_profile_id": owner}
    spaces = upsert_by_arn(
        Space,
        Space.objects.filter(domain=domain),
        described=space_rows,
        listed=listing.space_arns,
        now=now,
        complete=True,
    )
    space_by_name = {s.name: s.pk for s in spaces.objects.values()}
    app_rows = {}
    for arn, values in listing.apps.items():
        profile = profile_by_name.get(values["user_profile_name"]) if values["user_profile_name"] else None
        space = space_by_name.get(values["space_name"]) if values["space_name"] else None
        app_rows[arn] = {**values, "domain_id": domain.pk, "user_profile_id": profile, "space_id": space}
    apps = upsert_by_arn(
        App, App.objects.filter(domain=domain), described=app_rows, listed=listing.app_arns, now=now, complete=True
    )
    _changed(domain.pk, [*profiles.changed, *spaces.changed, *apps.changed])
    return {"user_profiles": profiles.counts(), "spaces": spaces.counts(), "apps": apps.counts()}


def _changed(domain_pk: int, arns: list[str]) -> None:
    """Tell listeners (:data:`domains.signals.resources_changed`) which stored resources AWS described anew."""
    if arns:
        resources_changed.send(sender=UserProfile, domain_pk=domain_pk, arns=arns)


def _store_one(model: type[Any], arn: str, values: dict[str, Any]) -> Any:
    """Create or update one row from a fresh description, the way the sync does (and clear a removal mark)."""
    result = upsert_by_arn(
        model, model.objects.filter(arn=arn), described={arn: values}, listed=[arn], now=timezone.now(), complete=False
    )
    _changed(values["domain_id"], [arn])
    return result.objects[arn]


def store_profile(domain: Domain, answer: dict[str, Any], tags: dict[str, str], *, owner: Any) -> UserProfile:
    """A user profile the portal created (or adopted), from its DescribeUserProfile answer and tags."""
    values = {**profile_values(answer, tags), "domain_id": domain.pk, "owner_id": owner.pk if owner else None}
    return _store_one(UserProfile, answer["UserProfileArn"], values)


def store_space(
    domain: Domain, answer: dict[str, Any], tags: dict[str, str], *, owner_profile: UserProfile | None
) -> Space:
    """A space the portal created, adopted or changed, from its DescribeSpace answer and tags."""
    values = {
        **space_values(answer, tags),
        "domain_id": domain.pk,
        "owner_profile_id": owner_profile.pk if owner_profile else None,
    }
    return _store_one(Space, answer["SpaceArn"], values)


def mark_deleted(model: type[UserProfile | Space | App], arn: str) -> None:
    """A profile, space or app the portal deleted in AWS: kept in the inventory, with its history, as deleted.
    Profiles and spaces are marked removed too; an app is removed by the next sync's listing."""
    if not arn:
        return
    row = model.objects.filter(arn=arn).values("domain_id").first()
    if model is App:
        App.objects.filter(arn=arn).update(status="Deleted")
    else:
        model.objects.filter(arn=arn, removed_at__isnull=True).update(status="Deleted", removed_at=timezone.now())
    if row is not None:
        _changed(row["domain_id"], [arn])


def remove_members_of_domains(domain_pks: list[int], *, at: datetime) -> None:
    """Domains that are gone take their profiles, spaces and apps with them (kept, marked removed)."""
    for model in (UserProfile, Space, App):
        model.objects.filter(domain_id__in=domain_pks, removed_at__isnull=True).update(removed_at=at)
