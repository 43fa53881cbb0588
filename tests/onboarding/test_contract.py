"""One contract for the services: every do_* checks its own rule, and the pages' buttons ask the very same rules.

For every state and every person, a button is open exactly when its service accepts the action.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from onboarding import services
from onboarding.models import Offboarding, Request, SpaceRequest
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


def accepted(service: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Whether the service accepts the call; whatever it did is rolled back."""
    try:
        with transaction.atomic():
            service(*args, **kwargs)
            raise Rollback
    except Rollback:
        return True
    except ValidationError:
        return False


def people(world: World) -> list[Any]:
    return [world.admin, world.approver, world.approver2, world.lead, world.scientist, world.finance, world.outsider]


def test_the_request_buttons_are_open_exactly_when_the_services_accept(world: World) -> None:
    req = services.do_submit_space_request(actor=world.lead, **world.space_fields())
    later = timezone.localdate() + timedelta(days=30)
    services_of = {
        "can_decide": lambda r, who: services.do_approve(r, actor=who),
        "can_cancel": lambda r, who: services.do_cancel(r, actor=who),
        "can_retry": lambda r, who: services.do_retry(r, actor=who),
        "can_extend": lambda r, who: services.do_extend_space(r, actor=who, expires_on=later),
        "can_delete": lambda r, who: services.do_delete_space(r, actor=who),
    }
    mismatches = []
    for status in Request.Status:
        SpaceRequest.objects.filter(pk=req.pk).update(status=status)
        req.refresh_from_db()
        for who in people(world):
            shown = services.open_actions(who, req)
            for button, service in services_of.items():
                if shown[button] != accepted(service, req, who):
                    mismatches.append((status.value, who.username, button, shown[button]))
            if shown["can_decide"] != accepted(services.do_reject, req, actor=who, reason="Not this quarter"):
                mismatches.append((status.value, who.username, "reject", shown["can_decide"]))
    assert mismatches == []


def test_the_offboarding_buttons_are_open_exactly_when_the_services_accept(world: World) -> None:
    plan = services.do_plan_offboarding(actor=world.approver, person=world.lead, reason="Leaves the team")
    services_of = {
        "can_decide": services.do_approve_offboarding,
        "can_cancel": services.do_cancel_offboarding,
        "can_resume": services.do_resume_offboarding,
    }
    mismatches = []
    for status in Offboarding.Status:
        Offboarding.objects.filter(pk=plan.pk).update(status=status)
        plan.refresh_from_db()
        for who in people(world):
            shown = services.offboarding_actions(who, plan)
            for button, service in services_of.items():
                if shown[button] != accepted(service, plan, actor=who):
                    mismatches.append((status.value, who.username, button, shown[button]))
    assert mismatches == []


def test_a_rule_says_why_it_refuses(world: World) -> None:
    own = services.do_submit_profile_request(
        actor=world.approver, person=world.approver, domain=world.research, template=world.persona
    )
    with pytest.raises(ValidationError, match="Nobody approves or rejects their own request"):
        services.check_can_approve(world.approver, own)
    with pytest.raises(ValidationError, match="Only an approver of the domain research"):
        services.do_approve(own, actor=world.outsider)
    services.do_approve(own, actor=world.approver2)
    with pytest.raises(ValidationError, match="only a request waiting for approval can be decided"):
        services.do_reject(own, actor=world.approver2, reason="Changed my mind")


def test_persona_templates_are_changed_by_the_domains_approvers_or_the_system(world: World) -> None:
    world.persona.description = "Changed"
    with pytest.raises(ValidationError, match="Only an approver of research"):
        services.do_save_persona(world.persona, actor=world.scientist)
    services.do_save_persona(world.persona, actor=world.approver)
    services.do_save_persona(world.persona, actor="demo")
