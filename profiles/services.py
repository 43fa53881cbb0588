"""The one writer of the inventory's user profiles, spaces and apps.

The sync stores what a domain's listing said through :func:`store_members`; onboarding stores what it created in
AWS through :func:`store_profile` and :func:`store_space` (the same upsert by ARN, from the same describe answers)
and marks what it deleted through :func:`mark_deleted`. Nobody else writes these rows.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from domains import people
from domains.models import Domain, IdentityCenterUser, Person, PersonMatch
from domains.signals import resources_changed
from domains.upsert import jsonable, upsert_by_arn
from portal.aws import tally
from profiles.models import App, PersonSource, Space, UserProfile

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
    if profiles.changed:
        link_people(UserProfile.objects.filter(arn__in=profiles.changed))
        people.refresh_statuses()
    _changed(domain.pk, [*profiles.changed, *spaces.changed, *apps.changed])
    return {"user_profiles": profiles.counts(), "spaces": spaces.counts(), "apps": apps.counts()}


def owner_tag(tags: dict[str, str]) -> str:
    return next((tags[k].strip() for k in OWNER_TAG_KEYS if (tags.get(k) or "").strip()), "")


def link_people(profiles: Any = None, *, index: people.Index | None = None) -> dict[str, int]:
    """Tie profiles to their person: an admin's link stays; else the SSO binding (an Identity Center user of that
    name), else the owner tag (an email or a user name; a new person when nobody matches). Ambiguous ones stay
    unlinked and are listed for an admin (:class:`domains.models.PersonMatch`). The profile's portal owner follows
    the person's login."""
    if profiles is None:
        profiles = UserProfile.objects.all()
    rows = list(profiles.exclude(person_source=PersonSource.ADMIN).select_related("domain"))
    if index is None:  # the people these profiles' owner tags can name, not the whole directory
        tags = {owner_tag(profile.tags) for profile in rows} - {""}
        index = people.Index.of(emails={t for t in tags if "@" in t}, user_names={t for t in tags if "@" not in t})
    # The directory's users and people these profiles name, not the whole directory: a sync links one domain.
    sso_names = sorted({profile.sso_user_value.lower() for profile in rows if profile.sso_user_value})
    identity: dict[str, set[int]] = {}
    for start in range(0, len(sso_names), LINK_BATCH):
        for user_name, person_id in (
            IdentityCenterUser.objects.filter(person__isnull=False)
            .annotate(name=Lower("user_name"))
            .filter(name__in=sso_names[start : start + LINK_BATCH])
            .values_list("user_name", "person_id")
        ):
            identity.setdefault(user_name.lower(), set()).add(person_id)
    persons = Person.objects.in_bulk({pk for bound in identity.values() for pk in bound})
    # The admins' earlier choices for every profile at once, and the links written together: a sync links a whole
    # domain's profiles, and a query and an UPDATE per profile made that the longest part of storing them.
    choices = people.resolved_choices(PersonMatch.Subject.OWNER_TAG, [profile.arn for profile in rows])
    relinked: list[UserProfile] = []
    counts = {"profiles_linked": 0, "profiles_unlinked": 0}
    for profile in rows:
        person, source = None, ""
        bound = identity.get(profile.sso_user_value.lower(), set()) if profile.sso_user_value else set()
        if len(bound) == 1:
            person, source = persons.get(next(iter(bound))), PersonSource.SSO
        elif len(bound) > 1:
            people.open_match(
                PersonMatch.Subject.OWNER_TAG,
                profile.arn,
                f"profile {profile.name} in {profile.domain.name} (SSO {profile.sso_user_value})",
                f"the SSO user {profile.sso_user_value} is a user of several Identity Center people",
                [persons[pk] for pk in bound if pk in persons],
            )
        if person is None and not bound:
            tag = owner_tag(profile.tags)
            if tag:
                is_email = "@" in tag
                person = people.person_for(
                    index,
                    subject=PersonMatch.Subject.OWNER_TAG,
                    key=profile.arn,
                    label=f"profile {profile.name} in {profile.domain.name} (owner {tag})",
                    email=tag if is_email else "",
                    user_name="" if is_email else tag,
                    display_name=_name_of(tag),
                    resolved=choices,
                )
                source = PersonSource.TAG if person is not None else ""
        person_id = person.pk if person is not None else None
        owner_id = (person.portal_user_id if person is not None else None) or profile.owner_id
        if (profile.person_id, profile.person_source, profile.owner_id) != (person_id, source, owner_id):
            profile.person_id, profile.person_source, profile.owner_id = person_id, source, owner_id
            relinked.append(profile)
            counts["profiles_linked" if person_id else "profiles_unlinked"] += 1
    _write_links(relinked)
    return counts


