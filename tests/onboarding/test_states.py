"""The groups of request and offboarding states are made of the models' Status members, not of loose strings."""

from __future__ import annotations

from onboarding.models import Offboarding, Request, SpaceRequest
from onboarding.provision import PROVISIONABLE


def test_every_state_group_is_made_of_status_members() -> None:
    groups = [Request.OPEN, Request.CANCELLABLE, Request.WORKING, Request.LIVE_SPACE, SpaceRequest.LIVE, PROVISIONABLE]
    assert all(isinstance(state, Request.Status) for group in groups for state in group)
    offboarding = [Offboarding.OPEN, Offboarding.WORKING, Offboarding.CANCELLABLE]
    assert all(isinstance(state, Offboarding.Status) for group in offboarding for state in group)


def test_the_state_groups_nest_as_the_rules_expect() -> None:
    assert set(Request.CANCELLABLE) <= set(Request.OPEN)
    assert set(Request.WORKING) <= set(Request.OPEN) and set(SpaceRequest.LIVE) <= set(Request.OPEN)
    assert set(Offboarding.CANCELLABLE) <= set(Offboarding.OPEN)
