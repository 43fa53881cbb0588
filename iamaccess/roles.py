"""Which execution role acts for what, by the effective-settings rules (GOVERNANCE.md sections 2 and 4, step 2).

- A profile acts as its own ``UserSettings.ExecutionRole`` or, when it sets none, the domain's
  ``DefaultUserSettings.ExecutionRole`` (:func:`profiles.effective.profile_settings`).
- A private space acts as its owner's role; a shared space as the domain's ``DefaultSpaceSettings.ExecutionRole``
  or, when the domain sets none, the domain's default user role (assumed: ``ASSUMED_SPACE_ROLE_FALLBACK``).
"""

from __future__ import annotations

from typing import Any

from profiles import effective

SPACE_ROLE_PATH = "DefaultSpaceSettings.ExecutionRole"
# ASSUMED (the developer guide's shared-spaces pages name only DefaultSpaceSettings.ExecutionRole): a domain without
# one runs shared spaces as its default user role.
ASSUMED_SPACE_ROLE_FALLBACK = "domain default (no space role set)"


def domain_default_role(domain_snapshot: dict[str, Any] | None) -> str:
    return (effective.domain_user_defaults(domain_snapshot).get("ExecutionRole") or "").strip()


def space_role(domain_snapshot: dict[str, Any] | None) -> effective.Setting:
    """The role shared spaces act as."""
    role = (effective.domain_space_defaults(domain_snapshot).get("ExecutionRole") or "").strip()
    if role:
        return effective.Setting(SPACE_ROLE_PATH, role, effective.DOMAIN_SPACE)
    fallback = domain_default_role(domain_snapshot)
    return effective.Setting(SPACE_ROLE_PATH, fallback or None, ASSUMED_SPACE_ROLE_FALLBACK)


def profile_role(settings: dict[str, effective.Setting]) -> str:
    """A profile's role from its effective settings."""
    return (settings["ExecutionRole"].value or "").strip()


def account_of(role_arn: str) -> str:
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 5 else ""
