"""The inventory sync, members side: one domain's user profiles, spaces and apps.

Listings use the largest page AWS allows; only what is new or changed according to the listing (LastModifiedTime,
Status) is described. Upserts are in bulk and write only changed rows. A listing that did not complete marks
nothing removed.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from domains.models import Domain
from domains.signals import domains_removed, member_sync_requested
from domains.sync import claim_domain, release_domain
from domains.upsert import jsonable, upsert_by_arn
from portal import runs
from portal.aws import gateway, list_all_tags, paginate, with_retries
from profiles.models import App, Space, UserProfile

OWNER_TAG_KEYS = ("owner", "Owner", "portal:owner")


def step_name(domain: Domain) -> str:
    return f"members of {domain.domain_id}"


def sync_domain_members(run_id: int, domain_pk: int, *, final_attempt: bool = True) -> None:
    domain = Domain.objects.select_related("account").filter(pk=domain_pk).first()
    if domain is None:
        runs.finish_step(run_id, scope=f"domain #{domain_pk}", error="The domain left the inventory.")
        return
    scope = step_name(domain)
    holder = claim_domain(run_id, domain.pk)
    if holder is not None:
        note = f"{domain.name} was being synced by run #{holder}; this run joined that sync instead of doubling it."
        runs.finish_step(run_id, scope=scope, note=note)
        return
    completed = False
    try:
        with runs.recorded_step(run_id, scope, final_attempt=final_attempt) as calls:
            listing = _fetch(domain)
            with transaction.atomic():
                counts = _store(domain, listing)
                runs.finish_step(run_id, scope=scope, counts=counts, calls=calls, message=f"Synced {domain.name}")
            completed = True
    finally:
        release_domain(run_id, domain.pk, completed=completed)


@receiver(member_sync_requested, dispatch_uid="profiles.sync_members_inline")
def _sync_members_inline(sender: Any, run_id: int, domain_pk: int, **kwargs: Any) -> None:
    with_retries(sync_domain_members, run_id, domain_pk)


@receiver(domains_removed, dispatch_uid="profiles.members_of_removed_domains")
def _remove_members_of_removed_domains(sender: Any, domain_pks: list[int], at: Any, **kwargs: Any) -> None:
    """A domain that is gone takes its profiles, spaces and apps with it (kept, marked removed)."""
    for model in (UserProfile, Space, App):
        model.objects.filter(domain_id__in=domain_pks, removed_at__isnull=True).update(removed_at=at)


# -- fetching ---------------------------------------------------------------------------------------------------
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


def _arn(domain: Domain, kind: str, *parts: str) -> str:
    return f"arn:aws:sagemaker:{domain.region}:{domain.account.account_id}:{kind}/{domain.domain_id}/" + "/".join(parts)


def app_arn(domain: Domain, owner_name: str, app_type: str, app_name: str) -> str:
    """AWS writes the app type in lower case in app ARNs; one spelling keeps the inventory's key stable."""
    return _arn(domain, "app", owner_name, app_type.lower(), app_name)


def _changed(stored: Any, summary: dict[str, Any], modified_key: str = "LastModifiedTime") -> bool:
    if stored is None or stored.removed_at is not None:
        return True
    if stored.status != summary.get("Status"):
        return True
    return modified_key is not None and stored.aws_modified_at != summary.get(modified_key)


