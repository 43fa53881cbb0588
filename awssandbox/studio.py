"""SageMaker Studio in the sandbox: domains, user profiles, spaces, apps, tags and presigned URLs.

moto 5.2.5 has only a buggy subset of the domain operations and none of the others. This module keeps
its own state on moto's per-account, per-region SageMaker backend (so moto's reset clears it) and answers the
operations in AWS's JSON shapes, with AWS's validation, error codes and pagination. One code path serves the API
and the Python seeding used by the demo organisation and the benchmarks (:func:`studio_state`).

Behaviour assumed rather than seen from AWS is kept in clearly named places:
:data:`PROFILE_DELETE_NEEDS_NO_APPS`, :data:`DEFAULT_SORT_ORDER`, :attr:`StudioState.pending_describes`,
:data:`LIFECYCLE_RULES`. How long lifecycles take is :mod:`awssandbox.clock`'s: resources move through Pending,
Updating and Deleting in sandbox time, settled by :meth:`StudioState.tick` before every answer.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import re
import string
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import botocore.session
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from awssandbox import studiopage
from awssandbox.clock import DELETED_APP_VISIBLE_SECONDS, clock
from awssandbox.network import home_file_system

# Enums and patterns come from botocore's SageMaker service model, so they follow AWS's API as botocore updates.
_MODEL = botocore.session.get_session().get_service_model("sagemaker")


def _model_enum(shape: str) -> tuple[str, ...]:
    return tuple(_MODEL.shape_for(shape).enum)


NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
DOMAIN_ID_RE = re.compile("^" + _MODEL.shape_for("DomainId").metadata["pattern"] + "$")
ROLE_RE = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
AUTH_MODES = ("SSO", "IAM")
NETWORK_TYPES = ("PublicInternetOnly", "VpcOnly")
APP_TYPES = _model_enum("AppType")
ML_TOOLS = _model_enum("MlTools")
INSTANCE_TYPES = _model_enum("AppInstanceType")
SPACE_APP_TYPES = ("JupyterServer", "KernelGateway", "CodeEditor", "JupyterLab")
SHARING_TYPES = ("Private", "Shared")
ENABLED_DISABLED = ("ENABLED", "DISABLED")
TAG_PROPAGATION = ("ENABLED", "DISABLED")
SORT_BY = _model_enum("UserProfileSortKey")
APP_SORT_BY = _model_enum("AppSortKey")
SORT_ORDERS = _model_enum("SortOrder")
# API reference (ListUserProfiles, ListSpaces, ListApps): "The default is Ascending", by CreationTime. ListDomains
# takes no sort parameters; ASSUMED: it lists in the same default order.
DEFAULT_SORT_ORDER = "Ascending"
LIST_DOMAINS_PAGE = 10  # ListDomains: MaxResults "the default is 10"
PROFILE_DELETE_NEEDS_NO_APPS = True  # assumed: DeleteUserProfile is ResourceInUse while apps or spaces remain
MAX_TAGS = 50
# A space's idle settings (SpaceIdleSettings) have fewer members than a profile's: no LifecycleManagement.
SPACE_IDLE_MEMBERS = tuple(_MODEL.shape_for("SpaceIdleSettings").members)
# ASSUMED: how often Studio checks a running app's health (DescribeApp's LastHealthCheckTimestamp); AWS publishes
# no interval (API reference: DescribeApp).
HEALTH_CHECK_SECONDS = 300
# StudioWebPortalSettings' hidden lists and the enum (shape) their members belong to in the service model.
HIDDEN_ENUMS = {"HiddenAppTypes": APP_TYPES, "HiddenMlTools": ML_TOOLS, "HiddenInstanceTypes": INSTANCE_TYPES}
RETENTION = ("Retain", "Delete")
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


class StudioError(Exception):
    """An AWS error answer: code (ResourceNotFound, ResourceInUse, ValidationException...) and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(field_name: str, value: Any, constraint: str) -> StudioError:
    return StudioError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{field_name}' failed to satisfy constraint: {constraint}",
    )


