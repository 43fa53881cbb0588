"""The Resource Groups Tagging API over Studio ARNs and moto's SageMaker resources, and SageMaker ``Search``.

moto 5.2.5 crashes on Studio ARNs (more than one ``/``), never lists the sandbox's Studio resources, accepts any
number of ARNs, appends duplicate tag keys, answers 500 after tagging part of a batch, and raises KeyError on a
``Tags.<key>`` Exists filter in Search. This module replaces ``GetResources``, ``TagResources`` and
``UntagResources`` on moto's response class and ``Search`` on SageMaker's, reading Studio state only through
:func:`awssandbox.studio.studio_state` and its records' tags.

Each ARN of a TagResources/UntagResources call succeeds or fails on its own (``FailedResourcesMap``); a whole call
is refused (``InvalidParameterException``) only for what AWS checks before touching any resource, so a refused
call writes nothing. Per ARN the sandbox's fault rules for ``sagemaker`` ``AddTags`` / ``DeleteTags`` apply, since
the Tagging API calls SageMaker's own tagging operation for each resource: a throttle rule throttles that ARN only.

``CreatedBy`` (the Studio user that created an experiment, trial, pipeline or model package) is kept per ARN in
:func:`created_by_registry` and served by Search; :func:`set_created_by` is how the demo organisation seeds it.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import botocore.session
from moto.core.resource_tagging import make_tag_matcher, match_resource_type
from moto.resourcegroupstaggingapi.models import resourcegroupstaggingapi_backends
from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from awssandbox import faults
from awssandbox.studio import studio_state

# AWS's published limits (resourcegroupstagging/latest/APIReference/API_TagResources.html, API_UntagResources.html,
# API_GetResources.html; sagemaker/latest/APIReference/API_AddTags.html for the 50 tags a resource holds).
MAX_ARNS_GET = 100
MAX_ARNS_TAG = 20
MAX_TAGS_PER_CALL = 50
MAX_TAGS_PER_RESOURCE = 50
RESOURCES_PER_PAGE = (1, 100)
TAGS_PER_PAGE = (100, 500)
DEFAULT_RESOURCES_PER_PAGE = 100  # ASSUMED: API_GetResources.html gives the range, not the default
SEARCH_MAX_RESULTS = (1, 100)
SEARCH_DEFAULT_MAX_RESULTS = 10  # sagemaker/latest/APIReference/API_Search.html: "The default is 10."

# ASSUMED: what one failed ARN looks like in FailedResourcesMap. API_FailureInfo.html lists InternalServiceException
# ("safe to retry") and InvalidParameterException as the ErrorCode values; it names no status codes.
FAILURES: dict[str, dict[str, Any]] = {
    "throttled": {"StatusCode": 400, "ErrorCode": "InternalServiceException", "ErrorMessage": "ThrottlingException"},
    "server_error": {"StatusCode": 500, "ErrorCode": "InternalServiceException", "ErrorMessage": "InternalFailure"},
    "not_found": {"StatusCode": 404, "ErrorCode": "InvalidParameterException", "ErrorMessage": "ResourceNotFound"},
    "too_many_tags": {"StatusCode": 400, "ErrorCode": "InvalidParameterException", "ErrorMessage": "TooManyTags"},
    "elsewhere": {"StatusCode": 400, "ErrorCode": "InvalidParameterException", "ErrorMessage": "WrongAccountOrRegion"},
    "unsupported": {"StatusCode": 400, "ErrorCode": "InternalServiceException", "ErrorMessage": "UnsupportedType"},
}

_STUDIO_TYPES = {"domain": "domain", "user-profile": "user-profile", "space": "space", "app": "app"}
_SAGEMAKER_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):(\d{12}):([a-z-]+)/(.+)$")
_ARN_RE = re.compile(r"^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$")
# moto's SageMaker collections the Tagging API serves (moto's own list, SageMakerModelBackend.iter_tagged_resources).
_MOTO_COLLECTIONS = {
    "automl-job": "auto_ml_jobs",
    "cluster": "clusters",
    "compilation-job": "compilation_jobs",
    "data-quality-job-definition": "data_quality_job_definitions",
    "endpoint": "endpoints",
    "endpoint-config": "endpoint_configs",
    "experiment": "experiments",
    "experiment-trial": "trials",
    "experiment-trial-component": "trial_components",
    "feature-group": "feature_groups",
    "hyper-parameter-tuning-job": "hyper_parameter_tuning_jobs",
    "model": "_models",
    "model-bias-job-definition": "model_bias_job_definitions",
    "model-card": "model_cards",
    "model-explainability-job-definition": "model_explainability_job_definitions",
    "model-package": "model_packages",
    "model-package-group": "model_package_groups",
    "model-quality-job-definition": "model_quality_job_definitions",
    "notebook-instance": "notebook_instances",
    "notebook-instance-lifecycle-config": "notebook_instance_lifecycle_configurations",
    "pipeline": "pipelines",
    "pipeline-execution": "pipeline_executions",
    "processing-job": "processing_jobs",
    "training-job": "training_jobs",
    "transform-job": "transform_jobs",
}
# The resource type names the Tagging API uses where the ARN's differ.
_TYPE_NAMES = {"experiment-trial": "trial", "experiment-trial-component": "trial-component"}
_lock = threading.Lock()


class TaggingError(Exception):
    """A whole-call refusal: nothing was written."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message: str) -> TaggingError:
    return TaggingError("InvalidParameterException", message)


