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
    assert not PersonMatch.objects.exists()  # the demo's people are all unambiguous


def _identity_store() -> tuple[Any, str]:
    import boto3
    from django.conf import settings

    from portal.aws import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY

    kwargs = {
        "region_name": "us-east-1",
        "endpoint_url": settings.AWS_ENDPOINT_URL,
        "aws_access_key_id": SANDBOX_ACCESS_KEY,
        "aws_secret_access_key": SANDBOX_SECRET_KEY,
    }
    store_id = boto3.client("sso-admin", **kwargs).list_instances()["Instances"][0]["IdentityStoreId"]
    return boto3.client("identitystore", **kwargs), store_id


def _add_user(client: Any, store_id: str, user_name: str, email: str) -> str:
    return client.create_user(
        IdentityStoreId=store_id,
        UserName=user_name,
        DisplayName=user_name,
        Name={"GivenName": "A", "FamilyName": "B"},
        Emails=[{"Value": email, "Primary": True}],
    )["UserId"]


@pytest.fixture
def payer(aws_sandbox: None) -> Any:
    from tests.factories import AwsAccountFactory

    return AwsAccountFactory(account_id="123456789012", regions=["us-east-1"], is_payer=True, role_arn="")


def test_an_ambiguous_match_is_listed_and_linked_only_once_an_admin_resolves_it(payer: Any) -> None:
    from domains import people
    from tests.factories import UserFactory

    client, store_id = _identity_store()
    ana = Person.objects.create(display_name="Ana by email", email="ana@example.com")
    other = Person.objects.create(display_name="Another Ana", user_name="ana.lopez")
    user_id = _add_user(client, store_id, "ANA.LOPEZ", "Ana@Example.com")
    run, _ = people.start_directory_sync(inline=True)
    assert run.status == "succeeded", run.errors
    identity = IdentityCenterUser.objects.get(user_id=user_id)
    assert identity.person is None  # never merged silently
    match = PersonMatch.objects.get(status="open")
    assert set(match.candidates.all()) == {ana, other}
    assert "different people" in match.reason
    admin = UserFactory(is_superuser=True)
    people.do_resolve_match(match, actor=admin, person=other)
    identity.refresh_from_db()
    assert identity.person == other
    people.start_directory_sync(inline=True)  # a later sync keeps the admin's choice, opens nothing new
    assert not PersonMatch.objects.filter(status="open").exists()


def test_matching_goes_by_email_then_user_name_case_insensitively(payer: Any) -> None:
    from domains import people

    client, store_id = _identity_store()
    by_email = Person.objects.create(display_name="Eve", email="EVE@example.com")
    by_name = Person.objects.create(display_name="Bob", user_name="bob.stone")
    _add_user(client, store_id, "eve.adams", "eve@EXAMPLE.com")
    _add_user(client, store_id, "Bob.Stone", "bob@elsewhere.example")
    _add_user(client, store_id, "new.person", "new@example.com")
    people.start_directory_sync(inline=True)
    assert IdentityCenterUser.objects.get(user_name="eve.adams").person == by_email
    assert IdentityCenterUser.objects.get(user_name="Bob.Stone").person == by_name
    created = IdentityCenterUser.objects.get(user_name="new.person").person
    assert created is not None and created.email == "new@example.com"


def test_someone_gone_from_identity_center_has_left_and_a_failed_listing_marks_nobody(payer: Any) -> None:
    from domains import people
    from tests.factories import UserFactory

    client, store_id = _identity_store()
    user_id = _add_user(client, store_id, "gone.soon", "gone@example.com")
    _add_user(client, store_id, "stays", "stays@example.com")
    people.start_directory_sync(inline=True)
    person = IdentityCenterUser.objects.get(user_id=user_id).person
    assert person.status == Person.Status.ACTIVE
    client.delete_user(IdentityStoreId=store_id, UserId=user_id)
    people.start_directory_sync(inline=True)
    person.refresh_from_db()
    assert person.status == Person.Status.LEFT and person.left_at is not None
    # A login matching the person by email links to them.
    UserFactory(username="gone", email="GONE@example.com")
    people.start_directory_sync(inline=True)
    person.refresh_from_db()
    assert person.portal_user.username == "gone"


def test_a_failed_identity_center_listing_marks_nobody_removed(payer: Any, fast_aws_backoff: None) -> None:
    from awssandbox import faults
    from domains import people

    client, store_id = _identity_store()
    _add_user(client, store_id, "kept", "kept@example.com")
    people.start_directory_sync(inline=True)
    faults.registry.add(service="identitystore", kind="server_error", operation="ListUsers", rate=1.0)
    try:
        run, _ = people.start_directory_sync(inline=True)
    finally:
        faults.registry.clear()
    assert run.status != "succeeded" and run.errors
    kept = IdentityCenterUser.objects.get(user_name="kept")
    assert kept.removed_at is None and kept.person.status == Person.Status.ACTIVE


def test_the_people_pages_show_each_person_with_profiles_spend_and_findings(demo: Any, client: Any) -> None:
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(username="admin")
    client.force_login(admin)
    page = client.get("/people/?q=arjun")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Arjun Mehta" in body and "payments-fraud" in body and "risk-analytics" in body
    assert "Spend this month" in body and "Open findings" in body
    left = client.get("/people/?status=left").content.decode()
    assert "Olivia Brown" in left and "Arjun Mehta" not in left
    arjun = Person.objects.get(email="arjun.mehta@example.com")
    detail = client.get(f"/people/{arjun.pk}/").content.decode()
    assert "Profiles in 2 domains" in detail and "sagemaker-risk-analytics" in detail
    profiles = client.get("/profiles/?q=sofia").content.decode()
    assert "Sofia Rossi" in profiles


def test_the_demo_scientist_gets_her_own_identity_on_the_sso_domain(demo: Any) -> None:
    from django.contrib.auth import get_user_model

    from domains.models import Domain
    from onboarding import services

    maria = get_user_model().objects.get(username="scientist")
    fraud = Domain.objects.get(name="payments-fraud")
    assert services.sso_user_identity(maria, fraud) == "maria.garcia"
    with pytest.raises(Exception, match="not arjun.mehta"):
        services.sso_user_identity(maria, fraud, typed="arjun.mehta")
    assert services.derive_profile_name(maria, fraud, "maria.garcia") == "maria-garcia"
