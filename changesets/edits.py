"""Direct edits of an existing domain's defaults, profile's or space's settings: forms whose answers become
:class:`~changesets.planning.PlannedChange` (before from the inventory, after from the form) and then a proposed
change set, so a settings change is still approved by another approver.

Each form offers only the settings an admin really changes; a field left as it is changes nothing, and a form that
changes nothing is refused. Choices come from botocore's SageMaker model (the enums AWS accepts).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from changesets.apply import MISSING, value_at
from changesets.planning import PlannedChange
from changesets.services import sagemaker_enum
from domains.models import Domain
from profiles.models import Space, UserProfile

KEEP = ""
IDLE_CHOICES = [(KEEP, "as it is"), ("ENABLED", "enabled"), ("DISABLED", "disabled")]
LANDING_CHOICES = [(KEEP, "as it is"), ("studio::", "Studio (new)"), ("app:JupyterServer:", "Studio Classic")]
ONOFF_CHOICES = [(KEEP, "as it is"), ("ENABLED", "enabled"), ("DISABLED", "disabled")]
IDLE_APPS = ("JupyterLabAppSettings", "CodeEditorAppSettings")
MIN_IDLE, MAX_IDLE = 60, 525600  # AWS's bounds for IdleTimeoutInMinutes


def _set(tree: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


class _Plan:
    """Collects the values a form changes: the request tree under ``root`` and before/after by path."""

    def __init__(self, root: str, described: dict[str, Any]) -> None:
        self.root, self.described = root, described
        self.tree: dict[str, Any] = {}
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def set(self, path: str, value: Any) -> None:
        """Set ``path`` (under the Describe answer's ``root``) to ``value`` unless it already is."""
        full = f"{self.root}.{path}" if self.root else path
        self.set_as(full, full, value)

    def set_as(self, described_path: str, request_path: str, value: Any) -> None:
        """Where the Describe answer and the request name the member differently."""
        current = value_at(self.described, described_path)
        current = None if current is MISSING else current
        if current == value or (isinstance(value, list) and sorted(current or []) == sorted(value)):
            return
        self.before[described_path], self.after[described_path] = current, value
        _set(self.tree, request_path, value)

    def __bool__(self) -> bool:
        return bool(self.after)


def _csv(value: str) -> list[str]:
    return sorted({v.strip() for v in (value or "").replace("\n", ",").split(",") if v.strip()})


def _check_enum(field: str, values: list[str], shape: str) -> None:
    allowed = set(sagemaker_enum(shape))
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValidationError({field: f"Not a {shape} AWS knows: {', '.join(unknown)}."})


class _EditForm(forms.Form):
    title = forms.CharField(max_length=200, required=False, help_text="Leave empty for a title that says what changes.")

    def clean_idle(self) -> None:
        state, minutes = self.cleaned_data.get("idle_shutdown"), self.cleaned_data.get("idle_timeout_minutes")
        if minutes is not None and state == "DISABLED":
            self.add_error("idle_timeout_minutes", "A timeout needs idle shutdown enabled.")


class ProfileEditForm(_EditForm):
    execution_role = forms.CharField(max_length=2048, required=False, label="Execution role ARN")
    idle_shutdown = forms.ChoiceField(choices=IDLE_CHOICES, required=False)
    idle_timeout_minutes = forms.IntegerField(min_value=MIN_IDLE, max_value=MAX_IDLE, required=False)
    landing = forms.ChoiceField(choices=LANDING_CHOICES, required=False, label="Landing")
    hidden_app_types = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    hidden_ml_tools = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    hidden_instance_types = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Comma-separated, e.g. ml.p4d.24xlarge."
    )

    def __init__(self, *args: Any, profile: UserProfile, **kwargs: Any) -> None:
        self.profile = profile
        kwargs.setdefault(
            "initial",
            {
                "execution_role": profile.execution_role,
                "idle_timeout_minutes": profile.idle_timeout_minutes,
                "hidden_app_types": profile.hidden_app_types,
                "hidden_ml_tools": profile.hidden_ml_tools,
                "hidden_instance_types": ", ".join(profile.hidden_instance_types),
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["hidden_app_types"].choices = [(v, v) for v in sagemaker_enum("AppType")]
        self.fields["hidden_ml_tools"].choices = [(v, v) for v in sagemaker_enum("MlTools")]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.clean_idle()
        try:
            _check_enum("hidden_instance_types", _csv(data.get("hidden_instance_types", "")), "AppInstanceType")
        except ValidationError as exc:
            self.add_error(None, exc)
        return data

    def planned(self) -> list[PlannedChange]:
        profile, data = self.profile, self.cleaned_data
        plan = _Plan("UserSettings", {"UserSettings": profile.settings_snapshot or {}})
        if data.get("execution_role") and data["execution_role"] != profile.execution_role:
            plan.set("ExecutionRole", data["execution_role"].strip())
        _idle(plan, data)
        if data.get("landing"):
            plan.set("DefaultLandingUri", data["landing"])
            plan.set("StudioWebPortal", "ENABLED" if data["landing"] == "studio::" else "DISABLED")
        portal = profile.settings_snapshot.get("StudioWebPortalSettings", {}) if profile.settings_snapshot else {}
        for field, key in (("hidden_app_types", "HiddenAppTypes"), ("hidden_ml_tools", "HiddenMlTools")):
            if sorted(data.get(field) or []) != sorted(portal.get(key, [])):
                plan.set(f"StudioWebPortalSettings.{key}", sorted(data.get(field) or []))
        instances = _csv(data.get("hidden_instance_types", ""))
        if instances != sorted(portal.get("HiddenInstanceTypes", [])):
            plan.set("StudioWebPortalSettings.HiddenInstanceTypes", instances)
        if not plan:
            return []
        request = {"DomainId": profile.domain.domain_id, "UserProfileName": profile.name, **plan.tree}
        restarts = tuple(a.arn for a in profile.apps.filter(status="InService", removed_at__isnull=True))
        return [
            PlannedChange(
                "UpdateUserProfile", profile.arn, "profile", request, plan.before, plan.after, restarts=restarts
            )
        ]


def _idle(plan: _Plan, data: dict[str, Any], prefix: str = "") -> None:
    state, minutes = data.get("idle_shutdown"), data.get("idle_timeout_minutes")
    if not state and minutes is None:
        return
    for app in IDLE_APPS:
        base = f"{prefix}{app}.AppLifecycleManagement.IdleSettings"
        if state:
            plan.set(f"{base}.LifecycleManagement", state)
        if minutes is not None and state != "DISABLED":
            if not state:
                plan.set(f"{base}.LifecycleManagement", "ENABLED")
            plan.set(f"{base}.IdleTimeoutInMinutes", minutes)


class SpaceEditForm(_EditForm):
    idle_timeout_minutes = forms.IntegerField(min_value=MIN_IDLE, max_value=MAX_IDLE, required=False)
    remote_access = forms.ChoiceField(choices=ONOFF_CHOICES, required=False)

    def __init__(self, *args: Any, space: Space, **kwargs: Any) -> None:
        self.space = space
        kwargs.setdefault("initial", {"idle_timeout_minutes": space.idle_timeout_minutes})
        super().__init__(*args, **kwargs)

    def planned(self) -> list[PlannedChange]:
        space, data = self.space, self.cleaned_data
        plan = _Plan("SpaceSettings", {"SpaceSettings": space.settings_snapshot or {}})
        if data.get("idle_timeout_minutes") is not None:
            app = "CodeEditorAppSettings" if space.app_type == "CodeEditor" else "JupyterLabAppSettings"
            plan.set(f"{app}.AppLifecycleManagement.IdleSettings.IdleTimeoutInMinutes", data["idle_timeout_minutes"])
        if data.get("remote_access"):
            plan.set("RemoteAccess", data["remote_access"])
        if not plan:
            return []
        request = {"DomainId": space.domain.domain_id, "SpaceName": space.name, **plan.tree}
        restarts = tuple(a.arn for a in space.apps.filter(status="InService", removed_at__isnull=True))
        return [PlannedChange("UpdateSpace", space.arn, "space", request, plan.before, plan.after, restarts=restarts)]


class DomainEditForm(_EditForm):
    idle_shutdown = forms.ChoiceField(choices=IDLE_CHOICES, required=False, label="Default idle shutdown")
    idle_timeout_minutes = forms.IntegerField(min_value=MIN_IDLE, max_value=MAX_IDLE, required=False)
    landing = forms.ChoiceField(choices=LANDING_CHOICES, required=False, label="Default landing")
    docker_access = forms.ChoiceField(choices=ONOFF_CHOICES, required=False, label="Docker access")
    tag_propagation = forms.ChoiceField(choices=ONOFF_CHOICES, required=False, label="Tag propagation")

    def __init__(self, *args: Any, domain: Domain, **kwargs: Any) -> None:
        self.domain = domain
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.clean_idle()
        return data

    def planned(self) -> list[PlannedChange]:
        domain, data = self.domain, self.cleaned_data
        described = domain.settings_snapshot or {}
        plan = _Plan("", described)
        _idle(plan, data, prefix="DefaultUserSettings.")
        if data.get("landing"):
            plan.set("DefaultUserSettings.DefaultLandingUri", data["landing"])
            plan.set("DefaultUserSettings.StudioWebPortal", "ENABLED" if data["landing"] == "studio::" else "DISABLED")
        if data.get("tag_propagation"):
            plan.set("TagPropagation", data["tag_propagation"])
        if data.get("docker_access"):
            # the Describe answer says DomainSettings where UpdateDomain takes DomainSettingsForUpdate
            plan.set_as(
                "DomainSettings.DockerSettings.EnableDockerAccess",
                "DomainSettingsForUpdate.DockerSettings.EnableDockerAccess",
                data["docker_access"],
            )
        if not plan:
            return []
        request = {"DomainId": domain.domain_id, **plan.tree}
        return [PlannedChange("UpdateDomain", domain.arn, "domain", request, plan.before, plan.after)]


def default_title(changes: list[PlannedChange], what: str) -> str:
    fields = sorted({path.rsplit(".", 1)[-1] for c in changes for path in c.after})
    return f"Change {', '.join(fields)} of {what}"[:200]
