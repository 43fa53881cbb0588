"""SageMaker Studio in the AWS sandbox: domains, user profiles, spaces, apps, tags and presigned domain URLs.

moto 5.2.5 has a buggy subset of the domain operations and none of the others (see AWS-NOTES.md). This module keeps
its own state on moto's per-account, per-region SageMaker backend (attribute ``studio``), so moto's reset (leaving
``mock_aws``, ``/moto-api/reset``) clears it, and answers in the shapes of botocore's output models with AWS's error
codes, validation and pagination.

Layout:

1. Assumptions: behaviour nobody has seen AWS show, each in one named constant.
2. Validation: every request is checked against botocore's *input* model the way AWS checks it server side (patterns,
   lengths, ranges, enums, which botocore's client does not check), plus the rules the model cannot express.
3. State: one dataclass per resource and :class:`StudioState`, whose ``create_*`` / ``update_*`` / ``delete_*``
   methods are the only code path that changes anything. Seeds and benchmarks call them directly
   (:func:`studio_state`); the response methods call the same methods.
4. Response methods added to :class:`moto.sagemaker.responses.SageMakerResponse` by :func:`install`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import json
import random
import re
import secrets
import string
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

# ---------------------------------------------------------------------------------------------------------------------
# 1. Assumptions (marked "assumed" in AWS-NOTES.md or not documented by AWS): change them here.
# ---------------------------------------------------------------------------------------------------------------------

# AWS does not document domain names as unique; two domains may share a name and differ by id.
DOMAIN_NAMES_UNIQUE = False
# DeleteDomain answers ResourceInUse while the domain still has user profiles or spaces. RetentionPolicy only says
# what happens to the home EFS volume (Retain, the default, or Delete); it never deletes members.
DOMAIN_DELETE_NEEDS_NO_MEMBERS = True
# DeleteUserProfile answers ResourceInUse while the profile has apps that are not Deleted or owns spaces.
PROFILE_DELETE_NEEDS_NO_APPS_OR_SPACES = True
# DeleteSpace answers ResourceInUse while the space has apps that are not Deleted.
SPACE_DELETE_NEEDS_NO_APPS = True
# A VpcOnly domain needs VpcId and SubnetIds.
VPC_ONLY_NEEDS_NETWORK = True
# JupyterLab and CodeEditor apps run in spaces only (Studio); the other types may run on a user profile.
SPACE_ONLY_APP_TYPES = ("JupyterLab", "CodeEditor")
# How many Describe calls a newly created domain, profile, space or app answers "Pending" before "InService", so a
# portal that waits for InService has something to wait for. Per state: ``studio_state(...).pending_describes``.
PENDING_DESCRIBES = 1
# Default page size when MaxResults is absent. AWS documents 10 for the Studio lists; for ListDomains it is assumed.
DEFAULT_PAGE_SIZE = 10
# ListTags: MaxResults has a minimum of 50 (botocore model); the default page is assumed to be 50 as well.
DEFAULT_TAG_PAGE_SIZE = 50
# A resource carries at most this many tags (system tags on apps included: assumed).
MAX_TAGS = 50
# Tags on a missing domain/profile/space/app ARN: assumed ResourceNotFound.
MISSING_TAGGED_RESOURCE_CODE = "ResourceNotFound"

RESERVED_TAG_PREFIX = "aws:"
SYSTEM_TAG_DOMAIN = "sagemaker:domain-arn"
SYSTEM_TAG_PROFILE = "sagemaker:user-profile-arn"
SYSTEM_TAG_SPACE = "sagemaker:space-arn"
# Instance type of an app created without ResourceSpec.InstanceType.
DEFAULT_INSTANCE_TYPES = {"JupyterServer": "system", "JupyterLab": "ml.t3.medium", "CodeEditor": "ml.t3.medium",
                          "KernelGateway": "ml.t3.medium", "Canvas": "system", "RStudioServerPro": "system"}
SPACE_APP_TYPES = ("JupyterServer", "KernelGateway", "CodeEditor", "JupyterLab")


class StudioError(Exception):
    """An AWS error answer: ``code`` (ResourceNotFound, ResourceInUse, ValidationException...) and ``message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def not_found(message: str) -> StudioError:
    return StudioError("ResourceNotFound", message)


def in_use(message: str) -> StudioError:
    return StudioError("ResourceInUse", message)


def invalid(message: str) -> StudioError:
    return StudioError("ValidationException", message)


# ---------------------------------------------------------------------------------------------------------------------
# 2. Validation
# ---------------------------------------------------------------------------------------------------------------------


@functools.cache
def _service_model() -> Any:
    return botocore.session.get_session().get_service_model("sagemaker")


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # a few AWS (Java) patterns, e.g. \p{L}, are not Python syntax: not checked
        return None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _join(path: str, name: str) -> str:
    return f"{path}.{_camel(name)}" if path else _camel(name)


def _problem(value: Any, path: str, constraint: str) -> str:
    shown = "null" if value is None else f"'{value}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def _check_shape(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    meta = shape.metadata
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            problems.append(_problem(value, path, "Member must be a structure"))
            return
        for name in shape.required_members:
            if value.get(name) is None:
                problems.append(_problem(None, _join(path, name), "Member must not be null"))
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is None:
                problems.append(_problem(member_value, _join(path, name), "Member is not a known parameter"))
            elif member_value is not None:
                _check_shape(member, member_value, _join(path, name), problems)
        return
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            problems.append(_problem(value, path, "Member must be a list"))
            return
        _check_length(value, meta, path, problems)
        for index, item in enumerate(value, start=1):
            _check_shape(shape.member, item, f"{path}.{index}.member", problems)
        return
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            problems.append(_problem(value, path, "Member must be a map"))
        return
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            problems.append(_problem(value, path, "Member must be a string"))
            return
        _check_length(value, meta, path, problems)
        if meta.get("enum") and value not in meta["enum"]:
            problems.append(_problem(value, path, f"Member must satisfy enum value set: [{', '.join(meta['enum'])}]"))
        compiled = _pattern(meta["pattern"]) if meta.get("pattern") else None
        if compiled is not None and not compiled.fullmatch(value):
            problems.append(_problem(value, path, f"Member must satisfy regular expression pattern: {meta['pattern']}"))
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(_problem(value, path, "Member must be a number"))
            return
        if "min" in meta and value < meta["min"]:
            problems.append(_problem(value, path, f"Member must have value greater than or equal to {meta['min']}"))
        if "max" in meta and value > meta["max"]:
            problems.append(_problem(value, path, f"Member must have value less than or equal to {meta['max']}"))
    elif kind == "boolean" and not isinstance(value, bool):
        problems.append(_problem(value, path, "Member must be a boolean"))


