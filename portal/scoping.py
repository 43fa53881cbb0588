"""Who may do what, in which domains: one mechanism for pages and API alike.

Every model that people see has a manager built from :class:`portal.querysets.RestrictedQuerySet` and a
``scope_q(grants, action)`` classmethod that says which rows a non-admin may act on. Views call
``Model.objects.restrict(request.user, "view")`` in ``get_queryset()``; what is out of scope answers 404 exactly like
what does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from portal.models import RoleAssignment

Role = RoleAssignment.Role

VIEW = "view"
SYNC = "sync"
MANAGE = "manage"
APPROVE = "approve"
VIEW_COSTS = "view_costs"
REQUEST_PROFILE = "request_profile"
REQUEST_SPACE = "request_space"

# What each role may do in the domains it is assigned to. A platform admin may do everything everywhere.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.DOMAIN_APPROVER: frozenset({VIEW, SYNC, MANAGE, APPROVE, VIEW_COSTS}),
    Role.FINANCE: frozenset({VIEW, VIEW_COSTS}),
    Role.TEAM_LEAD: frozenset({VIEW, VIEW_COSTS, REQUEST_SPACE}),
    Role.DATA_SCIENTIST: frozenset({VIEW, REQUEST_PROFILE}),
}

# Roles that see every member (profile, space, app) of their domains; the others see only their own.
MEMBER_WIDE_ROLES = frozenset({Role.DOMAIN_APPROVER, Role.FINANCE, Role.TEAM_LEAD})


class AllDomains:
    """Stands for 'every domain' in a set of domain ARNs."""

    def __repr__(self) -> str:
        return "ALL_DOMAINS"


ALL_DOMAINS = AllDomains()
DomainSet = set[str] | AllDomains


class Grants:
    """A person's role assignments, loaded once per request (cached on the user object)."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.authenticated = bool(getattr(user, "is_authenticated", False))
        pairs = (
            list(RoleAssignment.objects.filter(user=user).values_list("role", "domain_arn"))
            if self.authenticated
            else []
        )
        self.pairs: list[tuple[str, str]] = pairs
        self.is_admin = self.authenticated and (
            bool(getattr(user, "is_superuser", False)) or any(role == Role.PLATFORM_ADMIN for role, _ in pairs)
        )

    def domains_for(self, action: str, roles: frozenset[str] | None = None) -> DomainSet:
        """ARNs of the domains where some role of this person allows ``action`` (or ALL_DOMAINS)."""
        if self.is_admin:
            return ALL_DOMAINS
        arns: set[str] = set()
        for role, arn in self.pairs:
            if roles is not None and role not in roles:
                continue
            if action in ROLE_ACTIONS.get(role, frozenset()):
                if not arn:
                    return ALL_DOMAINS
                arns.add(arn)
        return arns

    def allows(self, action: str, domain_arn: str) -> bool:
        """Whether some role of this person allows ``action`` in the domain with this ARN."""
        domains = self.domains_for(action)
        return domains is ALL_DOMAINS or domain_arn in domains


def grants_for(user: Any) -> Grants:
    if user is None or isinstance(user, AnonymousUser):
        return Grants(AnonymousUser())
    cached = getattr(user, "_portal_grants", None)
    if cached is None:
        cached = Grants(user)
        user._portal_grants = cached
    return cached


def forget_grants(user: Any) -> None:
    """Drop the cached grants after a role change made in this request."""
    if hasattr(user, "_portal_grants"):
        del user._portal_grants


def domain_q(domains: DomainSet, field: str) -> Q:
    """A filter on ``field`` (a domain ARN column) for a set of domains."""
    if isinstance(domains, AllDomains):
        return Q()
    return Q(**{f"{field}__in": sorted(domains)})


def require_admin(user: Any) -> None:
    """Pages only platform admins have: anyone else gets the 404 of a page that does not exist."""
    from django.http import Http404

    if not grants_for(user).is_admin:
        raise Http404("No such page.")


def require_somewhere(user: Any, action: str) -> None:
    """Pages for people who may do ``action`` in at least one domain: anyone else gets the 404 of a page that does
    not exist."""
    from django.http import Http404

    if not grants_for(user).domains_for(action):
        raise Http404("No such page.")
