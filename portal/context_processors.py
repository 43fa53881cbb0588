"""Template context every page needs: the navigation and the AWS mode banner."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from portal.scoping import APPROVE, grants_for

# The portal's areas, in menu order, and who sees them ("" everyone, "approver" people who approve in some domain,
# "admin" platform admins): an item is hidden from people who would only get a 404 there. An area appears once its
# app provides the named URL, so the menu never links to a page that does not exist yet.
NAVIGATION: list[tuple[str, str, str]] = [
    ("Overview", "home", ""),
    ("Accounts", "domains:account-list", "admin"),
    ("Domains", "domains:domain-list", ""),
    ("Profiles", "profiles:profile-list", ""),
    ("Spaces", "profiles:space-list", ""),
    ("Requests", "onboarding:inbox", ""),
    ("Offboarding", "onboarding:offboarding-list", "approver"),
    ("Costs", "costs:dashboard", ""),
    ("Governance", "domains:posture", ""),
    ("Sync runs", "domains:syncrun-list", ""),
    ("Audit log", "portal:audit-list", ""),
    ("Roles", "domains:role-list", "admin"),
    ("API", "api-docs", ""),
]


def _navigation(request: HttpRequest) -> list[dict[str, Any]]:
    grants = grants_for(request.user)
    sees = {"": True, "admin": grants.is_admin, "approver": bool(grants.domains_for(APPROVE))}
    items = []
    for label, name, who in NAVIGATION:
        if not sees[who]:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return items


def portal(request: HttpRequest) -> dict[str, Any]:
    return {
        "nav_items": _navigation(request) if request.user.is_authenticated else [],
        "aws_mode": settings.AWS_MODE,
    }
