"""What onboarding shows on pages of lower apps (through :mod:`portal.registry`)."""

from __future__ import annotations

from typing import Any

from onboarding import services
from onboarding.models import Offboarding


def person_offboarding(request: Any, person: Any) -> dict[str, Any] | None:
    """On a person's page: their offboarding plans, and a link to plan one, for whoever may offboard people."""
    if not services.allowed(services.check_can_plan_offboarding, request.user):
        return None
    plans = list(Offboarding.objects.restrict(request.user).filter(person=person).order_by("-created_at")[:5])
    open_plan = next((p for p in plans if p.status in Offboarding.OPEN), None)
    return {"person": person, "plans": plans, "open_plan": open_plan}