def _fetch(domain: Domain) -> Listing:
    client = gateway().sagemaker(region=domain.region, account=domain.account.access)
    listing = Listing()
    stored_profiles = {
        p.arn: p
        for p in UserProfile.objects.filter(domain=domain).only("arn", "status", "aws_modified_at", "removed_at")
    }
    for summary in paginate(client, "list_user_profiles", "UserProfiles", DomainIdEquals=domain.domain_id):
        arn = _arn(domain, "user-profile", summary["UserProfileName"])
        listing.profile_arns.append(arn)
        if _changed(stored_profiles.get(arn), summary):
            answer = client.describe_user_profile(DomainId=domain.domain_id, UserProfileName=summary["UserProfileName"])
            listing.profiles[arn] = profile_values(answer, list_all_tags(client, answer["UserProfileArn"]))

    stored_spaces = {
        s.arn: s for s in Space.objects.filter(domain=domain).only("arn", "status", "aws_modified_at", "removed_at")
    }
    for summary in paginate(client, "list_spaces", "Spaces", DomainIdEquals=domain.domain_id):
        arn = _arn(domain, "space", summary["SpaceName"])
        listing.space_arns.append(arn)
        if _changed(stored_spaces.get(arn), summary):
            answer = client.describe_space(DomainId=domain.domain_id, SpaceName=summary["SpaceName"])
            listing.spaces[arn] = space_values(answer, list_all_tags(client, answer["SpaceArn"]))

    stored_apps = {a.arn: a for a in App.objects.filter(domain=domain).only("arn", "status", "removed_at")}
    for summary in paginate(client, "list_apps", "Apps", DomainIdEquals=domain.domain_id):
        owner = summary.get("UserProfileName") or summary.get("SpaceName") or ""
        arn = app_arn(domain, owner, summary["AppType"], summary["AppName"])
        listing.app_arns.append(arn)
        stored = stored_apps.get(arn)
        if stored is None or stored.removed_at is not None or stored.status != summary.get("Status"):
            params = {"DomainId": domain.domain_id, "AppType": summary["AppType"], "AppName": summary["AppName"]}
            if summary.get("SpaceName"):
                params["SpaceName"] = summary["SpaceName"]
            else:
                params["UserProfileName"] = summary.get("UserProfileName", "")
            listing.apps[arn] = _app_values(client.describe_app(**params))
    return listing


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


def _app_values(answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "user_profile_name": answer.get("UserProfileName", ""),
        "space_name": answer.get("SpaceName", ""),
        "app_type": answer["AppType"],
        "name": answer["AppName"],
        "status": answer.get("Status", ""),
        "instance_type": answer.get("ResourceSpec", {}).get("InstanceType", ""),
        "aws_created_at": answer.get("CreationTime"),
        "last_user_activity": answer.get("LastUserActivityTimestamp"),
    }


# -- storing ----------------------------------------------------------------------------------------------------
def _owners(profiles: dict[str, dict[str, Any]]) -> dict[str, int | None]:
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


def _store(domain: Domain, listing: Listing) -> dict[str, dict[str, int]]:
    now = timezone.now()
    owners = _owners(listing.profiles)
    profile_values = {
        arn: {**values, "domain_id": domain.pk, "owner_id": owners.get(arn)} for arn, values in listing.profiles.items()
    }
    profiles = upsert_by_arn(
        UserProfile,
        UserProfile.objects.filter(domain=domain),
        described=profile_values,
        listed=listing.profile_arns,
        now=now,
        complete=True,
    )
    # Every listed profile, new ones included (bulk_create set their pk): what spaces and apps link to.
    profile_by_name = {p.name: p.pk for p in profiles.objects.values()}
    space_values = {}
    for arn, values in listing.spaces.items():
        owner = profile_by_name.get(values["owner_profile_name"])
        space_values[arn] = {**values, "domain_id": domain.pk, "owner_profile_id": owner}
    spaces = upsert_by_arn(
        Space,
        Space.objects.filter(domain=domain),
        described=space_values,
        listed=listing.space_arns,
        now=now,
        complete=True,
    )
    space_by_name = {s.name: s.pk for s in spaces.objects.values()}
    app_values = {}
    for arn, values in listing.apps.items():
        profile = profile_by_name.get(values["user_profile_name"]) if values["user_profile_name"] else None
        space = space_by_name.get(values["space_name"]) if values["space_name"] else None
        app_values[arn] = {
            **values,
            "domain_id": domain.pk,
            "user_profile_id": profile,
            "space_id": space,
        }
    apps = upsert_by_arn(
        App, App.objects.filter(domain=domain), described=app_values, listed=listing.app_arns, now=now, complete=True
    )
    return {"user_profiles": profiles.counts(), "spaces": spaces.counts(), "apps": apps.counts()}
