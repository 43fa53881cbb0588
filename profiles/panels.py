"""What the profiles app shows on the domain page (registered in :mod:`portal.registry` by :class:`ProfilesConfig`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from domains.models import Domain
from profiles.models import App, Space, UserProfile


def domain_members(request: HttpRequest, domain: Domain) -> dict[str, Any]:
    """The first 25 active profiles, spaces and running apps of the domain that this person may see."""
    user = request.user
    active = {"domain": domain, "removed_at__isnull": True}
    return {
        "profiles": UserProfile.objects.restrict(user).filter(**active).select_related("domain", "owner")[:25],
        "spaces": Space.objects.restrict(user).filter(**active).select_related("domain", "owner_profile")[:25],
        "apps": App.objects.restrict(user).filter(**active, status="InService")[:25],
    }
