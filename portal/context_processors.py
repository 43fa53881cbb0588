"""Template context every page needs: the navigation and the AWS mode banner."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from portal.scoping import grants_for

# The portal's areas, in menu order. An area appears once its app provides the named URL, so the menu never
# links to a page that does not exist yet.
# Items marked admin_only are hidden from people who would only get a 404 there.
NAVIGATION: list[tuple[str, str, bool]] = [
    ("Overview", "home", False),
    ("Accounts", "domains:account-list", True),
    ("Domains", "domains:domain-list", False),
    ("Profiles", "profiles:profile-list", False),
    ("Spaces", "profiles:space-list", False),
    ("Requests", "onboarding:inbox", False),
    ("Costs", "costs:dashboard", False),
    ("Governance", "domains:posture", False),
    ("Sync runs", "domains:syncrun-list", False),
    ("Audit log", "portal:audit-list", False),
    ("Roles", "domains:role-list", True),
    ("API", "api-docs", False),
]


def _navigation(request: HttpRequest) -> list[dict[str, Any]]:
    is_admin = grants_for(request.user).is_admin
    items = []
    for label, name, admin_only in NAVIGATION:
        if admin_only and not is_admin:
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
