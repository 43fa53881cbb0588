"""The people directory: Identity Center sync, matching (ambiguity included), leavers, and the demo's people."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from awssandbox import organisation
from domains.models import IdentityCenterUser, Person, PersonMatch
from portal.demo import ensure_demo_users
from portal.sandboxing import demo_inputs
from profiles.models import UserProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(aws_sandbox: None) -> None:
    from domains import demo as domains_demo

    organisation.seed(demo_inputs(), date.today(), with_costs=False)
    ensure_demo_users()
    domains_demo.setup_demo(lambda message: None)


def test_every_demo_person_appears_once_with_all_their_profiles(demo: Any) -> None:
    seeded = {p for plan in organisation.DOMAINS for p in plan.people}
    emails = {organisation.email_of(p) for p in seeded}
    people = Person.objects.filter(email__in=emails)
    assert sorted(p.email for p in people) == sorted(emails)  # once each
    arjun = Person.objects.get(email="arjun.mehta@example.com")
    assert sorted(arjun.user_profiles.values_list("domain__name", flat=True)) == ["payments-fraud", "risk-analytics"]
    assert set(arjun.user_profiles.values_list("person_source", flat=True)) == {"sso"}
    john = Person.objects.get(email="john.smith@example.com")
    assert sorted(john.user_profiles.values_list("name", flat=True)) == ["john-smith", "jsmith"]
    assert sorted(IdentityCenterUser.objects.get(user_name="arjun.mehta").groups) == [
        "sagemaker-payments-fraud",
        "sagemaker-risk-analytics",
    ]
    # Every profile with an owner tag or an SSO binding has its person; the shared ones have none.
    unowned = UserProfile.objects.filter(person__isnull=True).values_list("name", flat=True)
    assert sorted(unowned) == ["ds-team", "team-shared"]
    maria = Person.objects.get(email="maria.garcia@example.com")
    assert maria.portal_user.username == "scientist"
    assert UserProfile.objects.get(name="maria-garcia").owner.username == "scientist"


def test_the_leaver_is_flagged_and_the_others_are_active(demo: Any) -> None:
    olivia = Person.objects.get(email="olivia.brown@example.com")
    assert olivia.status == Person.Status.LEFT
    assert Person.objects.get(email="sofia.rossi@example.com").status == Person.Status.ACTIVE
    assert Person.objects.get(email="maria.garcia@example.com").status == Person.Status.ACTIVE  # IAM domain only
    assert Person.objects.filter(status=Person.Status.LEFT).count() == 1