def _check_length(value: Any, meta: dict[str, Any], path: str, problems: list[str]) -> None:
    if "min" in meta and len(value) < meta["min"]:
        problems.append(_problem(value, path, f"Member must have length greater than or equal to {meta['min']}"))
    if "max" in meta and len(value) > meta["max"]:
        problems.append(_problem(value, path, f"Member must have length less than or equal to {meta['max']}"))


def validation_error(problems: list[str]) -> StudioError:
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    return invalid(f"{count} validation {noun} detected: " + "; ".join(problems))


def validate_request(operation: str, params: dict[str, Any]) -> None:
    """Check ``params`` against the operation's input model as AWS does; ValidationException naming each field."""
    problems: list[str] = []
    _check_shape(_service_model().operation_model(operation).input_shape, params, "", problems)
    if problems:
        raise validation_error(problems)


def _check_tags(tags: list[dict[str, str]]) -> None:
    reserved = [t.get("Key", "") for t in tags if str(t.get("Key", "")).lower().startswith(RESERVED_TAG_PREFIX)]
    if reserved:
        raise invalid(f"Tag keys starting with '{RESERVED_TAG_PREFIX}' are reserved for AWS use: {', '.join(reserved)}")


def _encode_token(kind: str, offset: int) -> str:
    raw = json.dumps({"kind": kind, "offset": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(kind: str, token: str | None) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        decoded = json.loads(raw)
        if decoded["kind"] != kind or not isinstance(decoded["offset"], int) or decoded["offset"] < 0:
            raise ValueError(token)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise invalid("The NextToken provided is not valid.") from None
    return decoded["offset"]


def paginate(kind: str, items: list[Any], max_results: int, token: str | None) -> tuple[list[Any], str | None]:
    """One page of ``items`` and the opaque token of the next one (None on the last page)."""
    start = _decode_token(kind, token)
    end = start + max_results
    return items[start:end], (_encode_token(kind, end) if end < len(items) else None)


# ---------------------------------------------------------------------------------------------------------------------
# 3. State
# ---------------------------------------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _compact(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v is not None}


def merge_settings(base: dict[str, Any] | None, changes: dict[str, Any] | None) -> dict[str, Any]:
    """Update semantics of Update*: members given replace what is there (structures member by member)."""
    merged = copy.deepcopy(base or {})
    for key, value in (changes or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_settings(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@dataclass
class _Lifecycle:
    """Status that starts Pending for a few Describe calls, then InService."""

    created: datetime
    modified: datetime
    status: str
    pending: int

    def advance(self) -> str:
        if self.status == "Pending":
            if self.pending > 0:
                self.pending -= 1
            else:
                self.status = "InService"
        return self.status


@dataclass
class Domain(_Lifecycle):
    account_id: str = ""
    region: str = ""
    domain_id: str = ""
    name: str = ""
    auth_mode: str = "IAM"
    app_network_access_type: str = "PublicInternetOnly"
    vpc_id: str | None = None
    subnet_ids: list[str] = field(default_factory=list)
    default_user_settings: dict[str, Any] = field(default_factory=dict)
    default_space_settings: dict[str, Any] | None = None
    domain_settings: dict[str, Any] | None = None
    tag_propagation: str = "DISABLED"
    home_efs_id: str = ""
    security_group_id: str | None = None
    sso_instance_id: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:domain/{self.domain_id}"

    @property
    def url(self) -> str:
        return f"https://{self.domain_id}.studio.{self.region}.sagemaker.aws"

    def child_arn(self, kind: str, *parts: str) -> str:
        """The ARN of a resource of this domain: ``<kind>/<domainId>/<parts...>``."""
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{kind}/" + "/".join((self.domain_id, *parts))

    def summary(self) -> dict[str, Any]:
        return {"DomainArn": self.arn, "DomainId": self.domain_id, "DomainName": self.name, "Status": self.status,
                "CreationTime": _ts(self.created), "LastModifiedTime": _ts(self.modified), "Url": self.url}

    def description(self) -> dict[str, Any]:
        return _compact({
            "DomainArn": self.arn, "DomainId": self.domain_id, "DomainName": self.name,
            "HomeEfsFileSystemId": self.home_efs_id, "SingleSignOnManagedApplicationInstanceId": self.sso_instance_id,
            "Status": self.status, "CreationTime": _ts(self.created), "LastModifiedTime": _ts(self.modified),
            "SecurityGroupIdForDomainBoundary": self.security_group_id, "AuthMode": self.auth_mode,
            "DefaultUserSettings": self.default_user_settings, "DomainSettings": self.domain_settings,
            "AppNetworkAccessType": self.app_network_access_type, "SubnetIds": self.subnet_ids or None,
            "Url": self.url, "VpcId": self.vpc_id, "TagPropagation": self.tag_propagation,
            "DefaultSpaceSettings": self.default_space_settings,
        })


@dataclass
class UserProfile(_Lifecycle):
    domain: Domain | None = None
    name: str = ""
    user_settings: dict[str, Any] = field(default_factory=dict)
    sso_user_value: str | None = None
    home_uid: str = ""

    @property
    def domain_id(self) -> str:
        return self.domain.domain_id if self.domain else ""

    @property
    def arn(self) -> str:
        assert self.domain is not None
        return self.domain.child_arn("user-profile", self.name)

    def summary(self) -> dict[str, Any]:
        return {"DomainId": self.domain_id, "UserProfileName": self.name, "Status": self.status,
                "CreationTime": _ts(self.created), "LastModifiedTime": _ts(self.modified)}

    def description(self) -> dict[str, Any]:
        return _compact({
            "DomainId": self.domain_id, "UserProfileArn": self.arn, "UserProfileName": self.name,
            "HomeEfsFileSystemUid": self.home_uid, "Status": self.status, "LastModifiedTime": _ts(self.modified),
            "CreationTime": _ts(self.created),
            "SingleSignOnUserIdentifier": "UserName" if self.sso_user_value else None,
            "SingleSignOnUserValue": self.sso_user_value, "UserSettings": self.user_settings,
        })


@dataclass
class Space(_Lifecycle):
    domain: Domain | None = None
    name: str = ""
    display_name: str | None = None
    space_settings: dict[str, Any] = field(default_factory=dict)
    owner: str | None = None
    sharing_type: str | None = None
    home_uid: str = ""
    url_id: str = ""

    @property
    def domain_id(self) -> str:
        return self.domain.domain_id if self.domain else ""

    @property
    def arn(self) -> str:
        assert self.domain is not None
        return self.domain.child_arn("space", self.name)

    @property
    def app_type(self) -> str | None:
        return self.space_settings.get("AppType")

    def summary(self) -> dict[str, Any]:
        settings = _compact({"AppType": self.app_type, "RemoteAccess": self.space_settings.get("RemoteAccess"),
                             "SpaceStorageSettings": self.space_settings.get("SpaceStorageSettings")})
        return _compact({
            "DomainId": self.domain_id, "SpaceName": self.name, "Status": self.status,
            "CreationTime": _ts(self.created), "LastModifiedTime": _ts(self.modified),
            "SpaceSettingsSummary": settings or None,
            "SpaceSharingSettingsSummary": {"SharingType": self.sharing_type} if self.sharing_type else None,
            "OwnershipSettingsSummary": {"OwnerUserProfileName": self.owner} if self.owner else None,
            "SpaceDisplayName": self.display_name,
        })

    def description(self) -> dict[str, Any]:
        assert self.domain is not None
        return _compact({
            "DomainId": self.domain_id, "SpaceArn": self.arn, "SpaceName": self.name,
            "HomeEfsFileSystemUid": self.home_uid, "Status": self.status, "LastModifiedTime": _ts(self.modified),
            "CreationTime": _ts(self.created), "SpaceSettings": self.space_settings,
            "OwnershipSettings": {"OwnerUserProfileName": self.owner} if self.owner else None,
            "SpaceSharingSettings": {"SharingType": self.sharing_type} if self.sharing_type else None,
            "SpaceDisplayName": self.display_name,
            "Url": f"https://{self.url_id}.studio.{self.domain.region}.sagemaker.aws",
        })


@dataclass
class App(_Lifecycle):
    domain: Domain | None = None
    app_type: str = ""
    name: str = ""
    user_profile_name: str | None = None
    space_name: str | None = None
    resource_spec: dict[str, Any] = field(default_factory=dict)
    last_user_activity: datetime | None = None
    last_health_check: datetime | None = None

    @property
    def domain_id(self) -> str:
        return self.domain.domain_id if self.domain else ""

    @property
    def owner_name(self) -> str:
        return self.space_name or self.user_profile_name or ""

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return app_key(self.domain_id, self.user_profile_name, self.space_name, self.app_type, self.name)

    @property
    def arn(self) -> str:
        assert self.domain is not None
        return self.domain.child_arn("app", self.owner_name, self.app_type.lower(), self.name)

    @property
    def instance_type(self) -> str | None:
        return self.resource_spec.get("InstanceType")

    def summary(self) -> dict[str, Any]:
        return _compact({
            "DomainId": self.domain_id, "UserProfileName": self.user_profile_name, "SpaceName": self.space_name,
            "AppType": self.app_type, "AppName": self.name, "Status": self.status,
            "CreationTime": _ts(self.created), "ResourceSpec": self.resource_spec,
        })

    def description(self) -> dict[str, Any]:
        return _compact({
            "AppArn": self.arn, "AppType": self.app_type, "AppName": self.name, "DomainId": self.domain_id,
            "UserProfileName": self.user_profile_name, "SpaceName": self.space_name, "Status": self.status,
            "LastHealthCheckTimestamp": _ts(self.last_health_check or self.modified),
            "LastUserActivityTimestamp": _ts(self.last_user_activity),
            "CreationTime": _ts(self.created), "ResourceSpec": self.resource_spec,
        })


def app_key(domain_id: str, profile: str | None, space: str | None, app_type: str, name: str) -> tuple[str, ...]:
    return (domain_id, profile or "", space or "", app_type.lower(), name)


_STUDIO_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<kind>domain|user-profile|space|app)/(?P<rest>.+)$"
)


def is_studio_arn(arn: str) -> bool:
    """Domain, user-profile, space and app ARNs are this module's; every other SageMaker ARN is moto's."""
    return bool(_STUDIO_ARN.match(arn or ""))


class StudioState:
    """Everything the sandbox knows about Studio in one account and region.

    Ids (domain ids, EFS ids, home uids) come from a random generator seeded with the account and region, so the
    same calls in the same order give the same ids in every run.
    """

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self.domains: dict[str, Domain] = {}
        self.profiles: dict[tuple[str, str], UserProfile] = {}
        self.spaces: dict[tuple[str, str], Space] = {}
        self.apps: dict[tuple[str, ...], App] = {}
        self.tags: dict[str, dict[str, str]] = {}
        self.pending_describes = PENDING_DESCRIBES
        self.random = random.Random(f"sagemaker-studio/{account_id}/{region}")
        self.lock = threading.RLock()
        self._next_uid = 200000

    # -- helpers ----------------------------------------------------------------------------------------------------
    def _token(self, alphabet: str, length: int) -> str:
        return "".join(self.random.choice(alphabet) for _ in range(length))

    def _uid(self) -> str:
        self._next_uid += 1
        return str(self._next_uid)

    def _lifecycle(self, created: datetime | None, in_service: bool) -> dict[str, Any]:
        when = created or _now()
        pending = 0 if in_service else self.pending_describes
        return {"created": when, "modified": when, "status": "Pending" if pending else "InService",
                "pending": pending}

    # -- domains ----------------------------------------------------------------------------------------------------
    def create_domain(
        self,
        name: str,
        *,
        auth_mode: str = "IAM",
        default_user_settings: dict[str, Any] | None = None,
        vpc_id: str | None = None,
        subnet_ids: list[str] | None = None,
        app_network_access_type: str | None = None,
        domain_settings: dict[str, Any] | None = None,
        default_space_settings: dict[str, Any] | None = None,
        tag_propagation: str | None = None,
        tags: list[dict[str, str]] | None = None,
        created: datetime | None = None,
        in_service: bool = False,
    ) -> Domain:
        """CreateDomain. ``in_service`` skips the Pending describes (seeds)."""
        if default_user_settings is None:
            default_user_settings = {}
        request = _compact({
            "DomainName": name, "AuthMode": auth_mode, "DefaultUserSettings": default_user_settings,
            "VpcId": vpc_id, "SubnetIds": subnet_ids, "AppNetworkAccessType": app_network_access_type,
            "DomainSettings": domain_settings, "DefaultSpaceSettings": default_space_settings,
            "TagPropagation": tag_propagation, "Tags": tags,
        })
        validate_request("CreateDomain", request)
        _check_tags(tags or [])
        network = app_network_access_type or "PublicInternetOnly"
        if VPC_ONLY_NEEDS_NETWORK and network == "VpcOnly" and not (vpc_id and subnet_ids):
            raise invalid("VpcId and SubnetIds are required when AppNetworkAccessType is VpcOnly.")
        with self.lock:
            if DOMAIN_NAMES_UNIQUE and any(d.name == name for d in self.domains.values()):
                raise in_use(f"Domain with name {name} already exists.")
            domain_id = "d-" + self._token(string.ascii_lowercase + string.digits, 12)
            while domain_id in self.domains:
                domain_id = "d-" + self._token(string.ascii_lowercase + string.digits, 12)
            domain = Domain(
                **self._lifecycle(created, in_service),
                account_id=self.account_id, region=self.region, domain_id=domain_id, name=name,
                auth_mode=auth_mode, app_network_access_type=network, vpc_id=vpc_id,
                subnet_ids=list(subnet_ids or []),
                default_user_settings=copy.deepcopy(default_user_settings or {}),
                default_space_settings=copy.deepcopy(default_space_settings),
                domain_settings=copy.deepcopy(domain_settings),
                tag_propagation=tag_propagation or "DISABLED",
                home_efs_id="fs-" + self._token("0123456789abcdef", 17),
                security_group_id=("sg-" + self._token("0123456789abcdef", 17)) if network == "VpcOnly" else None,
                sso_instance_id=("ins-" + self._token("0123456789abcdef", 16)) if auth_mode == "SSO" else None,
            )
            self.domains[domain_id] = domain
            self._replace_tags(domain.arn, tags or [])
            return domain

    def domain(self, domain_id: str | None) -> Domain:
        domain = self.domains.get(domain_id or "")
        if domain is None:
            raise not_found(f"Domain {self._domain_arn(domain_id)} does not exist.")
        return domain

    def _domain_arn(self, domain_id: str | None) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:domain/{domain_id}"

    def describe_domain(self, domain_id: str | None) -> Domain:
        validate_request("DescribeDomain", _compact({"DomainId": domain_id}))
        with self.lock:
            domain = self.domain(domain_id)
            domain.advance()
            return domain

    def list_domains(self) -> list[Domain]:
        return sorted(self.domains.values(), key=lambda d: (d.created, d.domain_id))

    def update_domain(
        self,
        domain_id: str,
        *,
        default_user_settings: dict[str, Any] | None = None,
        domain_settings_for_update: dict[str, Any] | None = None,
        default_space_settings: dict[str, Any] | None = None,
        app_network_access_type: str | None = None,
        subnet_ids: list[str] | None = None,
        vpc_id: str | None = None,
        tag_propagation: str | None = None,
        app_security_group_management: str | None = None,
    ) -> Domain:
        validate_request("UpdateDomain", _compact({
            "DomainId": domain_id, "DefaultUserSettings": default_user_settings,
            "DomainSettingsForUpdate": domain_settings_for_update, "DefaultSpaceSettings": default_space_settings,
            "AppNetworkAccessType": app_network_access_type, "SubnetIds": subnet_ids, "VpcId": vpc_id,
            "TagPropagation": tag_propagation, "AppSecurityGroupManagement": app_security_group_management,
        }))
        with self.lock:
            domain = self.domain(domain_id)
            network = app_network_access_type or domain.app_network_access_type
            if (VPC_ONLY_NEEDS_NETWORK and network == "VpcOnly"
                    and not ((vpc_id or domain.vpc_id) and (subnet_ids or domain.subnet_ids))):
                raise invalid("VpcId and SubnetIds are required when AppNetworkAccessType is VpcOnly.")
            if default_user_settings is not None:
                domain.default_user_settings = merge_settings(domain.default_user_settings, default_user_settings)
            if default_space_settings is not None:
                domain.default_space_settings = merge_settings(domain.default_space_settings, default_space_settings)
            if domain_settings_for_update is not None:
                changes = dict(domain_settings_for_update)
                rstudio = changes.pop("RStudioServerProDomainSettingsForUpdate", None)
                if rstudio is not None:
                    changes["RStudioServerProDomainSettings"] = rstudio
                domain.domain_settings = merge_settings(domain.domain_settings, changes)
            if app_network_access_type is not None:
                domain.app_network_access_type = app_network_access_type
                if app_network_access_type == "VpcOnly" and not domain.security_group_id:
                    domain.security_group_id = "sg-" + self._token("0123456789abcdef", 17)
            if subnet_ids is not None:
                domain.subnet_ids = list(subnet_ids)
            if vpc_id is not None:
                domain.vpc_id = vpc_id
            if tag_propagation is not None:
                domain.tag_propagation = tag_propagation
            domain.modified = _now()
            return domain

    def delete_domain(self, domain_id: str, *, retention_policy: dict[str, str] | None = None) -> None:
        """DeleteDomain; see DOMAIN_DELETE_NEEDS_NO_MEMBERS. ``retention_policy`` only concerns the home EFS."""
        validate_request("DeleteDomain", _compact({"DomainId": domain_id, "RetentionPolicy": retention_policy}))
        with self.lock:
            domain = self.domain(domain_id)
            profiles = [p for p in self.profiles.values() if p.domain is domain]
            spaces = [s for s in self.spaces.values() if s.domain is domain]
            if DOMAIN_DELETE_NEEDS_NO_MEMBERS and (profiles or spaces):
                raise in_use(f"Domain {domain.arn} still has {len(profiles)} user profile(s) and {len(spaces)} "
                             "space(s); delete them first.")
            for key in [k for k, app in self.apps.items() if app.domain is domain]:
                self.tags.pop(self.apps.pop(key).arn, None)
            for key in [k for k, p in self.profiles.items() if p.domain is domain]:
                self.tags.pop(self.profiles.pop(key).arn, None)
            for key in [k for k, s in self.spaces.items() if s.domain is domain]:
                self.tags.pop(self.spaces.pop(key).arn, None)
            del self.domains[domain.domain_id]
            self.tags.pop(domain.arn, None)

    # -- user profiles --------------------------------------------------------------------------------------------
    def create_user_profile(
        self,
        domain_id: str,
        name: str,
        *,
        user_settings: dict[str, Any] | None = None,
        sso_user_identifier: str | None = None,
        sso_user_value: str | None = None,
        tags: list[dict[str, str]] | None = None,
        created: datetime | None = None,
        in_service: bool = False,
    ) -> UserProfile:
        """CreateUserProfile. On an SSO domain give ``sso_user_identifier="UserName"`` and ``sso_user_value``."""
        validate_request("CreateUserProfile", _compact({
            "DomainId": domain_id, "UserProfileName": name, "UserSettings": user_settings,
            "SingleSignOnUserIdentifier": sso_user_identifier, "SingleSignOnUserValue": sso_user_value,
            "Tags": tags,
        }))
        _check_tags(tags or [])
        with self.lock:
            domain = self.domain(domain_id)
            if domain.auth_mode == "SSO":
                if sso_user_identifier != "UserName" or not sso_user_value:
                    raise invalid("SingleSignOnUserIdentifier 'UserName' and SingleSignOnUserValue are required for "
                                  "a user profile in a domain that uses IAM Identity Center (SSO) authentication.")
            elif sso_user_identifier or sso_user_value:
                raise invalid("SingleSignOnUserIdentifier and SingleSignOnUserValue can only be given for a domain "
                              "that uses IAM Identity Center (SSO) authentication.")
            if (domain_id, name) in self.profiles:
                raise in_use(f"User profile {name} already exists in domain {domain_id}.")
            profile = UserProfile(
                **self._lifecycle(created, in_service), domain=domain, name=name,
                user_settings=copy.deepcopy(user_settings or {}), sso_user_value=sso_user_value, home_uid=self._uid(),
            )
            self.profiles[(domain_id, name)] = profile
            self._replace_tags(profile.arn, tags or [])
            return profile

    def user_profile(self, domain_id: str | None, name: str | None) -> UserProfile:
        profile = self.profiles.get((domain_id or "", name or ""))
        if profile is None:
            raise not_found(f"User profile {name} does not exist in domain {domain_id}.")
        return profile

    def describe_user_profile(self, domain_id: str, name: str) -> UserProfile:
        validate_request("DescribeUserProfile", _compact({"DomainId": domain_id, "UserProfileName": name}))
        with self.lock:
            profile = self.user_profile(domain_id, name)
            profile.advance()
            return profile

    def list_user_profiles(
        self, *, domain_id: str | None = None, name_contains: str | None = None, sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> list[UserProfile]:
        found = [p for p in self.profiles.values()
                 if (not domain_id or p.domain_id == domain_id) and (not name_contains or name_contains in p.name)]
        return _sort(found, sort_by, sort_order)

    def update_user_profile(self, domain_id: str, name: str, *, user_settings: dict[str, Any] | None = None
                            ) -> UserProfile:
        validate_request("UpdateUserProfile", _compact({
            "DomainId": domain_id, "UserProfileName": name, "UserSettings": user_settings}))
        with self.lock:
            profile = self.user_profile(domain_id, name)
            if user_settings is not None:
                profile.user_settings = merge_settings(profile.user_settings, user_settings)
            profile.modified = _now()
            return profile

    def delete_user_profile(self, domain_id: str, name: str) -> None:
        """DeleteUserProfile; see PROFILE_DELETE_NEEDS_NO_APPS_OR_SPACES."""
        validate_request("DeleteUserProfile", _compact({"DomainId": domain_id, "UserProfileName": name}))
        with self.lock:
            profile = self.user_profile(domain_id, name)
            apps = [a for a in self.apps.values() if a.domain_id == domain_id and a.user_profile_name == name]
            live = [a for a in apps if a.status != "Deleted"]
            owned = [s for s in self.spaces.values() if s.domain_id == domain_id and s.owner == name]
            if PROFILE_DELETE_NEEDS_NO_APPS_OR_SPACES and (live or owned):
                raise in_use(f"User profile {name} in domain {domain_id} still has {len(live)} app(s) that are not "
                             f"deleted and owns {len(owned)} space(s); delete them first.")
            for app in apps:
                self.tags.pop(self.apps.pop(app.key).arn, None)
            del self.profiles[(domain_id, name)]
            self.tags.pop(profile.arn, None)

    # -- spaces -----------------------------------------------------------------------------------------------------
    def create_space(
        self,
        domain_id: str,
        name: str,
        *,
        space_settings: dict[str, Any] | None = None,
        owner: str | None = None,
        sharing_type: str | None = None,
        display_name: str | None = None,
        tags: list[dict[str, str]] | None = None,
        created: datetime | None = None,
        in_service: bool = False,
    ) -> Space:
        """CreateSpace. ``owner`` is OwnershipSettings.OwnerUserProfileName, ``sharing_type`` Private|Shared."""
        validate_request("CreateSpace", _compact({
            "DomainId": domain_id, "SpaceName": name, "SpaceSettings": space_settings,
            "OwnershipSettings": {"OwnerUserProfileName": owner} if owner is not None else None,
            "SpaceSharingSettings": {"SharingType": sharing_type} if sharing_type is not None else None,
            "SpaceDisplayName": display_name, "Tags": tags,
        }))
        _check_tags(tags or [])
        app_type = (space_settings or {}).get("AppType")
        if app_type is not None and app_type not in SPACE_APP_TYPES:
            raise validation_error([_problem(app_type, "spaceSettings.appType",
                                             f"Member must satisfy enum value set: [{', '.join(SPACE_APP_TYPES)}]")])
        if (owner is None) != (sharing_type is None):
            raise invalid("OwnershipSettings and SpaceSharingSettings must be given together.")
        with self.lock:
            domain = self.domain(domain_id)
            if owner is not None:
                self.user_profile(domain_id, owner)
            if (domain_id, name) in self.spaces:
                raise in_use(f"Space {name} already exists in domain {domain_id}.")
            space = Space(
                **self._lifecycle(created, in_service), domain=domain, name=name, display_name=display_name,
                space_settings=copy.deepcopy(space_settings or {}), owner=owner, sharing_type=sharing_type,
                home_uid=self._uid(), url_id=self._token(string.ascii_lowercase + string.digits, 16),
            )
            self.spaces[(domain_id, name)] = space
            self._replace_tags(space.arn, tags or [])
            return space

    def space(self, domain_id: str | None, name: str | None) -> Space:
        space = self.spaces.get((domain_id or "", name or ""))
        if space is None:
            raise not_found(f"Space {name} does not exist in domain {domain_id}.")
        return space

    def describe_space(self, domain_id: str, name: str) -> Space:
        validate_request("DescribeSpace", _compact({"DomainId": domain_id, "SpaceName": name}))
        with self.lock:
            space = self.space(domain_id, name)
            space.advance()
            return space

    def list_spaces(self, *, domain_id: str | None = None, name_contains: str | None = None,
                    sort_by: str | None = None, sort_order: str | None = None) -> list[Space]:
        found = [s for s in self.spaces.values()
                 if (not domain_id or s.domain_id == domain_id) and (not name_contains or name_contains in s.name)]
        return _sort(found, sort_by, sort_order)

    def update_space(self, domain_id: str, name: str, *, space_settings: dict[str, Any] | None = None,
                     display_name: str | None = None) -> Space:
        validate_request("UpdateSpace", _compact({
            "DomainId": domain_id, "SpaceName": name, "SpaceSettings": space_settings,
            "SpaceDisplayName": display_name}))
        with self.lock:
            space = self.space(domain_id, name)
            new_type = (space_settings or {}).get("AppType")
            if new_type is not None and new_type != space.app_type:
                raise invalid(f"The AppType of space {name} cannot be changed from {space.app_type} to {new_type}.")
            if space_settings is not None:
                space.space_settings = merge_settings(space.space_settings, space_settings)
            if display_name is not None:
                space.display_name = display_name
            space.modified = _now()
            return space

    def delete_space(self, domain_id: str, name: str) -> None:
        """DeleteSpace; see SPACE_DELETE_NEEDS_NO_APPS."""
        validate_request("DeleteSpace", _compact({"DomainId": domain_id, "SpaceName": name}))
        with self.lock:
            space = self.space(domain_id, name)
            apps = [a for a in self.apps.values() if a.domain_id == domain_id and a.space_name == name]
            live = [a for a in apps if a.status != "Deleted"]
            if SPACE_DELETE_NEEDS_NO_APPS and live:
                raise in_use(f"Space {name} in domain {domain_id} still has {len(live)} app(s) that are not deleted.")
            for app in apps:
                self.tags.pop(self.apps.pop(app.key).arn, None)
            del self.spaces[(domain_id, name)]
            self.tags.pop(space.arn, None)

    # -- apps -------------------------------------------------------------------------------------------------------
    def create_app(
        self,
        domain_id: str,
        app_type: str,
        name: str = "default",
        *,
        user_profile_name: str | None = None,
        space_name: str | None = None,
        resource_spec: dict[str, Any] | None = None,
        tags: list[dict[str, str]] | None = None,
        created: datetime | None = None,
        last_user_activity: datetime | None = None,
        in_service: bool = False,
    ) -> App:
        """CreateApp on a user profile or in a space (exactly one). Adds the ``sagemaker:*-arn`` system tags."""
        validate_request("CreateApp", _compact({
            "DomainId": domain_id, "AppType": app_type, "AppName": name, "UserProfileName": user_profile_name,
            "SpaceName": space_name, "ResourceSpec": resource_spec, "Tags": tags,
        }))
        _check_tags(tags or [])
        if bool(user_profile_name) == bool(space_name):
            raise invalid("Exactly one of UserProfileName and SpaceName must be given.")
        if user_profile_name and app_type in SPACE_ONLY_APP_TYPES:
            raise invalid(f"An app of type {app_type} must be created in a space (SpaceName), not on a user profile.")
        with self.lock:
            domain = self.domain(domain_id)
            owner: UserProfile | Space
            if space_name:
                owner = self.space(domain_id, space_name)
                if owner.app_type and owner.app_type != app_type:
                    raise invalid(f"Space {space_name} runs {owner.app_type} apps, not {app_type}.")
            else:
                owner = self.user_profile(domain_id, user_profile_name)
            key = app_key(domain_id, user_profile_name, space_name, app_type, name)
            existing = self.apps.get(key)
            if existing is not None and existing.status != "Deleted":
                raise in_use(f"App {existing.arn} already exists.")
            spec = dict(resource_spec or {})
            spec.setdefault("InstanceType", self._default_instance_type(app_type, owner))
            lifecycle = self._lifecycle(created, in_service)
            app = App(
                **lifecycle, domain=domain, app_type=app_type, name=name, user_profile_name=user_profile_name,
                space_name=space_name, resource_spec=spec,
                last_user_activity=last_user_activity, last_health_check=last_user_activity or lifecycle["created"],
            )
            self.apps[key] = app
            system = [{"Key": SYSTEM_TAG_DOMAIN, "Value": domain.arn},
                      {"Key": SYSTEM_TAG_SPACE if space_name else SYSTEM_TAG_PROFILE, "Value": owner.arn}]
            propagated: list[dict[str, str]] = []
            if domain.tag_propagation == "ENABLED":
                for source in (domain.arn, owner.arn):
                    propagated += [{"Key": k, "Value": v} for k, v in self.tags.get(source, {}).items()]
            self._replace_tags(app.arn, [*system, *propagated, *(tags or [])])
            return app

    @staticmethod
    def _default_instance_type(app_type: str, owner: UserProfile | Space) -> str:
        if isinstance(owner, Space):
            settings_key = {"JupyterLab": "JupyterLabAppSettings", "CodeEditor": "CodeEditorAppSettings"}.get(app_type)
            if settings_key:
                spec = owner.space_settings.get(settings_key, {}).get("DefaultResourceSpec", {})
                if spec.get("InstanceType"):
                    return spec["InstanceType"]
        return DEFAULT_INSTANCE_TYPES.get(app_type, "ml.t3.medium")

    def app(self, domain_id: str, app_type: str, name: str, *, user_profile_name: str | None = None,
            space_name: str | None = None) -> App:
        if bool(user_profile_name) == bool(space_name):
            raise invalid("Exactly one of UserProfileName and SpaceName must be given.")
        self.domain(domain_id)
        app = self.apps.get(app_key(domain_id, user_profile_name, space_name, app_type, name))
        if app is None:
            raise not_found(f"App {app_type}/{name} of {space_name or user_profile_name} does not exist in domain "
                            f"{domain_id}.")
        return app

    def describe_app(self, domain_id: str, app_type: str, name: str, *, user_profile_name: str | None = None,
                     space_name: str | None = None) -> App:
        validate_request("DescribeApp", _compact({
            "DomainId": domain_id, "AppType": app_type, "AppName": name, "UserProfileName": user_profile_name,
            "SpaceName": space_name}))
        with self.lock:
            app = self.app(domain_id, app_type, name, user_profile_name=user_profile_name, space_name=space_name)
            app.advance()
            return app

    def list_apps(self, *, domain_id: str | None = None, user_profile_name: str | None = None,
                  space_name: str | None = None, sort_order: str | None = None) -> list[App]:
        if user_profile_name and space_name:
            raise invalid("Only one of UserProfileNameEquals and SpaceNameEquals can be given.")
        found = [a for a in self.apps.values()
                 if (not domain_id or a.domain_id == domain_id)
                 and (not user_profile_name or a.user_profile_name == user_profile_name)
                 and (not space_name or a.space_name == space_name)]
        return _sort(found, "CreationTime", sort_order)

    def delete_app(self, domain_id: str, app_type: str, name: str, *, user_profile_name: str | None = None,
                   space_name: str | None = None) -> App:
        """DeleteApp: the app stops and stays listed with status Deleted."""
        validate_request("DeleteApp", _compact({
            "DomainId": domain_id, "AppType": app_type, "AppName": name, "UserProfileName": user_profile_name,
            "SpaceName": space_name}))
        with self.lock:
            app = self.app(domain_id, app_type, name, user_profile_name=user_profile_name, space_name=space_name)
            if app.status == "Deleted":
                raise not_found(f"App {app.arn} is already deleted.")
            app.status = "Deleted"
            app.pending = 0
            app.modified = _now()
            return app

    # -- presigned URLs -----------------------------------------------------------------------------------------------
    def create_presigned_domain_url(
        self, domain_id: str, user_profile_name: str, *, space_name: str | None = None,
        expires_in_seconds: int | None = None, session_expiration_duration_in_seconds: int | None = None,
        landing_uri: str | None = None,
    ) -> str:
        validate_request("CreatePresignedDomainUrl", _compact({
            "DomainId": domain_id, "UserProfileName": user_profile_name, "SpaceName": space_name,
            "ExpiresInSeconds": expires_in_seconds,
            "SessionExpirationDurationInSeconds": session_expiration_duration_in_seconds, "LandingUri": landing_uri,
        }))
        with self.lock:
            domain = self.domain(domain_id)
            if domain.auth_mode != "IAM":
                raise invalid(f"Domain {domain_id} uses IAM Identity Center (SSO) authentication: presigned URLs "
                              "are only for domains that use IAM authentication.")
            self.user_profile(domain_id, user_profile_name)
            if space_name:
                self.space(domain_id, space_name)
        return f"{domain.url}/auth?token={secrets.token_urlsafe(32)}"

    # -- tags -------------------------------------------------------------------------------------------------------
    def _require(self, arn: str) -> dict[str, str]:
        tags = self.tags.get(arn)
        if tags is None:
            raise StudioError(MISSING_TAGGED_RESOURCE_CODE, f"Resource {arn} does not exist.")
        return tags

    def _replace_tags(self, arn: str, tags: list[dict[str, str]]) -> None:
        merged: dict[str, str] = {}
        for tag in tags:
            merged[tag["Key"]] = tag.get("Value", "")
        if len(merged) > MAX_TAGS:
            raise invalid(f"A resource can have at most {MAX_TAGS} tags.")
        self.tags[arn] = merged

    def add_tags(self, arn: str, tags: list[dict[str, str]]) -> list[dict[str, str]]:
        """AddTags: adds, or overwrites by key. Backfilling ``sagemaker:`` tags is allowed, ``aws:`` is not."""
        validate_request("AddTags", {"ResourceArn": arn, "Tags": tags})
        _check_tags(tags)
        with self.lock:
            current = self._require(arn)
            merged = dict(current)
            for tag in tags:
                merged[tag["Key"]] = tag.get("Value", "")
            if len(merged) > MAX_TAGS:
                raise invalid(f"Adding {len(tags)} tag(s) to {arn} would exceed the limit of {MAX_TAGS} tags.")
            current.clear()
            current.update(merged)
        return tags

    def list_tags(self, arn: str) -> list[dict[str, str]]:
        with self.lock:
            return [{"Key": k, "Value": v} for k, v in self._require(arn).items()]

    def delete_tags(self, arn: str, keys: Iterable[str]) -> None:
        keys = list(keys)
        validate_request("DeleteTags", {"ResourceArn": arn, "TagKeys": keys})
        with self.lock:
            current = self._require(arn)
            for key in keys:
                current.pop(key, None)


def _sort(records: list[Any], sort_by: str | None, sort_order: str | None) -> list[Any]:
    """AWS's documented defaults: SortBy CreationTime, SortOrder Ascending (ties by name for a stable order)."""
    attribute = "modified" if sort_by == "LastModifiedTime" else "created"
    ordered = sorted(records, key=lambda r: (getattr(r, attribute), r.domain_id, r.name))
    return list(reversed(ordered)) if sort_order == "Descending" else ordered


_state_lock = threading.Lock()


def studio_state(account_id: str, region: str) -> StudioState:
    """The Studio state of one account and region: created on first use, cleared with moto's backend."""
    backend = sagemaker_backends[account_id][region]
    state = getattr(backend, "studio", None)
    if state is None:
        with _state_lock:
            state = getattr(backend, "studio", None)
            if state is None:
                state = StudioState(account_id, region)
                backend.studio = state
    return state


# ---------------------------------------------------------------------------------------------------------------------
# 4. Response methods (added to moto's SageMakerResponse)
# ---------------------------------------------------------------------------------------------------------------------

Handler = Callable[[StudioState, dict[str, Any]], dict[str, Any] | None]
OPERATIONS: dict[str, Handler] = {}


def operation(handler: Handler) -> Handler:
    """Register ``handler`` for the action whose snake_case name is the handler's name."""
    OPERATIONS[handler.__name__] = handler
    return handler


def _max_results(p: dict[str, Any], default: int = DEFAULT_PAGE_SIZE) -> int:
    return default if p.get("MaxResults") is None else p["MaxResults"]


@operation
def create_domain(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    domain = state.create_domain(
        p.get("DomainName"), auth_mode=p.get("AuthMode"), default_user_settings=p.get("DefaultUserSettings"),
        vpc_id=p.get("VpcId"), subnet_ids=p.get("SubnetIds"), app_network_access_type=p.get("AppNetworkAccessType"),
        domain_settings=p.get("DomainSettings"), default_space_settings=p.get("DefaultSpaceSettings"),
        tag_propagation=p.get("TagPropagation"), tags=p.get("Tags"),
    )
    return {"DomainArn": domain.arn, "DomainId": domain.domain_id, "Url": domain.url}


@operation
def describe_domain(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    return state.describe_domain(p.get("DomainId")).description()


@operation
def list_domains(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    page, token = paginate("domains", state.list_domains(), _max_results(p), p.get("NextToken"))
    return _compact({"Domains": [d.summary() for d in page], "NextToken": token})


@operation
def update_domain(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    domain = state.update_domain(
        p.get("DomainId"), default_user_settings=p.get("DefaultUserSettings"),
        domain_settings_for_update=p.get("DomainSettingsForUpdate"),
        default_space_settings=p.get("DefaultSpaceSettings"), app_network_access_type=p.get("AppNetworkAccessType"),
        subnet_ids=p.get("SubnetIds"), vpc_id=p.get("VpcId"), tag_propagation=p.get("TagPropagation"),
        app_security_group_management=p.get("AppSecurityGroupManagement"),
    )
    return {"DomainArn": domain.arn}


@operation
def delete_domain(state: StudioState, p: dict[str, Any]) -> None:
    state.delete_domain(p.get("DomainId"), retention_policy=p.get("RetentionPolicy"))


@operation
def create_user_profile(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    profile = state.create_user_profile(
        p.get("DomainId"), p.get("UserProfileName"), user_settings=p.get("UserSettings"),
        sso_user_identifier=p.get("SingleSignOnUserIdentifier"), sso_user_value=p.get("SingleSignOnUserValue"),
        tags=p.get("Tags"),
    )
    return {"UserProfileArn": profile.arn}


@operation
def describe_user_profile(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    return state.describe_user_profile(p.get("DomainId"), p.get("UserProfileName")).description()


@operation
def list_user_profiles(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    found = state.list_user_profiles(domain_id=p.get("DomainIdEquals"), name_contains=p.get("UserProfileNameContains"),
                                     sort_by=p.get("SortBy"), sort_order=p.get("SortOrder"))
    page, token = paginate("user-profiles", found, _max_results(p), p.get("NextToken"))
    return _compact({"UserProfiles": [r.summary() for r in page], "NextToken": token})


@operation
def update_user_profile(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    profile = state.update_user_profile(p.get("DomainId"), p.get("UserProfileName"),
                                        user_settings=p.get("UserSettings"))
    return {"UserProfileArn": profile.arn}


@operation
def delete_user_profile(state: StudioState, p: dict[str, Any]) -> None:
    state.delete_user_profile(p.get("DomainId"), p.get("UserProfileName"))


@operation
def create_space(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    space = state.create_space(
        p.get("DomainId"), p.get("SpaceName"), space_settings=p.get("SpaceSettings"),
        owner=(p.get("OwnershipSettings") or {}).get("OwnerUserProfileName"),
        sharing_type=(p.get("SpaceSharingSettings") or {}).get("SharingType"),
        display_name=p.get("SpaceDisplayName"), tags=p.get("Tags"),
    )
    return {"SpaceArn": space.arn}


@operation
def describe_space(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    return state.describe_space(p.get("DomainId"), p.get("SpaceName")).description()


@operation
def list_spaces(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    found = state.list_spaces(domain_id=p.get("DomainIdEquals"), name_contains=p.get("SpaceNameContains"),
                              sort_by=p.get("SortBy"), sort_order=p.get("SortOrder"))
    page, token = paginate("spaces", found, _max_results(p), p.get("NextToken"))
    return _compact({"Spaces": [s.summary() for s in page], "NextToken": token})


@operation
def update_space(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    space = state.update_space(p.get("DomainId"), p.get("SpaceName"), space_settings=p.get("SpaceSettings"),
                               display_name=p.get("SpaceDisplayName"))
    return {"SpaceArn": space.arn}


@operation
def delete_space(state: StudioState, p: dict[str, Any]) -> None:
    state.delete_space(p.get("DomainId"), p.get("SpaceName"))


@operation
def create_app(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    app = state.create_app(
        p.get("DomainId"), p.get("AppType"), p.get("AppName"), user_profile_name=p.get("UserProfileName"),
        space_name=p.get("SpaceName"), resource_spec=p.get("ResourceSpec"), tags=p.get("Tags"),
    )
    return {"AppArn": app.arn}


@operation
def describe_app(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    return state.describe_app(p.get("DomainId"), p.get("AppType"), p.get("AppName"),
                              user_profile_name=p.get("UserProfileName"), space_name=p.get("SpaceName")).description()


@operation
def list_apps(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    found = state.list_apps(domain_id=p.get("DomainIdEquals"), user_profile_name=p.get("UserProfileNameEquals"),
                            space_name=p.get("SpaceNameEquals"), sort_order=p.get("SortOrder"))
    page, token = paginate("apps", found, _max_results(p), p.get("NextToken"))
    return _compact({"Apps": [a.summary() for a in page], "NextToken": token})


@operation
def delete_app(state: StudioState, p: dict[str, Any]) -> None:
    state.delete_app(p.get("DomainId"), p.get("AppType"), p.get("AppName"),
                     user_profile_name=p.get("UserProfileName"), space_name=p.get("SpaceName"))


@operation
def create_presigned_domain_url(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    url = state.create_presigned_domain_url(
        p.get("DomainId"), p.get("UserProfileName"), space_name=p.get("SpaceName"),
        expires_in_seconds=p.get("ExpiresInSeconds"),
        session_expiration_duration_in_seconds=p.get("SessionExpirationDurationInSeconds"),
        landing_uri=p.get("LandingUri"),
    )
    return {"AuthorizedUrl": url}


# Tag operations: this module answers for domain, user-profile, space and app ARNs; moto for every other ARN.
TAG_OPERATIONS: dict[str, Handler] = {}


def tag_operation(handler: Handler) -> Handler:
    TAG_OPERATIONS[handler.__name__] = handler
    return handler


@tag_operation
def add_tags(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    return {"Tags": state.add_tags(p.get("ResourceArn"), p.get("Tags"))}


@tag_operation
def list_tags(state: StudioState, p: dict[str, Any]) -> dict[str, Any]:
    tags = state.list_tags(p["ResourceArn"])
    page, token = paginate("tags", tags, _max_results(p, DEFAULT_TAG_PAGE_SIZE), p.get("NextToken"))
    return _compact({"Tags": page, "NextToken": token})


@tag_operation
def delete_tags(state: StudioState, p: dict[str, Any]) -> None:
    state.delete_tags(p.get("ResourceArn"), p.get("TagKeys") or [])


JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}
_MARK = "__sandbox_module__"
_ORIGINAL = "__sandbox_original__"  # moto's own method, kept on every wrapper that replaces one


def _request_params(response: SageMakerResponse) -> dict[str, Any]:
    body = response.body
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    params = json.loads(body) if body else {}
    return params if isinstance(params, dict) else {}


def _action(handler: Handler) -> str:
    return "".join(word.capitalize() for word in handler.__name__.split("_"))


def _answer(handler: Handler, response: SageMakerResponse) -> Any:
    params = _request_params(response)
    try:
        # The request as AWS receives it is checked first (the Python API fills in a few conveniences after this).
        validate_request(_action(handler), params)
        payload = handler(studio_state(response.current_account, response.region), params)
    except StudioError as exc:
        return json.dumps({"__type": exc.code, "message": exc.message}), {**JSON_HEADERS, "status": 400}
    return json.dumps(payload if payload is not None else {})


def _response_method(handler: Handler) -> Callable[[SageMakerResponse], Any]:
    def method(self: SageMakerResponse) -> Any:
        return _answer(handler, self)

    method.__name__ = handler.__name__
    setattr(method, _MARK, __name__)
    return method


def _tag_method(handler: Handler, original: Callable[[SageMakerResponse], Any]) -> Callable[[SageMakerResponse], Any]:
    def method(self: SageMakerResponse) -> Any:
        if is_studio_arn(str(_request_params(self).get("ResourceArn") or "")):
            return _answer(handler, self)
        return original(self)

    method.__name__ = handler.__name__
    setattr(method, _MARK, __name__)
    setattr(method, _ORIGINAL, original)
    return method


METHOD_NAMES = tuple(OPERATIONS) + tuple(TAG_OPERATIONS)


def install() -> None:
    """Add (or replace) the Studio action methods on moto's SageMakerResponse. Safe to call many times.

    moto finds action methods with ``inspect.getmembers`` on the class at every call (no cache in 5.2.5), so
    attributes set here are served in process and by the HTTP server alike.
    """
    for name, handler in OPERATIONS.items():
        setattr(SageMakerResponse, name, _response_method(handler))
    for name, handler in TAG_OPERATIONS.items():
        current = getattr(SageMakerResponse, name)
        original = getattr(current, _ORIGINAL, current)  # never wrap a wrapper: keep moto's own method
        setattr(SageMakerResponse, name, _tag_method(handler, original))


def installed() -> bool:
    return all(getattr(getattr(SageMakerResponse, name, None), _MARK, None) == __name__ for name in METHOD_NAMES)
