"""Proposing (all or nothing, validated against the inventory and botocore's model) and the four-eyes rules."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.core.exceptions import ValidationError

from changesets import services
from changesets.models import Change, ChangeSet
from portal.models import AuditEvent
from tests.changesets.helpers import IDLE, domain_idle_change, idle_change, proposed, tag_change
from tests.onboarding.world import World

pytestmark = pytest.mark.django_db


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


def test_a_valid_proposal_is_stored_with_its_changes_in_order_and_audited(world: World) -> None:
    cs = proposed(world, domain_idle_change(world), idle_change(world), origin="governance:CO-01", finding_ids=[7])
    assert cs.status == "proposed" and cs.proposed_by == world.approver and cs.finding_ids == [7]
    assert list(cs.changes.values_list("position", "operation")) == [(0, "UpdateDomain"), (1, "UpdateUserProfile")]
    event = AuditEvent.objects.get(action="changeset.proposed")
    assert event.request_id == cs.ref and event.domain_arn == world.research.arn


def test_an_empty_proposal_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        proposed(world)
    assert "at least one change" in str(_errors(exc)["changes"])
    assert not ChangeSet.objects.exists()


def test_a_badly_shaped_request_is_refused_naming_the_change_and_nothing_is_stored(world: World) -> None:
    good = idle_change(world)
    bad = replace(
        domain_idle_change(world),
        request={"DomainId": world.research.domain_id, "DefaultUserSettings": {"ExecutionRole": 42, "Bogus": 1}},
    )
    with pytest.raises(ValidationError) as exc:
        proposed(world, good, bad)
    errors = _errors(exc)
    assert list(errors) == ["changes[1]"]
    text = " ".join(errors["changes[1]"])
    assert "ExecutionRole" in text and "Bogus" in text
    assert not ChangeSet.objects.exists() and not Change.objects.exists()


def test_an_out_of_range_value_is_refused_before_aws(world: World) -> None:
    change = idle_change(world, minutes=5)  # under AWS's minimum of 60
    with pytest.raises(ValidationError) as exc:
        proposed(world, change)
    assert "IdleTimeoutInMinutes" in " ".join(_errors(exc)["changes[0]"])


def test_a_resource_of_another_domain_is_refused(world: World) -> None:
    foreign = replace(tag_change(world), resource_arn=world.other.arn, request={**tag_change(world).request})
    with pytest.raises(ValidationError) as exc:
        proposed(world, foreign)
    assert "no live domain" in " ".join(_errors(exc)["changes[0]"])


def test_a_request_that_names_another_resource_than_the_change_is_refused(world: World) -> None:
    change = idle_change(world)
    twisted = replace(change, request={**change.request, "UserProfileName": "someone-else"})
    with pytest.raises(ValidationError) as exc:
        proposed(world, twisted)
    assert "UserProfileName must be 'leila'" in " ".join(_errors(exc)["changes[0]"])


def test_a_change_without_after_values_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        proposed(world, replace(idle_change(world), after={}))
    assert "after" in " ".join(_errors(exc)["changes[0]"])


def test_a_network_change_is_marked_as_needing_no_running_app(world: World) -> None:
    from tests.changesets.helpers import network_change

    cs = proposed(world, network_change(world))
    assert cs.changes.get().needs_no_running_apps is True


def test_only_approvers_of_the_domain_propose(world: World) -> None:
    for person in (world.lead, world.scientist, world.finance, world.outsider):
        with pytest.raises(ValidationError, match="Only a platform admin or an approver"):
            proposed(world, idle_change(world), by=person)


@pytest.mark.parametrize(
    ("proposer", "decider", "allowed"),
    [
        ("approver", "approver2", True),
        ("approver", "admin", True),
        ("admin", "approver", True),
        ("approver", "approver", False),  # nobody approves their own
        ("admin", "admin", False),  # not even a platform admin
        ("approver", "lead", False),
        ("approver", "finance", False),
        ("approver", "outsider", False),
    ],
)
def test_four_eyes(world: World, proposer: str, decider: str, allowed: bool) -> None:
    cs = proposed(world, idle_change(world), by=getattr(world, proposer))
    actor = getattr(world, decider)
    if allowed:
        services.check_can_approve(actor, cs)
        services.check_can_reject(actor, cs)
    else:
        with pytest.raises(ValidationError):
            services.check_can_approve(actor, cs)
        with pytest.raises(ValidationError):
            services.do_reject(cs, actor=actor, reason="no thanks")


def test_reject_needs_a_reason_and_is_final(world: World) -> None:
    cs = proposed(world, idle_change(world))
    with pytest.raises(ValidationError, match="Say why"):
        services.do_reject(cs, actor=world.approver2, reason=" ")
    cs = services.do_reject(cs, actor=world.approver2, reason="Too short a timeout")
    assert cs.status == "rejected" and cs.reason == "Too short a timeout"
    with pytest.raises(ValidationError, match="only a proposed change set"):
        services.do_approve(cs, actor=world.admin)
    assert AuditEvent.objects.filter(action="changeset.rejected", request_id=cs.ref).exists()


def test_cancel_by_the_proposer_or_an_admin_only_while_proposed(world: World) -> None:
    cs = proposed(world, idle_change(world))
    with pytest.raises(ValidationError, match="Only the person who proposed it"):
        services.do_cancel(cs, actor=world.approver2)
    services.do_cancel(cs, actor=world.admin)
    cs.refresh_from_db()
    assert cs.status == "cancelled"
    with pytest.raises(ValidationError, match="cancelled"):
        services.do_cancel(cs, actor=world.approver)


def test_retry_only_after_failure(world: World) -> None:
    cs = proposed(world, idle_change(world))
    with pytest.raises(ValidationError, match="only a failed change set"):
        services.do_retry(cs, actor=world.approver2)


def test_the_total_saving_is_the_sum_of_the_changes(world: World) -> None:
    from decimal import Decimal

    cs = proposed(
        world,
        replace(idle_change(world), monthly_saving=Decimal("12.50")),
        replace(domain_idle_change(world), monthly_saving=Decimal("7.25")),
    )
    assert cs.monthly_saving == Decimal("19.75")
    assert IDLE in next(iter(cs.changes.first().after))
