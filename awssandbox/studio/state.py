"""Studio's state in the sandbox: domains, user profiles, spaces, apps and their tags, kept on moto's per-account,
per-region SageMaker backend (so moto's reset clears it), and their lifecycles (Pending, Updating, Deleting in
sandbox time, settled by :meth:`StudioState.tick` before every answer; how long each takes is
:mod:`awssandbox.clock`'s).

Assumed rather than seen from AWS: :data:`PROFILE_DELETE_NEEDS_NO_APPS`, :data:`LIFECYCLE_RULES`.
"""

from __future__ import annotations

import copy
import random
import string
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from moto.sagemaker.models import sagemaker_backends

from awssandbox.clock import DELETED_APP_VISIBLE_SECONDS, clock
from awssandbox.network import NetworkError, check_network, home_file_system
from awssandbox.studio.validation import (
    APP_TYPES,
    AUTH_MODES,
    DOMAIN_ID_RE,
    MAX_TAGS,
    NETWORK_TYPES,
    RETENTION,
    SHARING_TYPES,
    SPACE_APP_TYPES,
    TAG_PROPAGATION,
    StudioError,
    check_ebs,
    check_enum,
    check_name,
    check_resource_spec,
    check_tags,
    check_user_settings,
    invalid,
)

PROFILE_DELETE_NEEDS_NO_APPS = True  # assumed: DeleteUserProfile is ResourceInUse while apps or spaces remain
# AWS's rules while resources are in transition (API reference: UpdateDomain's SubnetIds and AppNetworkAccessType,
# DeleteSpace, DeleteDomain; developer guide: domain-user-profile-remove). Where AWS names no error code, ASSUMED:
LIFECYCLE_RULES = {
    # CreateApp lists only ResourceInUse and ResourceLimitExceeded: a space (or profile) that is not InService yet
    # (or any more) answers ResourceInUse (assumed code).
    "create_app_owner_status": ("InService",),
    # UpdateDomain's network members change only while no app of the domain is in one of these (documented).
    "network_change_blocked_by": ("InService", "Pending", "Deleting"),
    # A second delete of what is already Deleting is accepted and changes nothing (assumed).
    "delete_while_deleting": "accepted",
    # DeleteDomain answers ResourceInUse while profiles or spaces remain, in any state. RetentionPolicy only says
    # whether the home EFS volume is kept (Retain, the default) or deleted; it does not delete profiles or spaces
    # (API reference: DeleteDomain, RetentionPolicy).
}


def sandbox_now() -> datetime:
    """The sandbox's time: real time, plus whatever a test moved the clock forward by."""
    return clock.now()


# -- records ----------------------------------------------------------------------------------------------------
@dataclass
class DomainRecord:
    domain_id: str
    name: str
    arn: str
    region: str
    auth_mode: str
    network: str
    vpc_id: str
    subnet_ids: list[str]
    default_user_settings: dict[str, Any]
    default_space_settings: dict[str, Any] | None
    domain_settings: dict[str, Any] | None
    tag_propagation: str
    home_efs_id: str
    created: datetime
    modified: datetime
    status: str = "InService"
    pending: int = 0
    until: datetime | None = None  # when the transition in progress ends (sandbox time)
    after: str | None = None  # the status it ends in; None: the resource is gone

    @property
    def url(self) -> str:
        return f"https://{self.domain_id}.studio.{self.region}.sagemaker.aws"


@dataclass
class ProfileRecord:
    domain_id: str
    name: str
    arn: str
    user_settings: dict[str, Any]
    sso_value: str | None
    created: datetime
    modified: datetime
    home_uid: str
    status: str = "InService"
    pending: int = 0
    until: datetime | None = None  # when the transition in progress ends (sandbox time)
    after: str | None = None  # the status it ends in; None: the resource is gone


@dataclass
class SpaceRecord:
    domain_id: str
    name: str
    arn: str
    display_name: str | None
    space_settings: dict[str, Any]
    owner: str | None
    sharing: str | None
    created: datetime
    modified: datetime
    home_uid: str
    status: str = "InService"
    pending: int = 0
    until: datetime | None = None  # when the transition in progress ends (sandbox time)
    after: str | None = None  # the status it ends in; None: the resource is gone


