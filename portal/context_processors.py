"""Template context every page needs: the navigation and the AWS mode banner."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from portal.registry import registry
from portal.scoping import grants_for


def _navigation(request: HttpRequest) -> list[dict[str, Any]]:
    """The menu entries the apps registered, in order, without those this person would only get a 404 from."""
    grants = grants_for(request.user)
    items = []
    for entry in registry.menu:
        if not entry.visible(grants):
            continue
        url = reverse(entry.url_name)
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"label": entry.label, "url": url, "active": active})
    return items


def portal(request: HttpRequest) -> dict[str, Any]:
    return {
        "nav_items": _navigation(request) if request.user.is_authenticated else [],
        "aws_mode": settings.AWS_MODE,
    }