# -- the resources the Tagging API sees in one account and region -------------------------------------------------
class _Resource:
    """One taggable SageMaker resource: its ARN, type (``sagemaker:space``), tags, and how to write them."""

    def __init__(self, arn: str, resource_type: str, tags: dict[str, str], write: Any) -> None:
        self.arn = arn
        self.resource_type = resource_type
        self.tags = tags
        self.write = write  # write(new_tags: dict[str, str]) replaces the resource's tags


def _moto_objects(account_id: str, region: str) -> Iterator[tuple[str, str, Any]]:
    backend = sagemaker_backends[account_id][region]
    for arn_type, attribute in _MOTO_COLLECTIONS.items():
        for item in list(getattr(backend, attribute, {}).values()):
            for obj in item if isinstance(item, list) else [item]:
                arn = getattr(obj, "arn", None)
                if arn:
                    yield arn, arn_type, obj


def _studio_resource(account_id: str, region: str, arn: str) -> _Resource | None:
    state = studio_state(account_id, region)
    if not state.owns(arn):
        return None
    match = _SAGEMAKER_ARN_RE.match(arn)
    kind = match.group(3) if match else "domain"

    def write(new_tags: dict[str, str]) -> None:
        with state.lock:
            current = state.tags.get(arn)
            if current is not None:
                current.clear()
                current.update(new_tags)

    return _Resource(arn, f"sagemaker:{kind}", dict(state.tags.get(arn, {})), write)


def _moto_resource(arn_type: str, obj: Any) -> _Resource:
    tags = {t["Key"]: t.get("Value", "") for t in (getattr(obj, "tags", None) or [])}

    def write(new_tags: dict[str, str]) -> None:
        obj.tags = [{"Key": k, "Value": v} for k, v in new_tags.items()]

    return _Resource(obj.arn, f"sagemaker:{_TYPE_NAMES.get(arn_type, arn_type)}", tags, write)


def _all_resources(account_id: str, region: str) -> list[_Resource]:
    state = studio_state(account_id, region)
    with state.lock:
        studio_arns = list(state.tags)
    found = [r for arn in studio_arns if (r := _studio_resource(account_id, region, arn))]
    found += [_moto_resource(arn_type, obj) for _arn, arn_type, obj in _moto_objects(account_id, region)]
    return found