@dataclass
class AppRecord:
    domain_id: str
    profile: str | None
    space: str | None
    app_type: str
    name: str
    arn: str
    resource_spec: dict[str, Any]
    created: datetime
    last_activity: datetime | None
    status: str = "InService"
    pending: int = 0
    until: datetime | None = None  # when the transition in progress ends (sandbox time)
    after: str | None = None  # the status it ends in; None: the resource is gone

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return _app_key(self.domain_id, self.space, self.profile, self.app_type, self.name)


def _app_key(domain_id: str, space: str | None, profile: str | None, app_type: str, name: str) -> tuple[str, ...]:
    """Profile and space names are not case sensitive (API reference: UserProfileName), so neither is an app's key."""
    return (domain_id, (space or "").lower(), (profile or "").lower(), app_type.lower(), name)


@dataclass
class StudioState:
    """Everything the sandbox knows about Studio in one account and region."""

    account_id: str
    region: str
    domains: dict[str, DomainRecord] = field(default_factory=dict)
    profiles: dict[tuple[str, str], ProfileRecord] = field(default_factory=dict)
    spaces: dict[tuple[str, str], SpaceRecord] = field(default_factory=dict)
    apps: dict[tuple[str, str, str, str, str], AppRecord] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    # How many Describe calls a new resource answers "Pending" before "InService" (0: InService at once).
    pending_describes: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def __post_init__(self) -> None:
        # Ids differ by account and region but repeat across runs: a seeded demo keeps its ARNs.
        self.rng = random.Random(f"{self.account_id}/{self.region}")

    def _born(self, created: datetime | None, kind: str, *, modified: bool = True) -> dict[str, Any]:
        """Creation time, and the Pending time (or describe countdown) of a new resource. A resource seeded with a
        creation time long enough ago is InService already."""
        when = created or sandbox_now()
        until = clock.until(kind, "create", when)
        if until is not None and until <= sandbox_now():
            until = None
        fields: dict[str, Any] = {
            "created": when,
            "pending": self.pending_describes,
            "status": "Pending" if self.pending_describes or until else "InService",
            "until": until,
            "after": "InService" if until else None,
        }
        if modified:
            fields["modified"] = when
        return fields

    # -- lifecycles -----------------------------------------------------------------------------------------------
    def tick(self) -> None:
        """Finish every transition whose time is up: Pending/Updating -> InService, Deleting -> Deleted (apps) or
        gone; a Deleted app is forgotten DELETED_APP_VISIBLE_SECONDS after it became Deleted."""
        now = sandbox_now()
        with self.lock:
            stores: tuple[dict[Any, Any], ...] = (self.apps, self.spaces, self.profiles, self.domains)
            for store in stores:
                for key, record in [(k, r) for k, r in store.items() if r.until is not None and r.until <= now]:
                    if record.after is None:
                        del store[key]
                        self.tags.pop(record.arn, None)
                        if store is self.domains:
                            for app_key in [k for k, a in self.apps.items() if a.domain_id == key]:
                                self.tags.pop(self.apps.pop(app_key).arn, None)
                        continue
                    record.status, record.until, record.after = record.after, None, None
                    if record.status == "Deleted":
                        record.until = now + timedelta(seconds=DELETED_APP_VISIBLE_SECONDS)

    def _start(self, record: Any, kind: str, transition: str, during: str, after: str | None) -> bool:
        """Begin a transition that takes the clock's time for it; False when it is instant (the caller applies it)."""
        until = clock.until(kind, transition)
        if until is None:
            return False
        record.status, record.until, record.after, record.pending = during, until, after, 0
        return True

    def _updating(self, record: Any, kind: str) -> None:
        if record.status == "InService":
            self._start(record, kind, "update", "Updating", "InService")

    def arn(self, kind: str, *parts: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{kind}/" + "/".join(parts)

    # -- domains --------------------------------------------------------------------------------------------
    def create_domain(
        self,
        *,
        name: str,
        auth_mode: str,
        default_user_settings: dict[str, Any],
        subnet_ids: list[str] | None = None,
        vpc_id: str | None = None,
        network: str | None = None,
        default_space_settings: dict[str, Any] | None = None,
        domain_settings: dict[str, Any] | None = None,
        tag_propagation: str | None = None,
        tags: list[dict[str, str]] | None = None,
        created: datetime | None = None,
    ) -> DomainRecord:
        check_name("domainName", name)
        check_enum("authMode", auth_mode, AUTH_MODES)
        network = network or "PublicInternetOnly"
        check_enum("appNetworkAccessType", network, NETWORK_TYPES)
        check_enum("tagPropagation", tag_propagation or "DISABLED", TAG_PROPAGATION)
        check_user_settings("defaultUserSettings", default_user_settings)
        if network == "VpcOnly" and not (subnet_ids and vpc_id):
            raise StudioError(
                "ValidationException", "SubnetIds and VpcId are required when AppNetworkAccessType is VpcOnly."
            )
        check_tags(tags or [])
        self._check_network(vpc_id, subnet_ids, (domain_settings or {}).get("SecurityGroupIds"))
        with self.lock:
            domain_id = "d-" + "".join(self.rng.choices(string.ascii_lowercase + string.digits, k=12))
            record = DomainRecord(
                domain_id=domain_id,
                name=name,
                arn=self.arn("domain", domain_id),
                region=self.region,
                auth_mode=auth_mode,
                network=network,
                vpc_id=vpc_id or "",
                subnet_ids=list(subnet_ids or []),
                default_user_settings=copy.deepcopy(default_user_settings),
                default_space_settings=copy.deepcopy(default_space_settings),
                domain_settings=copy.deepcopy(domain_settings),
                tag_propagation=tag_propagation or "DISABLED",
                home_efs_id="",
                **self._born(created, "domain"),
            )
            self.rng.choices("0123456789abcdef", k=17)  # the former made-up EFS id: later ids stay as they were
            record.home_efs_id = home_file_system(self.account_id, self.region, domain_id, record.arn)
            self.domains[domain_id] = record
            self._set_tags(record.arn, tags or [])
            return record

    def domain(self, domain_id: str) -> DomainRecord:
        if not isinstance(domain_id, str) or not DOMAIN_ID_RE.match(domain_id):
            raise invalid(
                "domainId", domain_id, f"Member must satisfy regular expression pattern: {DOMAIN_ID_RE.pattern}"
            )
        record = self.domains.get(domain_id)
        if record is None:
            raise StudioError("ResourceNotFound", f"Domain {domain_id} does not exist.")
        return record

    def update_domain(self, domain_id: str, changes: dict[str, Any]) -> DomainRecord:
        record = self.domain(domain_id)
        if "DefaultUserSettings" in changes:
            check_user_settings("defaultUserSettings", changes["DefaultUserSettings"])
        if "AppNetworkAccessType" in changes:
            check_enum("appNetworkAccessType", changes["AppNetworkAccessType"], NETWORK_TYPES)
        if "TagPropagation" in changes:
            check_enum("tagPropagation", changes["TagPropagation"], TAG_PROPAGATION)
        self._check_network(
            changes.get("VpcId", record.vpc_id),
            changes.get("SubnetIds"),
            (changes.get("DomainSettingsForUpdate") or {}).get("SecurityGroupIds"),
        )
        with self.lock:
            self._check_network_change(record, changes)
            if "DefaultUserSettings" in changes:
                record.default_user_settings = _merge(record.default_user_settings, changes["DefaultUserSettings"])
            if "DefaultSpaceSettings" in changes:
                record.default_space_settings = _merge(
                    record.default_space_settings or {}, changes["DefaultSpaceSettings"]
                )
            if "DomainSettingsForUpdate" in changes:
                record.domain_settings = _merge(record.domain_settings or {}, changes["DomainSettingsForUpdate"])
            if "AppNetworkAccessType" in changes:
                record.network = changes["AppNetworkAccessType"]
            if "SubnetIds" in changes:
                record.subnet_ids = list(changes["SubnetIds"])
            if "VpcId" in changes:
                record.vpc_id = changes["VpcId"]
            if "TagPropagation" in changes:
                record.tag_propagation = changes["TagPropagation"]
            record.modified = sandbox_now()
            self._updating(record, "domain")
        return record

    def _check_network(self, vpc_id: str | None, subnets: list[str] | None, groups: list[str] | None) -> None:
        """The VPC, subnets and security groups exist in this account and Region's EC2, all in the one VPC."""
        try:
            check_network(self.account_id, self.region, vpc_id, subnets, groups)
        except NetworkError as exc:
            raise StudioError("ValidationException", str(exc)) from None

    def _check_network_change(self, record: DomainRecord, changes: dict[str, Any]) -> None:
        """UpdateDomain's network members (AppNetworkAccessType, removing subnets, security groups) change only
        while no app of the domain is InService, Pending or Deleting."""
        settings = record.domain_settings or {}
        changed = [
            name
            for name, differs in (
                (
                    "AppNetworkAccessType",
                    "AppNetworkAccessType" in changes and changes["AppNetworkAccessType"] != record.network,
                ),
                ("SubnetIds", "SubnetIds" in changes and bool(set(record.subnet_ids) - set(changes["SubnetIds"]))),
                (
                    "SecurityGroupIds",
                    "SecurityGroupIds" in (changes.get("DomainSettingsForUpdate") or {})
                    and sorted(changes["DomainSettingsForUpdate"]["SecurityGroupIds"] or [])
                    != sorted(settings.get("SecurityGroupIds") or []),
                ),
            )
            if differs
        ]
        if not changed:
            return
        blocking = LIFECYCLE_RULES["network_change_blocked_by"]
        busy = [a for a in self.apps.values() if a.domain_id == record.domain_id and a.status in blocking]
        if busy:
            raise StudioError(
                "ResourceInUse",
                f"{', '.join(changed)} of domain {record.domain_id} can be changed only when no app is "
                f"{', '.join(blocking)}; {len(busy)} app(s) are. Delete them and wait until they are Deleted.",
            )

    def delete_domain(self, domain_id: str, retention: dict[str, Any] | None = None) -> None:
        record = self.domain(domain_id)
        if retention and "HomeEfsFileSystem" in retention:
            check_enum("retentionPolicy.homeEfsFileSystem", retention["HomeEfsFileSystem"], RETENTION)
        with self.lock:
            if any(k[0] == domain_id for k in self.profiles) or any(k[0] == domain_id for k in self.spaces):
                raise StudioError(
                    "ResourceInUse", f"Domain {domain_id} still has user profiles or spaces; delete them first."
                )
            if record.status == "Deleting" or self._start(record, "domain", "delete", "Deleting", None):
                return
            del self.domains[domain_id]
            self.tags.pop(record.arn, None)
            for app_key in [k for k, a in self.apps.items() if a.domain_id == domain_id]:
                self.tags.pop(self.apps.pop(app_key).arn, None)

    # -- user profiles ----------------------------------------------------------------------------------------
    def create_user_profile(
        self,
        *,
        domain_id: str,
        name: str,
        user_settings: dict[str, Any] | None = None,
        sso_identifier: str | None = None,
        sso_value: str | None = None,
        tags: list[dict[str, str]] | None = None,
        created: datetime | None = None,
    ) -> ProfileRecord:
        check_name("userProfileName", name)
        domain = self.domain(domain_id)
        check_user_settings("userSettings", user_settings or {})
        check_tags(tags or [])
        if domain.auth_mode == "SSO":
            if sso_identifier != "UserName" or not sso_value:
                raise StudioError(
                    "ValidationException",
                    "SingleSignOnUserIdentifier 'UserName' and "
                    "SingleSignOnUserValue are required for a domain that uses SSO authentication.",
                )
        elif sso_identifier or sso_value:
            raise StudioError(
                "ValidationException",
                "SingleSignOnUserIdentifier and SingleSignOnUserValue are "
                "only valid for a domain that uses SSO authentication.",
            )
        with self.lock:
            if (domain_id, name.lower()) in self.profiles:
                raise StudioError("ResourceInUse", f"User profile {name} already exists in domain {domain_id}.")
            record = ProfileRecord(
                domain_id=domain_id,
                name=name,
                arn=self.arn("user-profile", domain_id, name),
                user_settings=copy.deepcopy(user_settings or {}),
                sso_value=sso_value,
                home_uid=str(200000 + len(self.profiles) + len(self.spaces)),
                **self._born(created, "profile"),
            )
            self.profiles[(domain_id, name.lower())] = record
            self._set_tags(record.arn, tags or [])
            return record

    def profile(self, domain_id: str, name: str) -> ProfileRecord:
        """The profile named ``name`` in any letter case (profiles are keyed by the lower-cased name)."""
        self.domain(domain_id)
        check_name("userProfileName", name)
        record = self.profiles.get((domain_id, name.lower()))
        if record is None:
            raise StudioError("ResourceNotFound", f"User profile {name} does not exist in domain {domain_id}.")
        return record

    def update_user_profile(self, domain_id: str, name: str, user_settings: dict[str, Any]) -> ProfileRecord:
        record = self.profile(domain_id, name)
        check_user_settings("userSettings", user_settings or {})
        with self.lock:
            record.user_settings = _merge(record.user_settings, user_settings or {})
            record.modified = sandbox_now()
            self._updating(record, "profile")
        return record

    def delete_user_profile(self, domain_id: str, name: str) -> None:
        record = self.profile(domain_id, name)
        with self.lock:
            if PROFILE_DELETE_NEEDS_NO_APPS:
                live_apps = [
                    a
                    for a in self.apps.values()
                    if a.domain_id == domain_id and a.profile == record.name and a.status != "Deleted"
                ]
                owned = [s for s in self.spaces.values() if s.domain_id == domain_id and s.owner == record.name]
                if live_apps or owned:
                    raise StudioError(
                        "ResourceInUse",
                        f"User profile {name} still has {len(live_apps)} app(s) that are not Deleted and "
                        f"owns {len(owned)} space(s); delete them first.",
                    )
            if record.status == "Deleting" or self._start(record, "profile", "delete", "Deleting", None):
                return
            del self.profiles[(domain_id, record.name.lower())]
            self.tags.pop(record.arn, None)

    # -- spaces -----------------------------------------------------------------------------------------------
    def create_space(
        self,
        *,
        domain_id: str,
        name: str,
        space_settings: dict[str, Any] | None = None,
        owner: str | None = None,
        sharing: str | None = None,
        display_name: str | None = None,
        tags: list[dict[str, str]] | None = None,
        created: datetime | None = None,
    ) -> SpaceRecord:
        check_name("spaceName", name)
        self.domain(domain_id)
        settings = space_settings or {}
        if "AppType" in settings:
            check_enum("spaceSettings.appType", settings["AppType"], SPACE_APP_TYPES)
        if sharing is not None:
            check_enum("spaceSharingSettings.sharingType", sharing, SHARING_TYPES)
        if (owner is None) != (sharing is None):
            raise StudioError(
                "ValidationException", "OwnershipSettings and SpaceSharingSettings must be given together."
            )
        if display_name is not None and not (1 <= len(display_name) <= 64 and display_name.strip()):
            raise invalid("spaceDisplayName", display_name, "Member must have length between 1 and 64")
        check_ebs(settings)
        check_tags(tags or [])
        with self.lock:
            if owner is not None:
                owner = self.profile(domain_id, owner).name
            if (domain_id, name.lower()) in self.spaces:
                raise StudioError("ResourceInUse", f"Space {name} already exists in domain {domain_id}.")
            record = SpaceRecord(
                domain_id=domain_id,
                name=name,
                arn=self.arn("space", domain_id, name),
                display_name=display_name,
                space_settings=copy.deepcopy(settings),
                owner=owner,
                sharing=sharing,
                home_uid=str(200000 + len(self.profiles) + len(self.spaces)),
                **self._born(created, "space"),
            )
            self.spaces[(domain_id, name.lower())] = record
            self._set_tags(record.arn, tags or [])
            return record

    def space(self, domain_id: str, name: str) -> SpaceRecord:
        """The space named ``name`` in any letter case."""
        self.domain(domain_id)
        check_name("spaceName", name)
        record = self.spaces.get((domain_id, name.lower()))
        if record is None:
            raise StudioError("ResourceNotFound", f"Space {name} does not exist in domain {domain_id}.")
        return record

    def update_space(
        self, domain_id: str, name: str, settings: dict[str, Any] | None, display_name: str | None
    ) -> SpaceRecord:
        record = self.space(domain_id, name)
        settings = settings or {}
        if "AppType" in settings and settings["AppType"] != record.space_settings.get("AppType"):
            raise StudioError("ValidationException", "The AppType of a space cannot be changed.")
        check_ebs(settings)
        with self.lock:
            record.space_settings = _merge(record.space_settings, settings)
            if display_name is not None:
                record.display_name = display_name
            record.modified = sandbox_now()
            self._updating(record, "space")
        return record

    def delete_space(self, domain_id: str, name: str) -> None:
        record = self.space(domain_id, name)
        with self.lock:
            live = [
                a
                for a in self.apps.values()
                if a.domain_id == domain_id and a.space == record.name and a.status != "Deleted"
            ]
            if live:
                raise StudioError(
                    "ResourceInUse",
                    f"Space {name} still has {len(live)} app(s) that are not Deleted (running or Deleting).",
                )
            if record.status == "Deleting" or self._start(record, "space", "delete", "Deleting", None):
                return
            del self.spaces[(domain_id, record.name.lower())]
            self.tags.pop(record.arn, None)

    # -- apps -------------------------------------------------------------------------------------------------
    def create_app(
        self,
        *,
        domain_id: str,
        app_type: str,
        name: str,
        profile: str | None = None,
        space: str | None = None,
        resource_spec: dict[str, Any] | None = None,
        tags: list[dict[str, str]] | None = None,
        created: datetime | None = None,
        last_activity: datetime | None = None,
    ) -> AppRecord:
        check_name("appName", name)
        check_enum("appType", app_type, APP_TYPES)
        domain = self.domain(domain_id)
        if bool(profile) == bool(space):
            raise StudioError("ValidationException", "Give exactly one of UserProfileName and SpaceName.")
        owner = self.profile(domain_id, profile) if profile else self.space(domain_id, space or "")
        profile, space = (owner.name, None) if profile else (None, owner.name)
        owner_arn = owner.arn
        check_resource_spec("resourceSpec", resource_spec or {})
        check_tags(tags or [])
        if created is None and owner.status not in LIFECYCLE_RULES["create_app_owner_status"]:
            what = f"User profile {profile}" if profile else f"Space {space}"
            raise StudioError(
                "ResourceInUse", f"{what} is {owner.status}; apps can be created only when it is InService."
            )
        born = self._born(created, "app", modified=False)
        if last_activity is not None and last_activity < born["created"]:
            last_activity = born["created"]  # nobody uses an app before it exists
        with self.lock:
            record = AppRecord(
                domain_id=domain_id,
                profile=profile,
                space=space,
                app_type=app_type,
                name=name,
                arn=self.arn("app", domain_id, profile or space or "", app_type.lower(), name),
                resource_spec=copy.deepcopy(resource_spec or {"InstanceType": "system"}),
                last_activity=last_activity,
                **born,
            )
            existing = self.apps.get(record.key)
            if existing is not None and existing.status != "Deleted":
                raise StudioError("ResourceInUse", f"App {app_type}/{name} already exists.")
            self.apps[record.key] = record
            system = [{"Key": "sagemaker:domain-arn", "Value": domain.arn}]
            system.append({"Key": "sagemaker:space-arn" if space else "sagemaker:user-profile-arn", "Value": owner_arn})
            self.tags[record.arn] = {}
            self._set_tags(
                record.arn, [*system, *self._propagated(domain, space and owner.arn), *(tags or [])], system=True
            )
            return record

    def app(self, domain_id: str, app_type: str, name: str, profile: str | None, space: str | None) -> AppRecord:
        self.domain(domain_id)
        check_enum("appType", app_type, APP_TYPES)
        check_name("appName", name)
        if bool(profile) == bool(space):
            raise StudioError("ValidationException", "Give exactly one of UserProfileName and SpaceName.")
        check_name("userProfileName" if profile else "spaceName", profile or space)
        record = self.apps.get(_app_key(domain_id, space, profile, app_type, name))
        if record is None:
            raise StudioError("ResourceNotFound", f"App {app_type}/{name} does not exist.")
        return record

    def delete_app(self, domain_id: str, app_type: str, name: str, profile: str | None, space: str | None) -> None:
        record = self.app(domain_id, app_type, name, profile, space)
        with self.lock:
            if record.status == "Deleted":
                raise StudioError("ResourceNotFound", f"App {app_type}/{name} is already deleted.")
            if record.status == "Deleting" or self._start(record, "app", "delete", "Deleting", "Deleted"):
                return
            record.status, record.after = "Deleted", None
            record.until = sandbox_now() + timedelta(seconds=DELETED_APP_VISIBLE_SECONDS)

    # -- tags -------------------------------------------------------------------------------------------------
    def _propagated(self, domain: DomainRecord, space_arn: str | None) -> list[dict[str, str]]:
        """With TagPropagation ENABLED, a new app gets the domain's and its space's custom tags (developer guide:
        custom-tags), the space's winning on a shared key; AWS's own (aws:, sagemaker:) keys are not copied."""
        if domain.tag_propagation != "ENABLED":
            return []
        merged: dict[str, str] = {}
        for arn in (domain.arn, space_arn):
            for key, value in self.tags.get(arn or "", {}).items():
                if not key.startswith(("aws:", "sagemaker:")):
                    merged[key] = value
        return [{"Key": k, "Value": v} for k, v in merged.items()]

    def owns(self, arn: str) -> bool:
        return arn in self.tags

    def _set_tags(self, arn: str, tags: list[dict[str, str]], *, system: bool = False) -> None:
        current = self.tags.setdefault(arn, {})
        merged = dict(current)
        for tag in tags:
            merged[tag["Key"]] = tag.get("Value", "")
        if len(merged) > MAX_TAGS + (2 if system else 0):
            raise StudioError("ValidationException", f"A resource can have at most {MAX_TAGS} tags.")
        current.clear()
        current.update(merged)

    def add_tags(self, arn: str, tags: list[dict[str, str]]) -> None:
        check_tags(tags)
        with self.lock:
            self._set_tags(arn, tags)

    def delete_tags(self, arn: str, keys: list[str]) -> None:
        with self.lock:
            for key in keys:
                if key.startswith("aws:"):
                    raise StudioError("ValidationException", "Tag keys starting with 'aws:' are reserved.")
                self.tags[arn].pop(key, None)

    def list_tags(self, arn: str) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in self.tags.get(arn, {}).items()]


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """AWS's update semantics for settings: given members replace, absent members stay."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# -- state access -----------------------------------------------------------------------------------------------
_state_lock = threading.Lock()


def studio_state(account_id: str, region: str) -> StudioState:
    """The Studio state of one account and region (created on first use, cleared by moto's reset)."""
    backend = sagemaker_backends[account_id][region]
    state = getattr(backend, "_studio_state", None)
    if state is None:
        with _state_lock:
            state = getattr(backend, "_studio_state", None)
            if state is None:
                state = StudioState(account_id=account_id, region=region)
                backend._studio_state = state
    return state
