"""Effective Studio settings of a profile or a space, each value with where it came from (GOVERNANCE.md section 2).

- A profile's ``UserSettings`` override the domain's ``DefaultUserSettings`` field by field (the idle settings and
  ``StudioWebPortalSettings`` too: a field-by-field merge, as assumed); security groups add up.
- A private space follows its owner's effective JupyterLab / Code Editor settings; a shared space follows the
  domain's ``DefaultSpaceSettings`` (which has no ``CodeEditorAppSettings`` block). A space's own idle timeout
  (``<App>AppSettings.AppLifecycleManagement.IdleSettings.IdleTimeoutInMinutes``) wins over both; it carries no
  ``LifecycleManagement``.
- What nobody sets takes AWS's default: idle shutdown off, the new Studio (``studio::``, web portal ENABLED) and
  the home EFS mounted.

Sources are the words the pages and the governance evidence show: ``profile override``, ``domain default``,
``domain space default``, ``owner's profile override``, ``owner's domain default``, ``space setting``,
``AWS default``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROFILE = "profile override"
DOMAIN = "domain default"
DOMAIN_SPACE = "domain space default"
SPACE = "space setting"
AWS_DEFAULT = "AWS default"

APPS = ("JupyterLab", "CodeEditor")
IDLE_FIELDS = ("LifecycleManagement", "IdleTimeoutInMinutes", "MinIdleTimeoutInMinutes", "MaxIdleTimeoutInMinutes")
AWS_DEFAULTS: dict[str, Any] = {
    "StudioWebPortal": "ENABLED",
    "DefaultLandingUri": "studio::",
    "AutoMountHomeEFS": "Enabled",
    "LifecycleManagement": "DISABLED",
}


@dataclass(frozen=True)
class Setting:
    """One effective value: ``path`` is where it lives in UserSettings/SpaceSettings, ``source`` where it came
    from (None values are "not set")."""

    path: str
    value: Any
    source: str

    def __str__(self) -> str:
        shown = "not set" if self.value in (None, "", []) else self.value
        return f"{shown} ({self.source})"


def idle_path(app: str, name: str) -> str:
    return f"{app}AppSettings.AppLifecycleManagement.IdleSettings.{name}"


def _idle(settings: dict[str, Any] | None, app: str) -> dict[str, Any]:
    block = (settings or {}).get(f"{app}AppSettings") or {}
    return (block.get("AppLifecycleManagement") or {}).get("IdleSettings") or {}


def _pick(path: str, layers: list[tuple[str, Any]], default_key: str | None = None) -> Setting:
    for source, value in layers:
        if value not in (None, ""):
            return Setting(path, value, source)
    if default_key is not None and default_key in AWS_DEFAULTS:
        return Setting(path, AWS_DEFAULTS[default_key], AWS_DEFAULT)
    return Setting(path, None, AWS_DEFAULT)


def domain_user_defaults(domain_snapshot: dict[str, Any] | None) -> dict[str, Any]:
    return (domain_snapshot or {}).get("DefaultUserSettings") or {}


def domain_space_defaults(domain_snapshot: dict[str, Any] | None) -> dict[str, Any]:
    return (domain_snapshot or {}).get("DefaultSpaceSettings") or {}


def profile_settings(
    domain_snapshot: dict[str, Any] | None, user_settings: dict[str, Any] | None
) -> dict[str, Setting]:
    """A profile's effective settings: its own ``UserSettings`` over the domain's ``DefaultUserSettings``."""
    defaults = domain_user_defaults(domain_snapshot)
    own = user_settings or {}
    result: dict[str, Setting] = {}
    for name in ("StudioWebPortal", "DefaultLandingUri", "ExecutionRole", "AutoMountHomeEFS"):
        result[name] = _pick(name, [(PROFILE, own.get(name)), (DOMAIN, defaults.get(name))], name)
    own_portal = own.get("StudioWebPortalSettings") or {}
    domain_portal = defaults.get("StudioWebPortalSettings") or {}
    for name in ("HiddenAppTypes", "HiddenMlTools", "HiddenInstanceTypes"):
        path = f"StudioWebPortalSettings.{name}"
        result[name] = _pick(path, [(PROFILE, own_portal.get(name)), (DOMAIN, domain_portal.get(name))])
    groups = list(defaults.get("SecurityGroups") or []) + [
        g for g in own.get("SecurityGroups") or [] if g not in (defaults.get("SecurityGroups") or [])
    ]
    sources = [s for s, v in ((DOMAIN, defaults.get("SecurityGroups")), (PROFILE, own.get("SecurityGroups"))) if v]
    result["SecurityGroups"] = Setting("SecurityGroups", groups, " + ".join(sources) or AWS_DEFAULT)
    for app in APPS:
        mine, theirs = _idle(own, app), _idle(defaults, app)
        for name in IDLE_FIELDS:
            result[f"{app}.{name}"] = _pick(
                idle_path(app, name), [(PROFILE, mine.get(name)), (DOMAIN, theirs.get(name))], name
            )
    return result


def space_settings(
    domain_snapshot: dict[str, Any] | None,
    space_snapshot: dict[str, Any] | None,
    *,
    shared: bool,
    owner_user_settings: dict[str, Any] | None = None,
) -> dict[str, Setting]:
    """A space's effective idle settings for its app type (``<App>.<field>`` keys, as for profiles).

    Private: the owner's effective settings; shared: the domain's ``DefaultSpaceSettings``; the space's own idle
    timeout wins over either."""
    space_snapshot = space_snapshot or {}
    app = space_snapshot.get("AppType") or "JupyterLab"
    result: dict[str, Setting] = {}
    if shared:
        # DefaultSpaceSettings has only a JupyterLabAppSettings block: it governs shared spaces of either app
        # (assumed for Code Editor, which has no block of its own there).
        base = _idle(domain_space_defaults(domain_snapshot), "JupyterLab")
        layers_for = {name: [(DOMAIN_SPACE, base.get(name))] for name in IDLE_FIELDS}
    else:
        owner = profile_settings(domain_snapshot, owner_user_settings)
        layers_for = {}
        for name in IDLE_FIELDS:
            setting = owner.get(f"{app}.{name}")
            source = "owner's " + setting.source if setting and setting.source != AWS_DEFAULT else AWS_DEFAULT
            layers_for[name] = [(source, setting.value if setting and setting.source != AWS_DEFAULT else None)]
    own = _idle(space_snapshot, app)
    for name in IDLE_FIELDS:
        layers = list(layers_for[name])
        if name == "IdleTimeoutInMinutes":
            layers.insert(0, (SPACE, own.get(name)))
        result[f"{app}.{name}"] = _pick(idle_path(app, name), layers, name)
    result["AppType"] = Setting("AppType", app, SPACE)
    return result


def idle_summary(settings: dict[str, Setting], app: str = "JupyterLab") -> str:
    """ "idle shutdown after 120 min (domain default)", "idle shutdown off (profile override)"..."""
    state = settings.get(f"{app}.LifecycleManagement")
    timeout = settings.get(f"{app}.IdleTimeoutInMinutes")
    if state is None:
        return "not known"
    if state.value == "ENABLED":
        if timeout is not None and timeout.value:
            return f"after {timeout.value} min ({timeout.source})"
        return f"on, no timeout set ({state.source})"
    return f"off ({state.source})"
