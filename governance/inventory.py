"""One domain's inventory as the checks read it, loaded for many domains in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domains.models import Domain
from governance.models import GovernancePolicy
from profiles import effective
from profiles.models import App, Space, UserProfile


@dataclass
class DomainInventory:
    domain: Domain
    policy: GovernancePolicy
    profiles: list[UserProfile]
    spaces: list[Space]
    apps: list[App]
    now: datetime
    _profile_settings: dict[int, dict[str, effective.Setting]] = field(default_factory=dict)
    _space_settings: dict[int, dict[str, effective.Setting]] = field(default_factory=dict)

    def profile_settings(self, profile: UserProfile) -> dict[str, effective.Setting]:
        if profile.pk not in self._profile_settings:
            self._profile_settings[profile.pk] = effective.profile_settings(
                self.domain.settings_snapshot, profile.settings_snapshot
            )
        return self._profile_settings[profile.pk]

    def space_settings(self, space: Space) -> dict[str, effective.Setting]:
        if space.pk not in self._space_settings:
            owner = self.profile_by_pk.get(space.owner_profile_id)
            self._space_settings[space.pk] = effective.space_settings(
                self.domain.settings_snapshot,
                space.settings_snapshot,
                shared=space.sharing_type == "Shared",
                owner_user_settings=owner.settings_snapshot if owner else None,
            )
        return self._space_settings[space.pk]

    @property
    def profile_by_pk(self) -> dict[int, UserProfile]:
        return {p.pk: p for p in self.profiles}

    def owner_of(self, resource: Any, kind: str) -> int | None:
        """The portal user behind a resource: a profile's owner, a space's owner profile's, an app's profile's or
        space's."""
        by_pk = self.profile_by_pk
        if kind == "profile":
            return resource.owner_id
        if kind == "space":
            owner = by_pk.get(resource.owner_profile_id)
            return owner.owner_id if owner else None
        if kind == "app":
            if resource.user_profile_id:
                owner = by_pk.get(resource.user_profile_id)
                return owner.owner_id if owner else None
            space = next((s for s in self.spaces if s.pk == resource.space_id), None)
            return self.owner_of(space, "space") if space else None
        return None


def load(domains: list[Domain], now: datetime) -> list[DomainInventory]:
    """The live members of these domains with their policies: five queries, whatever their number."""
    pks = [d.pk for d in domains]
    policies = {p.domain_id: p for p in GovernancePolicy.objects.filter(domain_id__in=pks)}
    members: dict[str, dict[int, list[Any]]] = {"profiles": defaultdict(list), "spaces": defaultdict(list)}
    for profile in UserProfile.objects.filter(domain_id__in=pks, removed_at__isnull=True).select_related("owner"):
        members["profiles"][profile.domain_id].append(profile)
    for space in Space.objects.filter(domain_id__in=pks, removed_at__isnull=True):
        members["spaces"][space.domain_id].append(space)
    apps: dict[int, list[App]] = defaultdict(list)
    for app in App.objects.filter(domain_id__in=pks, removed_at__isnull=True).exclude(status="Deleted"):
        apps[app.domain_id].append(app)
    result = []
    for domain in domains:
        policy = policies.get(domain.pk) or GovernancePolicy(domain=domain)
        policy.domain = domain
        result.append(
            DomainInventory(
                domain, policy, members["profiles"][domain.pk], members["spaces"][domain.pk], apps[domain.pk], now
            )
        )
    return result