def _find_all(account_id: str, region: str, arns: Iterable[str]) -> dict[str, _Resource]:
    """The resources of these ARNs: Studio ones, else from moto's collection of each ARN's type (by name first, as
    moto keys most collections, else one scan of that collection for all of the call's ARNs of the type). Never a
    scan of every resource per ARN: AWS finds an ARN in no time whatever the account holds, and a scan per ARN made
    tagging N resources cost N squared."""
    found: dict[str, _Resource] = {}
    missing: dict[str, set[str]] = {}
    backend = sagemaker_backends[account_id][region]
    for arn in arns:
        studio = _studio_resource(account_id, region, arn)
        if studio is not None:
            found[arn] = studio
            continue
        match = _SAGEMAKER_ARN_RE.match(arn)
        if match is None or match.group(3) not in _MOTO_COLLECTIONS:
            continue
        arn_type = match.group(3)
        collection = getattr(backend, _MOTO_COLLECTIONS[arn_type], {})
        keyed = collection.get(match.group(4)) if isinstance(collection, dict) else None
        hit = next((o for o in (keyed if isinstance(keyed, list) else [keyed]) if getattr(o, "arn", None) == arn), None)
        if hit is not None:
            found[arn] = _moto_resource(arn_type, hit)
        else:
            missing.setdefault(arn_type, set()).add(arn)
    for arn_type, wanted in missing.items():
        collection = getattr(backend, _MOTO_COLLECTIONS[arn_type], {})
        for item in list(collection.values()):
            for obj in item if isinstance(item, list) else [item]:
                if getattr(obj, "arn", None) in wanted:
                    found[obj.arn] = _moto_resource(arn_type, obj)
    return found


def _find(account_id: str, region: str, arn: str) -> _Resource | None:
    return _find_all(account_id, region, [arn]).get(arn)


def _other_services(account_id: str, region: str, **filters: Any) -> list[dict[str, Any]]:
    """What moto's own Tagging API knows outside SageMaker (S3 buckets, EC2...), in the same answer shape."""
    backend = resourcegroupstaggingapi_backends[account_id][region]
    answers = []
    for resource in backend._get_resources_generator(**filters):
        if resource.resource_type.startswith("sagemaker"):
            continue
        answers.append(
            {"ResourceARN": resource.arn, "Tags": [{"Key": k, "Value": v} for k, v in resource.tags.items()]}
        )
    return answers


# -- operations -----------------------------------------------------------------------------------------------------
def _token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(f"sbxtag:{offset}:{fingerprint}".encode()).decode()


def _offset(token: str, fingerprint: str) -> int:
    try:
        kind, offset, seen = base64.urlsafe_b64decode(token.encode()).decode().split(":", 2)
        if kind != "sbxtag" or seen != fingerprint or int(offset) < 0:
            raise ValueError
        return int(offset)
    except (ValueError, UnicodeDecodeError):
        raise TaggingError("PaginationTokenExpiredException", "The PaginationToken is not valid.") from None