def _now() -> datetime:
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
        when = created or _now()
        until = clock.until(kind, "create", when)
        if until is not None and until <= _now():
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
        now = _now()
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
        _check_name("domainName", name)
        _check_enum("authMode", auth_mode, AUTH_MODES)
        network = network or "PublicInternetOnly"
        _check_enum("appNetworkAccessType", network, NETWORK_TYPES)
        _check_enum("tagPropagation", tag_propagation or "DISABLED", TAG_PROPAGATION)
        _check_user_settings("defaultUserSettings", default_user_settings)
        if network == "VpcOnly" and not (subnet_ids and vpc_id):
            raise StudioError(
                "ValidationException", "SubnetIds and VpcId are required when AppNetworkAccessType is VpcOnly."
            )
        _check_tags(tags or [])
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
            raise _invalid(
                "domainId", domain_id, f"Member must satisfy regular expression pattern: {DOMAIN_ID_RE.pattern}"
            )
        record = self.domains.get(domain_id)
        if record is None:
            raise StudioError("ResourceNotFound", f"Domain {domain_id} does not exist.")
        return record

    def update_domain(self, domain_id: str, changes: dict[str, Any]) -> DomainRecord:
        record = self.domain(domain_id)
        if "DefaultUserSettings" in changes:
            _check_user_settings("defaultUserSettings", changes["DefaultUserSettings"])
        if "AppNetworkAccessType" in changes:
            _check_enum("appNetworkAccessType", changes["AppNetworkAccessType"], NETWORK_TYPES)
        if "TagPropagation" in changes:
            _check_enum("tagPropagation", changes["TagPropagation"], TAG_PROPAGATION)
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
            record.modified = _now()
            self._updating(record, "domain")
        return record

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
            _check_enum("retentionPolicy.homeEfsFileSystem", retention["HomeEfsFileSystem"], RETENTION)
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
        _check_name("userProfileName", name)
        domain = self.domain(domain_id)
        _check_user_settings("userSettings", user_settings or {})
        _check_tags(tags or [])
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
        _check_name("userProfileName", name)
        record = self.profiles.get((domain_id, name.lower()))
        if record is None:
            raise StudioError("ResourceNotFound", f"User profile {name} does not exist in domain {domain_id}.")
        return record

    def update_user_profile(self, domain_id: str, name: str, user_settings: dict[str, Any]) -> ProfileRecord:
        record = self.profile(domain_id, name)
        _check_user_settings("userSettings", user_settings or {})
        with self.lock:
            record.user_settings = _merge(record.user_settings, user_settings or {})
            record.modified = _now()
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
        _check_name("spaceName", name)
        self.domain(domain_id)
        settings = space_settings or {}
        if "AppType" in settings:
            _check_enum("spaceSettings.appType", settings["AppType"], SPACE_APP_TYPES)
        if sharing is not None:
            _check_enum("spaceSharingSettings.sharingType", sharing, SHARING_TYPES)
        if (owner is None) != (sharing is None):
            raise StudioError(
                "ValidationException", "OwnershipSettings and SpaceSharingSettings must be given together."
            )
        if display_name is not None and not (1 <= len(display_name) <= 64 and display_name.strip()):
            raise _invalid("spaceDisplayName", display_name, "Member must have length between 1 and 64")
        _check_ebs(settings)
        _check_tags(tags or [])
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
        _check_name("spaceName", name)
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
        _check_ebs(settings)
        with self.lock:
            record.space_settings = _merge(record.space_settings, settings)
            if display_name is not None:
                record.display_name = display_name
            record.modified = _now()
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
        _check_name("appName", name)
        _check_enum("appType", app_type, APP_TYPES)
        domain = self.domain(domain_id)
        if bool(profile) == bool(space):
            raise StudioError("ValidationException", "Give exactly one of UserProfileName and SpaceName.")
        owner = self.profile(domain_id, profile) if profile else self.space(domain_id, space or "")
        profile, space = (owner.name, None) if profile else (None, owner.name)
        owner_arn = owner.arn
        _check_resource_spec("resourceSpec", resource_spec or {})
        _check_tags(tags or [])
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
        _check_enum("appType", app_type, APP_TYPES)
        _check_name("appName", name)
        if bool(profile) == bool(space):
            raise StudioError("ValidationException", "Give exactly one of UserProfileName and SpaceName.")
        _check_name("userProfileName" if profile else "spaceName", profile or space)
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
            record.until = _now() + timedelta(seconds=DELETED_APP_VISIBLE_SECONDS)

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
        _check_tags(tags)
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


# -- validation helpers -----------------------------------------------------------------------------------------
def _check_name(field_name: str, value: Any) -> None:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise _invalid(
            field_name, value, "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
        )


