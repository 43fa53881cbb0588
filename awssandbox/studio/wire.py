"""Studio on the wire: the SageMaker operations moto routes to :class:`SageMakerResponse`, in AWS's JSON shapes,
with AWS's pagination (cursor tokens, sort orders) and error answers; each reads the request, calls
:mod:`awssandbox.studio.state` and shapes the answer.

Assumed rather than seen from AWS: :data:`DEFAULT_SORT_ORDER` for ListDomains, :data:`HEALTH_CHECK_SECONDS`.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta
from typing import Any

from moto.sagemaker.responses import SageMakerResponse

from awssandbox import studiopage
from awssandbox.studio.state import (
    AppRecord,
    DomainRecord,
    SpaceRecord,
    StudioState,
    sandbox_now,
    studio_state,
)
from awssandbox.studio.validation import (
    APP_SORT_BY,
    SORT_BY,
    SORT_ORDERS,
    StudioError,
    check_enum,
    invalid,
)

# API reference (ListUserProfiles, ListSpaces, ListApps): "The default is Ascending", by CreationTime. ListDomains
# takes no sort parameters; ASSUMED: it lists in the same default order.
DEFAULT_SORT_ORDER = "Ascending"
LIST_DOMAINS_PAGE = 10  # ListDomains: MaxResults "the default is 10"
# ASSUMED: how often Studio checks a running app's health (DescribeApp's LastHealthCheckTimestamp); AWS publishes
# no interval (API reference: DescribeApp).
HEALTH_CHECK_SECONDS = 300
# ASSUMED: ListUserProfiles' UserProfileNameContains and ListSpaces' SpaceNameContains match without regard to case.
# The API reference says only "A parameter by which to filter the results"; the names they filter are not case
# sensitive (UserProfileName, SpaceName), so a filter that told Wei-Chen from wei-chen would split one name in two.
NAME_CONTAINS_CASE_SENSITIVE = False


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
    check_enum("sortBy", sort_by, sort_keys)
    check_enum("sortOrder", sort_order, SORT_ORDERS)
    max_results = p.get("MaxResults")
    size = default if max_results is None else max_results
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 100:
        raise invalid("maxResults", max_results, "Member must have value between 1 and 100")
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


def _name_contains(name: str, part: str | None) -> bool:
    """A ``*NameContains`` filter (none given: everything matches)."""
    if not part:
        return True
    return part in name if NAME_CONTAINS_CASE_SENSITIVE else part.casefold() in name.casefold()


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
        and _name_contains(r.name, p.get("UserProfileNameContains"))
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
        and _name_contains(r.name, p.get("SpaceNameContains"))
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
    since = max((sandbox_now() - r.created).total_seconds(), 0.0)
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
        raise invalid("expiresInSeconds", expires, "Member must have value between 5 and 300")
    session = p.get("SessionExpirationDurationInSeconds", 43200)
    if not 1800 <= int(session) <= 43200:
        raise invalid("sessionExpirationDurationInSeconds", session, "Member must have value between 1800 and 43200")
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
        raise invalid("maxResults", max_results, "Member must have value greater than or equal to 50")
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
