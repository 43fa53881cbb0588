"""What the IAM review shows on other apps' pages (registered in :mod:`portal.registry` by
:class:`iamaccess.apps.IamAccessConfig`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.http import HttpRequest

from domains.models import Domain
from iamaccess.models import ExecutionRole, RoleUse
from portal.scoping import MANAGE, grants_for


def domain_roles(request: HttpRequest, domain: Domain) -> dict[str, Any] | None:
    """The execution roles acting in the domain, with what each acts for there, for its approvers."""
    if not grants_for(request.user).allows(MANAGE, domain.arn):
        return None
    kinds = Counter(RoleUse.objects.filter(domain=domain).values_list("role_id", "kind"))
    roles = list(ExecutionRole.objects.filter(pk__in={pk for pk, _ in kinds}).order_by("name"))
    for role in roles:
        role.acts_for = [(RoleUse.Kind(kind).label, n) for (pk, kind), n in sorted(kinds.items()) if pk == role.pk]
    return {"roles": roles}


def isolation_rollout(request: HttpRequest, domain: Domain) -> dict[str, Any] | None:
    """On a domain's tag coverage page, for its approvers: what the isolation policy would lock out now, and the
    policy for its execution roles once coverage is complete."""
    if not grants_for(request.user).allows(MANAGE, domain.arn):
        return None
    from iamaccess import rollout

    return rollout.rollout_context(domain, sample=10)
