"""Who may do what, in which domains: the access vocabulary, one mechanism for pages and API alike.

Every model that people see has a manager built from :class:`portal.querysets.RestrictedQuerySet` and a
``scope_q(grants, action)`` classmethod that says which rows a non-admin may act on. Views call
``Model.objects.restrict(request.user, "view")`` in ``get_queryset()``; what is out of scope answers 404 exactly like
what does not exist.

This module imports no model (the models import it): the roles, the actions, what each role may do, ``ALL_DOMAINS``
and ``domain_q``. A person's :class:`Grants` are loaded once per user object, i.e. once per request, and kept on it,
the way NetBox's ``RestrictedQuerySet`` reads the permission cache its auth backend fills; the role assignments are
read through the app registry so this vocabulary stays below ``portal.models``.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    """The roles a person may hold, in one domain or in every domain (:class:`portal.models.RoleAssignment`)."""

    PLATFORM_ADMIN = "platform_admin", "Platform admin"
    DOMAIN_APPROVER = "domain_approver", "Domain approver"
    FINANCE = "finance", "Finance"
    TEAM_LEAD = "team_lead", "Team lead"
    DATA_SCIENTIST = "data_scientist", "Data scientist"


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
    """A person's role assignments as ``(role, domain_arn)`` pairs; :func:`grants_for` loads them once per user."""

    def __init__(self, user: Any, pairs: list[tuple[str, str]] | None = None) -> None:
        self.user = user
        self.authenticated = bool(getattr(user, "is_authenticated", False))
        if pairs is None:
            pairs = _load_pairs(user) if self.authenticated else []
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


def _load_pairs(user: Any) -> list[tuple[str, str]]:
    assignments = apps.get_model("portal", "RoleAssignment")
    return list(assignments.objects.filter(user=user).values_list("role", "domain_arn"))


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


def is_system_actor(actor: Any) -> bool:
    """A service called for the system (the demo, a command, the scheduler) names its actor with a string; such an
    actor passes the permission part of a service's rule, never the state part."""
    return isinstance(actor, str)


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
