"""What governance shows on the domain, profile and space pages (registered in :mod:`portal.registry` by
:class:`governance.apps.GovernanceConfig`): the live findings on the resource, and on the domain page the domain's
open findings by severity, each count linking to the findings list filtered to it.

A panel shows only what its reader may read of the findings (``Finding.objects.restrict``): the approvers, finance
and team leads of the domain (platform admins everywhere) read them all; the owner of a profile or space reads those
on it and its apps; anyone else gets no panel at all rather than a misleading "nothing found".
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode

from domains.models import Domain
from governance.models import Finding
from governance.posture import LIVE, by_severity
from portal.registry import Panel, registry
from portal.scoping import ALL_DOMAINS, APPROVE, MEMBER_WIDE_ROLES, VIEW, grants_for
from profiles.models import App, Space, UserProfile

PANEL_ROWS = 10


def reads_every_finding(user: Any, domain: Domain) -> bool:
    """Whether ``user`` reads all of the domain's findings (a member-wide role there, or a platform admin)."""
    domains = grants_for(user).domains_for(VIEW, roles=MEMBER_WIDE_ROLES)
    return domains is ALL_DOMAINS or domain.arn in domains


def findings_url(domain: Domain, **filters: str) -> str:
    return f"{reverse('governance:finding-list')}?{urlencode({'domain': domain.domain_id, **filters})}"


def _rows(findings: Any) -> dict[str, Any]:
    rows = list(by_severity(findings.filter(status__in=LIVE))[: PANEL_ROWS + 1])
    return {"findings": rows[:PANEL_ROWS], "more": len(rows) > PANEL_ROWS}


def domain_posture(request: HttpRequest, domain: Domain) -> dict[str, Any] | None:
    user = request.user
    wide = reads_every_finding(user, domain)
    readable = Finding.objects.restrict(user, VIEW).filter(domain=domain)
    counts = {"high": 0, "medium": 0, "low": 0, "accepted": 0}
    for row in readable.filter(status__in=LIVE).values("severity", "status").annotate(n=Count("pk")):
        counts["accepted" if row["status"] == Finding.Status.ACCEPTED else row["severity"]] += row["n"]
    if not wide and not any(counts.values()):
        return None
    links = {
        severity: findings_url(domain, severity=severity, status=Finding.Status.OPEN)
        for severity in ("high", "medium", "low")
    }
    links["accepted"] = findings_url(domain, status=Finding.Status.ACCEPTED)
    return {
        "wide": wide,
        "counts": counts,
        "open_total": counts["high"] + counts["medium"] + counts["low"],
        "links": links,
        "all_url": findings_url(domain, status=Finding.Status.OPEN),
        "may_edit_policy": domain.removed_at is None and grants_for(user).allows(APPROVE, domain.arn),
        **_rows(readable.filter(resource_arn=domain.arn)),
    }


def _resource_findings(request: HttpRequest, obj: Any, kind: str, owner_id: int | None) -> dict[str, Any] | None:
    user = request.user
    if not (reads_every_finding(user, obj.domain) or (owner_id is not None and owner_id == user.pk)):
        return None
    apps = App.objects.filter(**{"user_profile" if kind == "profile" else "space": obj}).values("arn")
    on_it = Finding.objects.restrict(user, VIEW).filter(Q(resource_arn=obj.arn) | Q(resource_arn__in=apps))
    return {
        "kind": kind,
        "obj": obj,
        "list_url": findings_url(obj.domain, q=obj.name),
        **_rows(on_it.select_related("domain")),
    }


def profile_findings(request: HttpRequest, profile: UserProfile) -> dict[str, Any] | None:
    """Live findings on the profile and on its apps."""
    return _resource_findings(request, profile, "profile", profile.owner_id)


def space_findings(request: HttpRequest, space: Space) -> dict[str, Any] | None:
    """Live findings on the space and on its apps."""
    owner = space.owner_profile
    return _resource_findings(request, space, "space", owner.owner_id if owner else None)


def register_panels() -> None:
    registry.add_panel(Panel("domain", "governance/_domain_posture_panel.html", domain_posture, order=20))
    registry.add_panel(Panel("profile", "governance/_resource_findings_panel.html", profile_findings, order=40))
    registry.add_panel(Panel("space", "governance/_resource_findings_panel.html", space_findings, order=40))
