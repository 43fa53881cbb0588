"""What the request pages say after an action, and what their forms send."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding import services
from onboarding.models import ProfileRequest, SpaceRequest
from tests.onboarding.test_views import client_for
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_extending_a_space_says_it_was_extended_not_activated(world: World) -> None:
    req = services.do_submit_space_request(actor=world.lead, **world.space_fields())
    SpaceRequest.objects.filter(pk=req.pk).update(status="active")
    later = timezone.localdate() + timedelta(days=90)
    response = client_for(world.lead).post(
        reverse("onboarding:space-request-action", args=[req.pk, "extend"]), {"expires_on": later}, follow=True
    )
    assert messages_of(response) == [
        f"{req.request_id} (churn-model) extended: the space now expires on {later:%Y-%m-%d}."
    ]


def test_each_action_says_what_it_did(world: World) -> None:
    req = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
    )
    cancelled = client_for(world.scientist).post(
        reverse("onboarding:profile-request-action", args=[req.pk, "cancel"]), follow=True
    )
    assert messages_of(cancelled) == [f"{req.request_id} cancelled."]
    other = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.risk, template=world.risk_persona
    )
    rejected = client_for(world.approver).post(
        reverse("onboarding:profile-request-action", args=[other.pk, "reject"]), {"reason": "Not now"}, follow=True
    )
    assert messages_of(rejected) == [f"{other.request_id} rejected; the requester is told your reason."]
    assert ProfileRequest.objects.get(pk=other.pk).status == "rejected"


def test_the_working_indicator_is_a_css_shape_not_a_glyph(world: World) -> None:
    req = services.do_submit_profile_request(
        actor=world.scientist, person=world.scientist, domain=world.research, template=world.persona
    )
    ProfileRequest.objects.filter(pk=req.pk).update(status="approved", progress="Queued for provisioning.")
    fragment = client_for(world.scientist).get(reverse("onboarding:profile-request-progress", args=[req.pk]))
    body = fragment.content.decode()
    line = next(line for line in body.splitlines() if "Queued for provisioning." in line)
    assert '<span class="working" aria-hidden="true"></span> Queued for provisioning.' in line
    assert line.isascii(), line  # no emoji or symbol a font may lack


@pytest.mark.parametrize("url_name", ["onboarding:profile-request-new", "onboarding:space-request-new"])
def test_request_forms_keep_the_csrf_token_out_of_their_get_refreshes(world: World, url_name: str) -> None:
    body = client_for(world.lead).get(reverse(url_name)).content.decode()
    form = body[body.index('<form method="post"') :]
    form = form[: form.index(">")]
    assert 'hx-get="' in form and 'hx-params="not csrfmiddlewaretoken"' in form
    assert body.count("hx-include=") == body.count('hx-params="not csrfmiddlewaretoken"') - 1