LINK_BATCH = 500  # profiles a statement reads or writes (SQLite caps a statement's parameters)
WRITE_LINKS = """
UPDATE profiles_userprofile SET person_id = links.person_id, person_source = links.source, owner_id = links.owner_id
FROM (VALUES {rows}) AS links (id, person_id, source, owner_id) WHERE profiles_userprofile.id = links.id
"""


def _write_links(profiles: list[UserProfile]) -> None:
    """Each profile's person, source and owner, in a statement per LINK_BATCH profiles: on PostgreSQL an UPDATE
    from a list of values, elsewhere Django's bulk_update (whose CASE per row and field cost a tenth of a second a
    domain of a hundred profiles, every one of them at the end of a sync)."""
    if connection.vendor != "postgresql":
        UserProfile.objects.bulk_update(profiles, ["person", "person_source", "owner"], batch_size=LINK_BATCH)
        return
    with connection.cursor() as cursor:
        for start in range(0, len(profiles), LINK_BATCH):
            batch = profiles[start : start + LINK_BATCH]
            rows = ", ".join(["(%s::bigint, %s::bigint, %s::varchar, %s::integer)"] * len(batch))
            params = [value for p in batch for value in (p.pk, p.person_id, p.person_source, p.owner_id)]
            cursor.execute(WRITE_LINKS.format(rows=rows), params)


def _name_of(tag: str) -> str:
    """A readable name from an owner tag: maria.garcia@example.com gives Maria Garcia."""
    local = tag.split("@", 1)[0]
    return " ".join(part.capitalize() for part in re.split(r"[._-]+", local) if part) or tag


def may_link_profile(actor: Any, profile: UserProfile) -> bool:
    """Platform admins, and approvers of the profile's domain, tie a profile to a person."""
    from portal.scoping import APPROVE, grants_for, is_system_actor

    return is_system_actor(actor) or grants_for(actor).allows(APPROVE, profile.domain.arn)


def linkable_people(actor: Any) -> Any:
    """The people ``actor`` may pick for a profile: everyone for an admin; for an approver the people they may see
    (a profile in their domains, themselves) and the members of their domains (a portal role there)."""
    from portal.scoping import APPROVE, domain_q, grants_for, is_system_actor

    if is_system_actor(actor):
        return Person.objects.order_by("display_name", "pk")
    seen = Person.objects.restrict(actor, "view").values("pk")
    domains = grants_for(actor).domains_for(APPROVE)
    members = Person.objects.filter(domain_q(domains, "portal_user__role_assignments__domain_arn")).values("pk")
    wanted = Q(pk__in=seen) | (Q(pk__in=members) if domains else Q(pk__in=[]))
    return Person.objects.filter(wanted).order_by("display_name", "pk")


def do_link_profile(profile: UserProfile, *, actor: Any, person: Person | None) -> UserProfile:
    """An admin or an approver of the profile's domain ties a profile to a person of the directory they may see (or
    unties it: None gives it back to the automatic match by SSO binding and owner tag). Audited."""
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from portal import audit

    if not may_link_profile(actor, profile):
        raise ValidationError("Only a platform admin or an approver of the profile's domain links it to a person.")
    if profile.removed_at is not None:
        raise ValidationError("This profile is gone from AWS; it is kept for the record and cannot be relinked.")
    if person is not None and not linkable_people(actor).filter(pk=person.pk).exists():
        raise ValidationError({"person": ["No such person in the directory you can see."]})
    with transaction.atomic():
        before = {"person": str(profile.person) if profile.person_id else None, "source": profile.person_source}
        if person is None:
            UserProfile.objects.filter(pk=profile.pk).update(person=None, person_source="")
            link_people(UserProfile.objects.filter(pk=profile.pk))
        else:
            UserProfile.objects.filter(pk=profile.pk).update(
                person=person, person_source=PersonSource.ADMIN, owner=person.portal_user
            )
        profile.refresh_from_db()
        audit.record(
            "profile.person_linked",
            profile,
            actor=actor,
            domain_arn=profile.domain.arn,
            before=before,
            after={"person": str(profile.person) if profile.person_id else None, "source": profile.person_source},
        )
        people.refresh_statuses()
    return profile


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


def store_profile(
    domain: Domain, answer: dict[str, Any], tags: dict[str, str], *, owner: Any, person: Person | None = None
) -> UserProfile:
    """A user profile the portal created (or adopted), from its DescribeUserProfile answer and tags; tied to the
    person it was requested for."""
    values = {**profile_values(answer, tags), "domain_id": domain.pk, "owner_id": owner.pk if owner else None}
    if person is not None:
        values.update(person_id=person.pk, person_source=PersonSource.ADMIN)
    stored = _store_one(UserProfile, answer["UserProfileArn"], values)
    if person is None:
        link_people(UserProfile.objects.filter(pk=stored.pk))
    return stored


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
