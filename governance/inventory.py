"""One domain's inventory as the checks read it, loaded for many domains in a fixed number of queries.

A full load gives every live member of each domain. An incremental load (after a sync, with the ARNs it changed)
gives the checks only what changed to iterate over (``profiles``, ``spaces``, ``apps``; a changed profile brings its
private spaces, which follow its settings) while the lookups
(``profile_by_pk``, ``space_by_pk``, the GPU owners, the whole-domain checks' ``all_profiles``) still see what
they need; a domain whose own ARN changed (its defaults) is loaded whole, since every member's effective settings
may have moved.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from django.db.models import Q

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
    all_profiles: list[UserProfile] | None = None
    all_spaces: list[Space] | None = None
    all_apps: list[App] | None = None
    _profile_settings: dict[int, dict[str, effective.Setting]] = field(default_factory=dict)
    _space_settings: dict[int, dict[str, effective.Setting]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.all_profiles = self.profiles if self.all_profiles is None else self.all_profiles
        self.all_spaces = self.spaces if self.all_spaces is None else self.all_spaces
        self.all_apps = self.apps if self.all_apps is None else self.all_apps

    @cached_property
    def scope_arns(self) -> set[str]:
        """The resources this inventory's checks look at: their findings are the ones to reconcile."""
        return {self.domain.arn} | {row.arn for rows in (self.profiles, self.spaces, self.apps) for row in rows}

    @property
    def whole(self) -> bool:
        """Whether the checks iterate over every member (a full evaluation), not only what changed."""
        return self.profiles is self.all_profiles and self.spaces is self.all_spaces and self.apps is self.all_apps

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

    @cached_property
    def profile_by_pk(self) -> dict[int, UserProfile]:
        return {p.pk: p for p in self.all_profiles or ()}

    @cached_property
    def space_by_pk(self) -> dict[int, Space]:
        return {s.pk: s for s in self.all_spaces or ()}

    @cached_property
    def gpu_profile_pks(self) -> set[int]:
        """Profiles that own a GPU space or run a GPU app."""
        gpu = self.policy.is_gpu
        return {s.owner_profile_id for s in self.all_spaces or () if s.owner_profile_id and gpu(s.instance_type)} | {
            a.user_profile_id for a in self.all_apps or () if a.user_profile_id and gpu(a.instance_type)
        }

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
            space = self.space_by_pk.get(resource.space_id)
            return self.owner_of(space, "space") if space else None
        return None


def load(domains: list[Domain], now: datetime, only_arns: set[str] | None = None) -> list[DomainInventory]:
    """The live members of these domains with their policies: five queries, whatever their number.

    With ``only_arns`` (what a sync changed), a domain whose ARN is not among them is loaded narrowed: all its
    profiles (names and owners for the duplicate check, owners for the lookups), and only the spaces and apps that
    changed or belong to what changed."""
    pks = [d.pk for d in domains]
    whole = {d.pk for d in domains if only_arns is None or d.arn in only_arns}
    narrowed = [pk for pk in pks if pk not in whole]
    changed = list(only_arns or ())
    policies = {p.domain_id: p for p in GovernancePolicy.objects.filter(domain_id__in=pks)}
    profiles: dict[int, list[UserProfile]] = defaultdict(list)
    for profile in UserProfile.objects.filter(domain_id__in=pks, removed_at__isnull=True).select_related(
        "owner", "person"
    ):
        profiles[profile.domain_id].append(profile)
    spaces: dict[int, list[Space]] = defaultdict(list)
    space_q = Q(domain_id__in=whole)
    app_q = Q(domain_id__in=whole)
    if narrowed:
        space_q |= Q(domain_id__in=narrowed) & (
            Q(arn__in=changed) | Q(owner_profile__arn__in=changed) | Q(apps__arn__in=changed)
        )
        app_q |= Q(domain_id__in=narrowed) & (
            Q(arn__in=changed) | Q(user_profile__arn__in=changed) | Q(space__arn__in=changed)
        )
    for space in Space.objects.filter(space_q, removed_at__isnull=True).distinct():
        spaces[space.domain_id].append(space)
    apps: dict[int, list[App]] = defaultdict(list)
    for app in App.objects.filter(app_q, removed_at__isnull=True).exclude(status="Deleted"):
        apps[app.domain_id].append(app)
    result = []
    for domain in domains:
        policy = policies.get(domain.pk) or GovernancePolicy(domain=domain)
        policy.domain = domain
        members = profiles[domain.pk], spaces[domain.pk], apps[domain.pk]
        if domain.pk in whole:
            result.append(DomainInventory(domain, policy, *members, now))
            continue
        changed_profiles = {p.pk for p in members[0] if p.arn in only_arns}  # type: ignore[operator]
        mine = (
            [p for p in members[0] if p.pk in changed_profiles],
            # a private space follows its owner's settings: it is reached when the owner changed
            [
                s
                for s in members[1]
                if s.arn in only_arns  # type: ignore[operator]
                or (s.sharing_type != "Shared" and s.owner_profile_id in changed_profiles)
            ],
            [a for a in members[2] if a.arn in only_arns],  # type: ignore[operator]
        )
        result.append(DomainInventory(domain, policy, *mine, now, *members))
    return result
