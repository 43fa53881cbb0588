"""What Studio accepts: names, ids, enums (read from botocore's SageMaker model at import), tags and the shapes of
settings, and the error AWS answers when they are wrong (:class:`StudioError`). No state, no moto."""

from __future__ import annotations

import re
from typing import Any

import botocore.session

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
MAX_TAGS = 50
# A space's idle settings (SpaceIdleSettings) have fewer members than a profile's: no LifecycleManagement.
SPACE_IDLE_MEMBERS = tuple(_MODEL.shape_for("SpaceIdleSettings").members)

# StudioWebPortalSettings' hidden lists and the enum (shape) their members belong to in the service model.
HIDDEN_ENUMS = {"HiddenAppTypes": APP_TYPES, "HiddenMlTools": ML_TOOLS, "HiddenInstanceTypes": INSTANCE_TYPES}
RETENTION = ("Retain", "Delete")


class StudioError(Exception):
    """An AWS error answer: code (ResourceNotFound, ResourceInUse, ValidationException...) and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(field_name: str, value: Any, constraint: str) -> StudioError:
    return StudioError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{field_name}' failed to satisfy constraint: {constraint}",
    )


# -- validation helpers -----------------------------------------------------------------------------------------
def check_name(field_name: str, value: Any) -> None:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise invalid(
            field_name, value, "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
        )


def check_enum(field_name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise invalid(field_name, value, f"Member must satisfy enum value set: [{', '.join(allowed)}]")


def check_tags(tags: list[dict[str, str]]) -> None:
    if len(tags) > MAX_TAGS:
        raise StudioError("ValidationException", f"A resource can have at most {MAX_TAGS} tags.")
    for tag in tags:
        key = tag.get("Key", "")
        if key.startswith("aws:"):
            raise StudioError("ValidationException", "Tag keys starting with 'aws:' are reserved for AWS use.")
        if not 1 <= len(key) <= 128 or len(tag.get("Value", "")) > 256:
            raise invalid("tags.member.key", key, "Member must have length between 1 and 128")


def _check_idle(prefix: str, app_settings: dict[str, Any]) -> None:
    idle = (app_settings or {}).get("AppLifecycleManagement", {}).get("IdleSettings", {})
    if "LifecycleManagement" in idle:
        check_enum(
            f"{prefix}.appLifecycleManagement.idleSettings.lifecycleManagement",
            idle["LifecycleManagement"],
            ENABLED_DISABLED,
        )
    for key in ("IdleTimeoutInMinutes", "MinIdleTimeoutInMinutes", "MaxIdleTimeoutInMinutes"):
        if key in idle and not 60 <= int(idle[key]) <= 525600:
            raise invalid(
                f"{prefix}.appLifecycleManagement.idleSettings.{key[0].lower()}{key[1:]}",
                idle[key],
                "Member must have value between 60 and 525600",
            )


def check_user_settings(prefix: str, settings: dict[str, Any]) -> None:
    role = settings.get("ExecutionRole")
    if role is not None and not ROLE_RE.match(role):
        raise invalid(
            f"{prefix}.executionRole",
            role,
            "Member must satisfy regular expression pattern: "
            "^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$",
        )
    if "StudioWebPortal" in settings:
        check_enum(f"{prefix}.studioWebPortal", settings["StudioWebPortal"], ENABLED_DISABLED)
    portal = settings.get("StudioWebPortalSettings") or {}
    for member, allowed in HIDDEN_ENUMS.items():
        for value in portal.get(member) or []:
            check_enum(f"{prefix}.studioWebPortalSettings.{member[0].lower()}{member[1:]}", value, allowed)
    for key in ("JupyterLabAppSettings", "CodeEditorAppSettings"):
        _check_idle(f"{prefix}.{key[0].lower()}{key[1:]}", settings.get(key, {}))
    _check_default_specs(prefix, settings)


def check_resource_spec(field_name: str, spec: dict[str, Any]) -> None:
    if "InstanceType" in spec:
        check_enum(f"{field_name}.instanceType", spec["InstanceType"], INSTANCE_TYPES)


def _check_default_specs(prefix: str, settings: dict[str, Any]) -> None:
    """The InstanceType of every ``*AppSettings.DefaultResourceSpec`` (JupyterLab, KernelGateway, CodeEditor...)."""
    for key, value in settings.items():
        if key.endswith("AppSettings") and isinstance(value, dict):
            spec = value.get("DefaultResourceSpec") or {}
            check_resource_spec(f"{prefix}.{key[0].lower()}{key[1:]}.defaultResourceSpec", spec)


def check_ebs(settings: dict[str, Any]) -> None:
    size = settings.get("SpaceStorageSettings", {}).get("EbsStorageSettings", {}).get("EbsVolumeSizeInGb")
    if size is not None and not 5 <= int(size) <= 16384:
        raise invalid(
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
