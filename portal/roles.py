"""Services for role assignments; each change writes an audit event.

The services contract (see :mod:`onboarding.services`): ``check_can_manage_roles(actor)`` is the rule and raises a
``ValidationError``; ``do_assign_role`` and ``do_revoke_role`` always call it, then change and audit in one
transaction. Platform admins manage roles; a system actor (a ``str``: the demo, a command) may too.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from portal import audit
from portal.models import RoleAssignment
from portal.scoping import forget_grants, grants_for, is_system_actor

AUDIT_ACTIONS = {
    "role.assigned": "Role given",
    "role.revoked": "Role taken away",
    "login.deactivated": "Portal login deactivated",
}

# Roles that make sense without a domain (every domain) and roles that need one.
GLOBAL_ROLES = {RoleAssignment.Role.PLATFORM_ADMIN, RoleAssignment.Role.FINANCE, RoleAssignment.Role.DOMAIN_APPROVER}


def check_can_manage_roles(actor: Any) -> None:
    if not is_system_actor(actor) and not grants_for(actor).is_admin:
        raise ValidationError("Only a platform admin may give or take away roles.")


def do_assign_role(user: Any, role: str, *, domain_arn: str = "", actor: Any, source: str = "manual") -> RoleAssignment:
    """Give ``user`` the role (in one domain, or in every domain); giving a role already held changes nothing and
    records nothing. The assignment answered says which happened in ``already_held``. ``source="sso"`` marks a role
    an identity provider group gives (:mod:`portal.sso`), taken away again when the group goes."""
    check_can_manage_roles(actor)
    if role not in RoleAssignment.Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    if role == RoleAssignment.Role.PLATFORM_ADMIN and domain_arn:
        raise ValidationError({"domain_arn": "A platform admin has every domain; leave the domain empty."})
    if not domain_arn and role not in GLOBAL_ROLES:
        raise ValidationError({"domain_arn": f"A {RoleAssignment.Role(role).label.lower()} needs a domain."})
    with transaction.atomic():
        granted_by = actor if actor is not None and not isinstance(actor, str) else None
        assignment, created = RoleAssignment.objects.get_or_create(
            user=user, role=role, domain_arn=domain_arn, defaults={"granted_by": granted_by, "source": source}
        )
        assignment.already_held = not created
        if created:
            audit.record(
                "role.assigned",
                assignment,
                actor=actor,
                domain_arn=domain_arn,
                after={"user": user.get_username(), "role": role, "domain_arn": domain_arn, "source": source},
            )
    forget_grants(user)
    return assignment


def do_revoke_role(assignment: RoleAssignment, *, actor: Any) -> None:
    check_can_manage_roles(actor)
    with transaction.atomic():
        before = {"user": assignment.user.get_username(), "role": assignment.role, "domain_arn": assignment.domain_arn}
        audit.record("role.revoked", assignment, actor=actor, domain_arn=assignment.domain_arn, before=before)
        assignment.delete()
    forget_grants(assignment.user)


def do_close_login(user: Any, *, actor: Any, reason: str) -> dict[str, int]:
    """Take a portal login out of use (offboarding): every role removed, every API token revoked, the login
    deactivated (it cannot log in, and its sessions stop working). Audited; safe to run twice."""
    from portal import apitokens

    with transaction.atomic():
        roles = list(RoleAssignment.objects.filter(user=user).select_related("user"))
        for assignment in roles:
            do_revoke_role(assignment, actor=actor)
        tokens = apitokens.revoke_all(user, actor=actor, reason=reason)
        was_active = user.is_active
        if was_active:
            type(user).objects.filter(pk=user.pk).update(is_active=False)
            user.is_active = False
        audit.record(
            "login.deactivated",
            user,
            actor=actor,
            object_repr=user.get_username(),
            before={"is_active": was_active},
            after={"is_active": False, "roles_removed": len(roles), "tokens_revoked": tokens, "reason": reason},
        )
    forget_grants(user)
    return {"roles": len(roles), "tokens": tokens}


def role_emails(roles: list[str], domain_arns: list[str]) -> list[str]:
    """Emails of the active people who hold one of ``roles`` in one of these domains or in every domain."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    holders = RoleAssignment.objects.filter(
        Q(domain_arn__in=sorted(set(domain_arns))) | Q(domain_arn=""), role__in=roles
    )
    users = get_user_model().objects.filter(pk__in=holders.values("user"), is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))
