"""What change sets add to other pages: the approver inbox section and the domain, profile and space panels."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from changesets.models import ChangeSet
from portal.registry import Panel, registry
from portal.scoping import APPROVE, grants_for

INBOX_ROWS = 50
OPEN = (ChangeSet.Status.PROPOSED, *ChangeSet.WORKING, ChangeSet.Status.FAILED)


def inbox_context(request: HttpRequest) -> dict[str, Any] | None:
    """Change sets waiting for this person's approval (in their domains, proposed by someone else)."""
    user = request.user
    if not grants_for(user).domains_for(APPROVE):
        return None
    waiting = (
        ChangeSet.objects.restrict(user, APPROVE)
        .filter(status=ChangeSet.Status.PROPOSED)
        .exclude(proposed_by=user)
        .select_related("domain")
        .order_by("created_at")
    )
    rows = list(waiting[: INBOX_ROWS + 1])
    return {"change_sets": rows[:INBOX_ROWS], "more": len(rows) > INBOX_ROWS}


def _resource_panel(kind: str) -> Any:
    def context(request: HttpRequest, obj: Any) -> dict[str, Any] | None:
        user = request.user
        domain = obj if kind == "domain" else obj.domain
        if not grants_for(user).allows(APPROVE, domain.arn):
            return None
        if kind == "domain":
            open_sets = ChangeSet.objects.filter(domain=domain, status__in=OPEN)
        else:
            open_sets = ChangeSet.objects.filter(domain=domain, status__in=OPEN, changes__resource_arn=obj.arn)
        return {
            "kind": kind,
            "obj": obj,
            "editable": obj.removed_at is None,
            "open_change_sets": open_sets.distinct().order_by("-created_at")[:10],
        }

    return context


def register_panels() -> None:
    for kind in ("domain", "profile", "space"):
        registry.add_panel(Panel(kind, "changesets/_resource_panel.html", _resource_panel(kind), order=50))