def _check_int(name: str, value: Any, bounds: tuple[int, int]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
        raise _invalid(f"{name} must be between {bounds[0]} and {bounds[1]}.")
    return value


def get_resources(account_id: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
    arns = p.get("ResourceARNList")
    if arns is not None:
        if not isinstance(arns, list) or not 1 <= len(arns) <= MAX_ARNS_GET:
            raise _invalid(f"ResourceARNList must hold 1 to {MAX_ARNS_GET} ARNs.")
        if any(p.get(name) is not None for name in ("ResourcesPerPage", "TagsPerPage")) or p.get("PaginationToken"):
            raise _invalid("ResourceARNList cannot be combined with ResourcesPerPage, TagsPerPage or PaginationToken.")
    per_page = _check_int("ResourcesPerPage", p.get("ResourcesPerPage", DEFAULT_RESOURCES_PER_PAGE), RESOURCES_PER_PAGE)
    tags_per_page = _check_int("TagsPerPage", p.get("TagsPerPage", TAGS_PER_PAGE[0]), TAGS_PER_PAGE)
    tag_filters = p.get("TagFilters") or []
    type_filters = p.get("ResourceTypeFilters") or []
    if not isinstance(tag_filters, list) or len(tag_filters) > 50:
        raise _invalid("TagFilters must hold at most 50 filters.")
    for f in tag_filters:
        if not isinstance(f, dict) or not isinstance(f.get("Key"), str) or not f["Key"]:
            raise _invalid("Every TagFilter needs a Key.")
    matcher = make_tag_matcher(tag_filters)
    wanted = set(arns or [])
    # With ResourceARNList, only those ARNs are looked at (one lookup each), not every resource of the region.
    candidates = (
        list(_find_all(account_id, region, sorted(wanted)).values())
        if arns is not None
        else _all_resources(account_id, region)
    )
    items = [
        {"ResourceARN": r.arn, "Tags": [{"Key": k, "Value": v} for k, v in r.tags.items()]}
        for r in candidates
        # Only tagged resources come back: an ARN missing from the answer is an untagged one.
        if r.tags
        and match_resource_type(r.resource_type, type_filters)
        and matcher(r.tags)
        and (not wanted or r.arn in wanted)
    ]
    items += [
        item
        for item in _other_services(account_id, region, tag_filters=tag_filters, resource_type_filters=type_filters)
        if not wanted or item["ResourceARN"] in wanted
    ]
    items.sort(key=lambda item: item["ResourceARN"])
    if arns is not None:
        return {"ResourceTagMappingList": items, "PaginationToken": ""}
    fingerprint = str(
        zlib.crc32(json.dumps([tag_filters, type_filters, per_page, tags_per_page], sort_keys=True).encode())
    )
    start = _offset(p["PaginationToken"], fingerprint) if p.get("PaginationToken") else 0
    page: list[dict[str, Any]] = []
    tag_count = 0
    index = start
    while index < len(items) and len(page) < per_page:
        size = len(items[index]["Tags"])
        if page and tag_count + size > tags_per_page:
            break
        page.append(items[index])
        tag_count += size
        index += 1
    token = _token(index, fingerprint) if index < len(items) else ""
    return {"ResourceTagMappingList": page, "PaginationToken": token}


def _check_batch(arns: Any) -> list[str]:
    if not isinstance(arns, list) or not 1 <= len(arns) <= MAX_ARNS_TAG:
        raise _invalid(f"ResourceARNList must hold 1 to {MAX_ARNS_TAG} ARNs.")
    for arn in arns:
        if not isinstance(arn, str) or not _ARN_RE.match(arn):
            raise _invalid(f"{arn!r} is not a valid ARN.")
    return arns


def _fault_for(operation: str) -> str | None:
    """A fault rule on SageMaker's own tagging operation fails this one ARN (latency just waits)."""
    answer = faults.apply("sagemaker", operation)
    if answer is None:
        return None
    return "throttled" if answer[0] == 400 else "server_error"


def _failure(kind: str, arn: str) -> dict[str, Any]:
    failure = dict(FAILURES[kind])
    failure["ErrorMessage"] = f"{failure['ErrorMessage']}: {arn}"
    return failure


def _change_each(
    account_id: str, region: str, arns: list[str], operation: str, change: Any
) -> dict[str, dict[str, Any]]:
    failed: dict[str, dict[str, Any]] = {}
    for arn in arns:
        match = _ARN_RE.match(arn)
        assert match is not None  # checked by _check_batch
        service, arn_region, arn_account = match.group(1), match.group(2), match.group(3)
        if (arn_region, arn_account) != (region, account_id):
            failed[arn] = _failure("elsewhere", arn)
            continue
        if service != "sagemaker":
            failed[arn] = _failure("unsupported", arn)
            continue
        fault = _fault_for(operation)
        if fault:
            failed[arn] = _failure(fault, arn)
            continue
        with _lock:
            resource = _find(account_id, region, arn)
            if resource is None:
                failed[arn] = _failure("not_found", arn)
                continue
            new_tags = change(dict(resource.tags))
            if len(new_tags) > MAX_TAGS_PER_RESOURCE:
                failed[arn] = _failure("too_many_tags", arn)
                continue
            resource.write(new_tags)
    return failed


def tag_resources(account_id: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
    arns = _check_batch(p.get("ResourceARNList"))
    tags = p.get("Tags")
    if not isinstance(tags, dict) or not 1 <= len(tags) <= MAX_TAGS_PER_CALL:
        raise _invalid(f"Tags must hold 1 to {MAX_TAGS_PER_CALL} tags.")
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise _invalid(f"Tag key {key!r} must be 1 to 128 characters and not start with 'aws:'.")
        if not isinstance(value, str) or len(value) > 256:
            raise _invalid(f"The value of tag {key!r} must be at most 256 characters.")
    return {
        "FailedResourcesMap": _change_each(account_id, region, arns, "AddTags", lambda current: {**current, **tags})
    }


def untag_resources(account_id: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
    arns = _check_batch(p.get("ResourceARNList"))
    keys = p.get("TagKeys")
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_TAGS_PER_CALL:
        raise _invalid(f"TagKeys must hold 1 to {MAX_TAGS_PER_CALL} keys.")
    if any(not isinstance(k, str) or not 1 <= len(k) <= 128 for k in keys):
        raise _invalid("Every tag key must be 1 to 128 characters.")

    def without(current: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in current.items() if k not in keys}

    return {"FailedResourcesMap": _change_each(account_id, region, arns, "DeleteTags", without)}


# -- SageMaker Search --------------------------------------------------------------------------------------------
_SEARCH_SOURCES = {
    "TrainingJob": ("training_jobs", "TrainingJob"),
    "Experiment": ("experiments", "Experiment"),
    "ExperimentTrial": ("trials", "Trial"),
    "ExperimentTrialComponent": ("trial_components", "TrialComponent"),
    "Endpoint": ("endpoints", "Endpoint"),
    "ModelPackage": ("model_packages", "ModelPackage"),
    "ModelPackageGroup": ("model_package_groups", "ModelPackageGroup"),
    "Pipeline": ("pipelines", "Pipeline"),
    "PipelineExecution": ("pipeline_executions", "PipelineExecution"),
    "FeatureGroup": ("feature_groups", "FeatureGroup"),
    "Project": (None, "Project"),
    "FeatureMetadata": (None, "FeatureMetadata"),
    "HyperParameterTuningJob": ("hyper_parameter_tuning_jobs", "HyperParameterTuningJob"),
    "ModelCard": ("model_cards", "ModelCard"),
    "Model": ("_models", "Model"),
}
_OPERATORS = (
    "Equals",
    "NotEquals",
    "GreaterThan",
    "GreaterThanOrEqualTo",
    "LessThan",
    "LessThanOrEqualTo",
    "Contains",
    "Exists",
    "NotExists",
    "In",
)
_search_shape = botocore.session.get_session().get_service_model("sagemaker").shape_for("SearchRecord")


class SearchError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def created_by_registry(account_id: str, region: str) -> dict[str, dict[str, str]]:
    """ARN -> CreatedBy (UserContext) of the SageMaker resources created from Studio, per account and region."""
    backend = sagemaker_backends[account_id][region]
    registry = getattr(backend, "_sandbox_created_by", None)
    if registry is None:
        registry = backend._sandbox_created_by = {}
    return registry


def set_created_by(account_id: str, region: str, arn: str, domain_id: str, profile_name: str) -> None:
    """Record that ``arn`` was created from Studio by ``profile_name`` in ``domain_id`` (served by Search)."""
    state = studio_state(account_id, region)
    profile = state.profile(domain_id, profile_name)
    created_by_registry(account_id, region)[arn] = {
        "UserProfileArn": profile.arn,
        "UserProfileName": profile.name,
        "DomainId": domain_id,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _record(result_name: str, obj: Any, created_by: dict[str, str] | None) -> dict[str, Any]:
    """moto's object in the Search result shape: only the members botocore's model has, plus Tags and CreatedBy."""
    shape = _search_shape.members[result_name]
    raw = obj.gen_response_object() if hasattr(obj, "gen_response_object") else {}
    arn_member = f"{result_name}Arn"
    if "Arn" in raw and arn_member in shape.members:
        raw.setdefault(arn_member, raw["Arn"])
    raw["Tags"] = [{"Key": t["Key"], "Value": t.get("Value", "")} for t in (getattr(obj, "tags", None) or [])]
    # moto invents a CreatedBy/LastModifiedBy for some types: only the sandbox's own record of Studio work counts.
    raw.pop("CreatedBy", None)
    raw.pop("LastModifiedBy", None)
    raw.pop("ModelPackageStatusDetails", None)  # moto fills it with the package's ARN where AWS names a check
    if created_by and "CreatedBy" in shape.members:
        raw["CreatedBy"] = dict(created_by)
    record: dict[str, Any] = {}
    for name, member in shape.members.items():
        if raw.get(name) is None:
            continue
        value = _plain(raw[name])
        if member.type_name == "timestamp" and isinstance(value, str):
            try:
                value = datetime.fromisoformat(value).timestamp()
            except ValueError:
                continue
        if member.type_name == "string" and not isinstance(value, str):
            continue
        record[name] = value
    return record


def _lookup(record: dict[str, Any], name: str) -> tuple[bool, Any]:
    if name.startswith("Tags."):
        key = name[len("Tags.") :]
        tags = {t["Key"]: t["Value"] for t in record.get("Tags", [])}
        return (key in tags, tags.get(key))
    value: Any = record
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return (False, None)
        value = value[part]
    return (True, value)


def _compare(found: bool, actual: Any, operator: str, expected: Any) -> bool:
    if operator == "Exists":
        return found
    if operator == "NotExists":
        return not found
    if not found:
        return operator == "NotEquals"
    text = str(actual)
    if operator == "Equals":
        return text == expected
    if operator == "NotEquals":
        return text != expected
    if operator == "Contains":
        return expected in text
    if operator == "In":
        return text in [v.strip() for v in expected.split(",")]
    try:
        left, right = float(actual), float(expected)
    except (TypeError, ValueError):
        left, right = text, expected  # type: ignore[assignment]
    return {
        "GreaterThan": left > right,
        "GreaterThanOrEqualTo": left >= right,
        "LessThan": left < right,
        "LessThanOrEqualTo": left <= right,
    }[operator]


def _check_filter(result_name: str, f: Any) -> None:
    if not isinstance(f, dict) or not isinstance(f.get("Name"), str) or not f["Name"]:
        raise SearchError("Every filter needs a Name.")
    operator = f.get("Operator", "Equals")
    if operator not in _OPERATORS:
        raise SearchError(f"Value '{operator}' at 'operator' failed to satisfy constraint: one of {_OPERATORS}")
    if operator not in ("Exists", "NotExists") and not isinstance(f.get("Value"), str):
        raise SearchError(f"Filter {f['Name']} with operator {operator} needs a Value.")
    top = f["Name"].split(".", 1)[0]
    if top != "Tags" and top not in _search_shape.members[result_name].members:
        raise SearchError(f"Unknown property name: {f['Name']}")


def _matches(result_name: str, record: dict[str, Any], expression: dict[str, Any]) -> bool:
    checks: list[bool] = []
    for f in expression.get("Filters") or []:
        found, actual = _lookup(record, f["Name"])
        checks.append(_compare(found, actual, f.get("Operator", "Equals"), f.get("Value")))
    for sub in expression.get("SubExpressions") or []:
        checks.append(_matches(result_name, record, sub))
    if not checks:
        return True
    return any(checks) if expression.get("Operator") == "Or" else all(checks)


def _check_expression(result_name: str, expression: Any, depth: int = 0) -> None:
    if not isinstance(expression, dict):
        raise SearchError("SearchExpression must be an object.")
    if expression.get("NestedFilters"):
        raise SearchError("NestedFilters are not served by the sandbox.")
    if expression.get("Operator", "And") not in ("And", "Or"):
        raise SearchError("Operator must be And or Or.")
    if len(expression.get("Filters") or []) > 20 or len(expression.get("SubExpressions") or []) > 20 or depth > 5:
        raise SearchError("A SearchExpression holds at most 20 filters and 20 sub-expressions.")
    for f in expression.get("Filters") or []:
        _check_filter(result_name, f)
    for sub in expression.get("SubExpressions") or []:
        _check_expression(result_name, sub, depth + 1)


def _sort_key(value: Any) -> tuple[int, float, str]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, "" if value is None else str(value))


def search(account_id: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
    resource = p.get("Resource")
    if resource not in _SEARCH_SOURCES:
        raise SearchError(
            f"Value '{resource}' at 'resource' failed to satisfy constraint: "
            f"Member must satisfy enum value set: {sorted(_SEARCH_SOURCES)}"
        )
    attribute, result_name = _SEARCH_SOURCES[resource]
    expression = p.get("SearchExpression") or {}
    _check_expression(result_name, expression)
    max_results = p.get("MaxResults", SEARCH_DEFAULT_MAX_RESULTS)
    if isinstance(max_results, bool) or not isinstance(max_results, int):
        raise SearchError("MaxResults must be a number.")
    if not SEARCH_MAX_RESULTS[0] <= max_results <= SEARCH_MAX_RESULTS[1]:
        raise SearchError(f"Value '{max_results}' at 'maxResults' failed to satisfy constraint: between 1 and 100")
    backend = sagemaker_backends[account_id][region]
    created_by = created_by_registry(account_id, region)
    objects = list(getattr(backend, attribute, {}).values()) if attribute else []
    records = []
    for obj in objects:
        record = _record(result_name, obj, created_by.get(getattr(obj, "arn", "")))
        if _matches(result_name, record, expression):
            records.append(record)
    sort_by = p.get("SortBy") or "CreationTime"
    descending = (p.get("SortOrder") or "Descending") == "Descending"
    records.sort(key=lambda r: (_sort_key(_lookup(r, sort_by)[1]), json.dumps(r, sort_keys=True)), reverse=descending)
    fingerprint = str(zlib.crc32(json.dumps([resource, expression, sort_by, descending], sort_keys=True).encode()))
    try:
        start = _offset(p["NextToken"], fingerprint) if p.get("NextToken") else 0
    except TaggingError:
        raise SearchError("The NextToken is not valid.") from None
    page = records[start : start + max_results]
    following = start + max_results
    answer: dict[str, Any] = {"Results": [{result_name: r} for r in page]}
    if following < len(records):
        answer["NextToken"] = _token(following, fingerprint)
    return answer


# -- wiring -------------------------------------------------------------------------------------------------------
def _json_error(code: str, message: str) -> tuple[int, dict[str, Any], str]:
    headers = {"Content-Type": "application/x-amz-json-1.1", "status": 400}
    return 400, headers, json.dumps({"__type": code, "message": message})


def _tagging_method(handler: Any) -> Any:
    def method(self: ResourceGroupsTaggingAPIResponse) -> Any:
        params = json.loads(self.body or "{}") if isinstance(self.body, str | bytes) else {}
        try:
            return json.dumps(handler(self.current_account, self.region, params))
        except TaggingError as exc:
            return _json_error(exc.code, exc.message)

    method.__name__ = handler.__name__
    return method


def _search_method(self: SageMakerResponse) -> Any:
    params = json.loads(self.body or "{}") if isinstance(self.body, str | bytes) else {}
    try:
        return json.dumps(search(self.current_account, self.region, params))
    except SearchError as exc:
        return _json_error("ValidationException", exc.message)


def install() -> None:
    for handler in (get_resources, tag_resources, untag_resources):
        setattr(ResourceGroupsTaggingAPIResponse, handler.__name__, _tagging_method(handler))
    _search_method.__name__ = "search"
    SageMakerResponse.search = _search_method  # type: ignore[method-assign]