def _check_enum(field_name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise _invalid(field_name, value, f"Member must satisfy enum value set: [{', '.join(allowed)}]")


def _check_tags(tags: list[dict[str, str]]) -> None:
    if len(tags) > MAX_TAGS:
        raise StudioError("ValidationException", f"A resource can have at most {MAX_TAGS} tags.")
    for tag in tags:
        key = tag.get("Key", "")
        if key.startswith("aws:"):
            raise StudioError("ValidationException", "Tag keys starting with 'aws:' are reserved for AWS use.")
        if not 1 <= len(key) <= 128 or len(tag.get("Value", "")) > 256:
            raise _invalid("tags.member.key", key, "Member must have length between 1 and 128")


def _check_idle(prefix: str, app_settings: dict[str, Any]) -> None:
    idle = (app_settings or {}).get("AppLifecycleManagement", {}).get("IdleSettings", {})
    if "LifecycleManagement" in idle:
        _check_enum(
            f"{prefix}.appLifecycleManagement.idleSettings.lifecycleManagement",
            idle["LifecycleManagement"],
            ENABLED_DISABLED,
        )
    for key in ("IdleTimeoutInMinutes", "MinIdleTimeoutInMinutes", "MaxIdleTimeoutInMinutes"):
        if key in idle and not 60 <= int(idle[key]) <= 525600:
            raise _invalid(
                f"{prefix}.appLifecycleManagement.idleSettings.{key[0].lower()}{key[1:]}",
                idle[key],
                "Member must have value between 60 and 525600",
            )


def _check_user_settings(prefix: str, settings: dict[str, Any]) -> None:
    role = settings.get("ExecutionRole")
    if role is not None and not ROLE_RE.match(role):
        raise _invalid(
            f"{prefix}.executionRole",
            role,
            "Member must satisfy regular expression pattern: "
            "^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$",
        )
    if "StudioWebPortal" in settings:
        _check_enum(f"{prefix}.studioWebPortal", settings["StudioWebPortal"], ENABLED_DISABLED)
    portal = settings.get("StudioWebPortalSettings") or {}
    for member, allowed in HIDDEN_ENUMS.items():
        for value in portal.get(member) or []:
            _check_enum(f"{prefix}.studioWebPortalSettings.{member[0].lower()}{member[1:]}", value, allowed)
    for key in ("JupyterLabAppSettings", "CodeEditorAppSettings"):
        _check_idle(f"{prefix}.{key[0].lower()}{key[1:]}", settings.get(key, {}))
    _check_default_specs(prefix, settings)


def _check_resource_spec(field_name: str, spec: dict[str, Any]) -> None:
    if "InstanceType" in spec:
        _check_enum(f"{field_name}.instanceType", spec["InstanceType"], INSTANCE_TYPES)


def _check_default_specs(prefix: str, settings: dict[str, Any]) -> None:
    """The InstanceType of every ``*AppSettings.DefaultResourceSpec`` (JupyterLab, KernelGateway, CodeEditor...)."""
    for key, value in settings.items():
        if key.endswith("AppSettings") and isinstance(value, dict):
            spec = value.get("DefaultResourceSpec") or {}
            _check_resource_spec(f"{prefix}.{key[0].lower()}{key[1:]}.defaultResourceSpec", spec)


def _check_ebs(settings: dict[str, Any]) -> None:
    size = settings.get("SpaceStorageSettings", {}).get("EbsStorageSettings", {}).get("EbsVolumeSizeInGb")
    if size is not None and not 5 <= int(size) <= 16384:
        raise _invalid(
            "spaceSettings.spaceStorageSettings.ebsStorageSettings.ebsVolumeSizeInGb",
            size,
            "Member must have value between 5 and 16384",
        )
    for key in ("JupyterLabAppSettings", "CodeEditorAppSettings"):
        _check_idle(f"spaceSettings.{key}", settings.get(key, {}))
        idle = (settings.get(key) or {}).get("AppLifecycleManagement", {}).get("IdleSettings", {})
        for member in idle:
            if member not in SPACE_IDLE_MEMBERS:  # ASSUMED: AWS answers ValidationException for an unknown member
                raise StudioError(
                    "ValidationException",
                    f"spaceSettings.{key}.appLifecycleManagement.idleSettings has no member {member}; "
                    f"a space's idle settings have only {', '.join(SPACE_IDLE_MEMBERS)}.",
                )
    _check_default_specs("spaceSettings", settings)


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


# -- pagination -------------------------------------------------------------------------------------------------
def _listing(
    items: list[Any],
    p: dict[str, Any],
    *,
    default: int,
    sort_keys: tuple[str, ...] = SORT_BY,
    sortable: bool = True,
) -> tuple[list[Any], str | None]:
    """One page of ``items`` in AWS's order, and the token of the next page.

    The token is a cursor (the sort key and ARN of the page's last item), not an offset: a resource created or
    deleted while a caller pages through a listing neither repeats nor hides the resources that were already there.
    """
    sort_by = (p.get("SortBy") or "CreationTime") if sortable else "CreationTime"
    sort_order = (p.get("SortOrder") or DEFAULT_SORT_ORDER) if sortable else DEFAULT_SORT_ORDER
    _check_enum("sortBy", sort_by, sort_keys)
    _check_enum("sortOrder", sort_order, SORT_ORDERS)
    max_results = p.get("MaxResults")
    size = default if max_results is None else max_results
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 100:
        raise _invalid("maxResults", max_results, "Member must have value between 1 and 100")
    attr = "created" if sort_by == "CreationTime" else "modified"

    def key(record: Any) -> tuple[float, str]:
        return (_ts(getattr(record, attr, None) or record.created) or 0.0, record.arn)

    descending = sort_order == "Descending"
    ordered = sorted(items, key=key, reverse=descending)
    if p.get("NextToken"):
        try:
            kind, when, arn = json.loads(base64.urlsafe_b64decode(str(p["NextToken"]).encode()).decode())
            if kind != "sbx" or not isinstance(arn, str):
                raise ValueError
            cursor = (float(when), arn)
        except (ValueError, TypeError, UnicodeDecodeError):
            raise StudioError("ValidationException", "The NextToken is not valid.") from None
        ordered = [r for r in ordered if (key(r) < cursor if descending else key(r) > cursor)]
    page = ordered[:size]
    token = None
    if len(ordered) > size:
        token = base64.urlsafe_b64encode(json.dumps(["sbx", *key(page[-1])]).encode()).decode()
    return page, token


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _clean(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v is not None}


def _describe_status(state: StudioState, record: Any) -> str:
    """A new resource answers Pending for ``pending_describes`` describes, then InService."""
    with state.lock:
        if record.status == "Pending" and record.until is None:
            if record.pending > 0:
                record.pending -= 1
                return "Pending"
            record.status = "InService"
    return record.status


# -- response methods (added to moto's SageMakerResponse) -------------------------------------------------------
def _answer(handler: Any) -> Any:
    def method(self: SageMakerResponse) -> Any:
        state = studio_state(self.current_account, self.region)
        params = json.loads(self.body or "{}") if isinstance(self.body, str | bytes) else {}
        state.tick()
        try:
            payload = handler(state, params)
        except StudioError as exc:
            return (
                400,
                {"Content-Type": "application/x-amz-json-1.1", "status": 400},
                json.dumps({"__type": exc.code, "message": exc.message}),
            )
        return json.dumps(payload if payload is not None else {})

    method.__name__ = handler.__name__
    return method


def _domain_summary(d: DomainRecord) -> dict[str, Any]:
    return {
        "DomainArn": d.arn,
        "DomainId": d.domain_id,
        "DomainName": d.name,
        "Status": d.status,
        "CreationTime": _ts(d.created),
        "LastModifiedTime": _ts(d.modified),
        "Url": d.url,
    }


def create_domain(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    record = state.create_domain(
        name=p.get("DomainName"),
        auth_mode=p.get("AuthMode"),
        default_user_settings=p.get("DefaultUserSettings") or {},
        subnet_ids=p.get("SubnetIds"),
        vpc_id=p.get("VpcId"),
        network=p.get("AppNetworkAccessType"),
        default_space_settings=p.get("DefaultSpaceSettings"),
        domain_settings=p.get("DomainSettings"),
        tag_propagation=p.get("TagPropagation"),
        tags=p.get("Tags"),
    )
    return {"DomainArn": record.arn, "DomainId": record.domain_id, "Url": record.url}


def describe_domain(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    d = state.domain(p.get("DomainId", ""))
    return _clean(
        {
            "DomainArn": d.arn,
            "DomainId": d.domain_id,
            "DomainName": d.name,
            "HomeEfsFileSystemId": d.home_efs_id,
            "Status": _describe_status(state, d),
            "CreationTime": _ts(d.created),
            "LastModifiedTime": _ts(d.modified),
            "AuthMode": d.auth_mode,
            "DefaultUserSettings": d.default_user_settings,
            "DomainSettings": d.domain_settings,
            "AppNetworkAccessType": d.network,
            "SubnetIds": d.subnet_ids or None,
            "Url": d.url,
            "VpcId": d.vpc_id or None,
            "TagPropagation": d.tag_propagation,
            "DefaultSpaceSettings": d.default_space_settings,
        }
    )


def list_domains(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    page, token = _listing(list(state.domains.values()), p, default=LIST_DOMAINS_PAGE, sortable=False)
    return _clean({"Domains": [_domain_summary(d) for d in page], "NextToken": token})


def update_domain(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    return {"DomainArn": state.update_domain(p.get("DomainId", ""), p).arn}


def delete_domain(state: StudioState, p: dict[str, Any]) -> None:
    state.delete_domain(p.get("DomainId", ""), p.get("RetentionPolicy"))


def create_user_profile(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    record = state.create_user_profile(
        domain_id=p.get("DomainId", ""),
        name=p.get("UserProfileName"),
        user_settings=p.get("UserSettings"),
        sso_identifier=p.get("SingleSignOnUserIdentifier"),
        sso_value=p.get("SingleSignOnUserValue"),
        tags=p.get("Tags"),
    )
    return {"UserProfileArn": record.arn}


def describe_user_profile(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    r = state.profile(p.get("DomainId", ""), p.get("UserProfileName", ""))
    return _clean(
        {
            "DomainId": r.domain_id,
            "UserProfileArn": r.arn,
            "UserProfileName": r.name,
            "HomeEfsFileSystemUid": r.home_uid,
            "Status": _describe_status(state, r),
            "LastModifiedTime": _ts(r.modified),
            "CreationTime": _ts(r.created),
            "SingleSignOnUserIdentifier": "UserName" if r.sso_value else None,
            "SingleSignOnUserValue": r.sso_value,
            "UserSettings": r.user_settings,
        }
    )


def list_user_profiles(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    records = [
        r
        for r in state.profiles.values()
        if (not p.get("DomainIdEquals") or r.domain_id == p["DomainIdEquals"])
        and (not p.get("UserProfileNameContains") or p["UserProfileNameContains"] in r.name)
    ]
    page, token = _listing(records, p, default=10)
    return _clean(
        {
            "UserProfiles": [
                {
                    "DomainId": r.domain_id,
                    "UserProfileName": r.name,
                    "Status": r.status,
                    "CreationTime": _ts(r.created),
                    "LastModifiedTime": _ts(r.modified),
                }
                for r in page
            ],
            "NextToken": token,
        }
    )


def update_user_profile(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    record = state.update_user_profile(p.get("DomainId", ""), p.get("UserProfileName", ""), p.get("UserSettings") or {})
    return {"UserProfileArn": record.arn}


def delete_user_profile(state: StudioState, p: dict[str, Any]) -> None:
    state.delete_user_profile(p.get("DomainId", ""), p.get("UserProfileName", ""))


def create_space(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    record = state.create_space(
        domain_id=p.get("DomainId", ""),
        name=p.get("SpaceName"),
        space_settings=p.get("SpaceSettings"),
        owner=(p.get("OwnershipSettings") or {}).get("OwnerUserProfileName"),
        sharing=(p.get("SpaceSharingSettings") or {}).get("SharingType"),
        display_name=p.get("SpaceDisplayName"),
        tags=p.get("Tags"),
    )
    return {"SpaceArn": record.arn}


def _space_body(state: StudioState, r: SpaceRecord, *, describe: bool) -> dict[str, Any]:
    if describe:
        return _clean(
            {
                "DomainId": r.domain_id,
                "SpaceArn": r.arn,
                "SpaceName": r.name,
                "HomeEfsFileSystemUid": r.home_uid,
                "Status": _describe_status(state, r),
                "LastModifiedTime": _ts(r.modified),
                "CreationTime": _ts(r.created),
                "SpaceSettings": r.space_settings,
                "OwnershipSettings": {"OwnerUserProfileName": r.owner} if r.owner else None,
                "SpaceSharingSettings": {"SharingType": r.sharing} if r.sharing else None,
                "SpaceDisplayName": r.display_name,
                "Url": f"{state.domains[r.domain_id].url}/jupyterlab/default" if r.domain_id in state.domains else None,
            }
        )
    settings = r.space_settings
    summary = _clean(
        {
            "AppType": settings.get("AppType"),
            "SpaceStorageSettings": settings.get("SpaceStorageSettings"),
        }
    )
    return _clean(
        {
            "DomainId": r.domain_id,
            "SpaceName": r.name,
            "Status": r.status,
            "CreationTime": _ts(r.created),
            "LastModifiedTime": _ts(r.modified),
            "SpaceSettingsSummary": summary or None,
            "SpaceSharingSettingsSummary": {"SharingType": r.sharing} if r.sharing else None,
            "OwnershipSettingsSummary": {"OwnerUserProfileName": r.owner} if r.owner else None,
            "SpaceDisplayName": r.display_name,
        }
    )


def describe_space(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    return _space_body(state, state.space(p.get("DomainId", ""), p.get("SpaceName", "")), describe=True)


def list_spaces(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    records = [
        r
        for r in state.spaces.values()
        if (not p.get("DomainIdEquals") or r.domain_id == p["DomainIdEquals"])
        and (not p.get("SpaceNameContains") or p["SpaceNameContains"] in r.name)
    ]
    page, token = _listing(records, p, default=10)
    return _clean({"Spaces": [_space_body(state, r, describe=False) for r in page], "NextToken": token})


def update_space(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    record = state.update_space(
        p.get("DomainId", ""), p.get("SpaceName", ""), p.get("SpaceSettings"), p.get("SpaceDisplayName")
    )
    return {"SpaceArn": record.arn}


def delete_space(state: StudioState, p: dict[str, Any]) -> None:
    state.delete_space(p.get("DomainId", ""), p.get("SpaceName", ""))


def create_app(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    record = state.create_app(
        domain_id=p.get("DomainId", ""),
        app_type=p.get("AppType", ""),
        name=p.get("AppName", ""),
        profile=p.get("UserProfileName"),
        space=p.get("SpaceName"),
        resource_spec=p.get("ResourceSpec"),
        tags=p.get("Tags"),
    )
    return {"AppArn": record.arn}


def describe_app(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    r = state.app(
        p.get("DomainId", ""), p.get("AppType", ""), p.get("AppName", ""), p.get("UserProfileName"), p.get("SpaceName")
    )
    return _clean(
        {
            "AppArn": r.arn,
            "AppType": r.app_type,
            "AppName": r.name,
            "DomainId": r.domain_id,
            "UserProfileName": r.profile,
            "SpaceName": r.space,
            "Status": _describe_status(state, r),
            "LastHealthCheckTimestamp": _ts(_last_health_check(r)),
            "LastUserActivityTimestamp": _ts(r.last_activity),
            "CreationTime": _ts(r.created),
            "ResourceSpec": r.resource_spec,
        }
    )


def _last_health_check(r: AppRecord) -> datetime:
    """The last health check of a running app: the latest multiple of HEALTH_CHECK_SECONDS since it was created
    (at its creation while Pending or once it stops running)."""
    if r.status != "InService":
        return r.created
    since = max((_now() - r.created).total_seconds(), 0.0)
    return r.created + timedelta(seconds=since - since % HEALTH_CHECK_SECONDS)


def list_apps(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("UserProfileNameEquals") and p.get("SpaceNameEquals"):
        raise StudioError("ValidationException", "Give at most one of UserProfileNameEquals and SpaceNameEquals.")
    profile = (p.get("UserProfileNameEquals") or "").lower()
    space = (p.get("SpaceNameEquals") or "").lower()
    records = [
        r
        for r in state.apps.values()
        if (not p.get("DomainIdEquals") or r.domain_id == p["DomainIdEquals"])
        and (not profile or (r.profile or "").lower() == profile)
        and (not space or (r.space or "").lower() == space)
    ]
    page, token = _listing(records, p, default=10, sort_keys=APP_SORT_BY)
    return _clean(
        {
            "Apps": [
                _clean(
                    {
                        "DomainId": r.domain_id,
                        "UserProfileName": r.profile,
                        "SpaceName": r.space,
                        "AppType": r.app_type,
                        "AppName": r.name,
                        "Status": r.status,
                        "CreationTime": _ts(r.created),
                        "ResourceSpec": r.resource_spec,
                    }
                )
                for r in page
            ],
            "NextToken": token,
        }
    )


def delete_app(state: StudioState, p: dict[str, Any]) -> None:
    state.delete_app(
        p.get("DomainId", ""), p.get("AppType", ""), p.get("AppName", ""), p.get("UserProfileName"), p.get("SpaceName")
    )


def create_presigned_domain_url(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(p.get("DomainId", ""))
    if domain.auth_mode != "IAM":
        raise StudioError(
            "ValidationException",
            "CreatePresignedDomainUrl is only for domains that use IAM "
            "authentication; SSO users sign in through the access portal.",
        )
    state.profile(domain.domain_id, p.get("UserProfileName", ""))
    expires = p.get("ExpiresInSeconds", 300)
    if not 5 <= int(expires) <= 300:
        raise _invalid("expiresInSeconds", expires, "Member must have value between 5 and 300")
    session = p.get("SessionExpirationDurationInSeconds", 43200)
    if not 1800 <= int(session) <= 43200:
        raise _invalid("sessionExpirationDurationInSeconds", session, "Member must have value between 1800 and 43200")
    if p.get("SpaceName"):
        state.space(domain.domain_id, p["SpaceName"])
    grant = studiopage.tokens.issue(
        account_id=state.account_id,
        region=state.region,
        domain_id=domain.domain_id,
        domain_name=domain.name,
        profile=p["UserProfileName"],
        space=p.get("SpaceName"),
        expires_in=int(expires),
        session_seconds=int(session),
    )
    return {"AuthorizedUrl": studiopage.authorized_url(domain.url, grant.token)}


# Tags: our ARNs here, every other ARN (training jobs, models, experiments...) to moto's own methods.
_STUDIO_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sagemaker:[^:]+:\d{12}:(domain|user-profile|space|app)/")


def _tag_method(name: str, original: Any, handler: Any) -> Any:
    studio_method = _answer(handler)

    def method(self: SageMakerResponse) -> Any:
        params = json.loads(self.body or "{}") if isinstance(self.body, str | bytes) else {}
        if _STUDIO_ARN_RE.match(str(params.get("ResourceArn", ""))):
            return studio_method(self)
        return original(self)

    method.__name__ = name
    return method


def _owned(state: StudioState, arn: str) -> None:
    if not state.owns(arn):
        raise StudioError("ResourceNotFound", f"Resource {arn} does not exist.")


def add_tags(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    _owned(state, p["ResourceArn"])
    state.add_tags(p["ResourceArn"], p.get("Tags") or [])
    return {"Tags": p.get("Tags") or []}


def list_tags(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    _owned(state, p["ResourceArn"])
    max_results = p.get("MaxResults", 50)
    if not isinstance(max_results, int) or max_results < 50:
        raise _invalid("maxResults", max_results, "Member must have value greater than or equal to 50")
    tags = state.list_tags(p["ResourceArn"])
    start = 0
    if p.get("NextToken"):
        try:
            start = int(base64.urlsafe_b64decode(p["NextToken"].encode()).decode().removeprefix("sbx:"))
        except ValueError:
            raise StudioError("ValidationException", "The NextToken is not valid.") from None
    following = start + max_results
    token = base64.urlsafe_b64encode(f"sbx:{following}".encode()).decode() if following < len(tags) else None
    return _clean({"Tags": tags[start:following], "NextToken": token})


def delete_tags(state: StudioState, p: dict[str, Any]) -> None:
    _owned(state, p["ResourceArn"])
    state.delete_tags(p["ResourceArn"], p.get("TagKeys") or [])


OPERATIONS = [
    create_domain,
    describe_domain,
    list_domains,
    update_domain,
    delete_domain,
    create_user_profile,
    describe_user_profile,
    list_user_profiles,
    update_user_profile,
    delete_user_profile,
    create_space,
    describe_space,
    list_spaces,
    update_space,
    delete_space,
    create_app,
    describe_app,
    list_apps,
    delete_app,
    create_presigned_domain_url,
]


def install() -> None:
    for handler in OPERATIONS:
        setattr(SageMakerResponse, handler.__name__, _answer(handler))
    for handler in (add_tags, list_tags, delete_tags):
        original = getattr(SageMakerResponse, handler.__name__)
        original = getattr(original, "__sandbox_original__", original)
        method = _tag_method(handler.__name__, original, handler)
        method.__sandbox_original__ = original  # type: ignore[attr-defined]
        setattr(SageMakerResponse, handler.__name__, method)
