"""The demo organisation's IAM Identity Center and Studio work, read the way a script reads AWS: in process and
over HTTP alike."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from awssandbox import organisation
from awssandbox.identity import IDENTITY_CENTER_REGION, user_name_of
from awssandbox.studio import studio_state
from portal.sandboxing import demo_inputs
from tests.awssandbox.aws_clients import MODES, make_clients
from tests.awssandbox.contract import call_checked

PAYER = organisation.PAYER_ACCOUNT_ID


@pytest.fixture(params=MODES)
def client(request: pytest.FixtureRequest) -> Any:
    clients = make_clients(request)
    organisation.seed(demo_inputs(), date(2026, 11, 24), with_costs=False)
    return clients


def store_id(client: Any) -> str:
    sso = client("sso-admin", IDENTITY_CENTER_REGION, PAYER)
    instances = call_checked(sso, "list_instances")["Instances"]
    assert len(instances) == 1 and instances[0]["OwnerAccountId"] == PAYER
    return instances[0]["IdentityStoreId"]


def sso_profiles() -> list[tuple[str, str, str]]:
    """(domain name, profile name, SingleSignOnUserValue) of every profile of the SSO domains."""
    found = []
    for plan in organisation.DOMAINS:
        if plan.auth_mode != "SSO":
            continue
        state = studio_state(plan.account_id, plan.region)
        domain_id = next(d.domain_id for d in state.domains.values() if d.name == plan.name)
        for profile in (p for p in state.profiles.values() if p.domain_id == domain_id):
            assert profile.sso_value, profile.name
            found.append((plan.name, profile.name, profile.sso_value))
    return found


def test_a_script_finds_the_identity_store_and_its_people(client: Any) -> None:
    identity_store_id = store_id(client)
    ids = client("identitystore", IDENTITY_CENTER_REGION, PAYER)
    # Not call_checked: moto's users lack UserArn and Revision, which AWS's newer model requires.
    users = ids.list_users(IdentityStoreId=identity_store_id)["Users"]
    by_name = {u["UserName"]: u for u in users}
    arjun = by_name["arjun.mehta"]
    assert arjun["DisplayName"] == "Arjun Mehta"
    assert arjun["Name"]["GivenName"] == "Arjun" and arjun["Name"]["FamilyName"] == "Mehta"
    assert arjun["Emails"] == [{"Value": "arjun.mehta@example.com", "Type": "work", "Primary": True}]
    assert "NickName" not in arjun and "Addresses" not in arjun  # absent, not null


def test_every_sso_profile_resolves_to_a_user_except_the_leaver(client: Any) -> None:
    identity_store_id = store_id(client)
    ids = client("identitystore", IDENTITY_CENTER_REGION, PAYER)
    resolved, missing = [], []
    for domain, profile, sso_value in sso_profiles():
        try:
            ids.get_user_id(
                IdentityStoreId=identity_store_id,
                AlternateIdentifier={"UniqueAttribute": {"AttributePath": "userName", "AttributeValue": sso_value}},
            )
            resolved.append((domain, profile))
        except ids.exceptions.ResourceNotFoundException:
            missing.append((domain, profile))
    assert missing == [("risk-analytics", leaver) for leaver in organisation.IDENTITY_LEAVERS]
    assert len(resolved) >= 13


def test_one_person_is_bound_to_profiles_in_two_domains(client: Any) -> None:
    values = [sso_value for _domain, _profile, sso_value in sso_profiles()]
    twice = {value for value in values if values.count(value) > 1}
    assert twice == {user_name_of(p) for plans in organisation.OTHER_DOMAIN_PROFILES.values() for p in plans}


def test_each_team_is_a_group_with_its_members(client: Any) -> None:
    identity_store_id = store_id(client)
    ids = client("identitystore", IDENTITY_CENTER_REGION, PAYER)
    groups = {g["DisplayName"]: g["GroupId"] for g in ids.list_groups(IdentityStoreId=identity_store_id)["Groups"]}
    assert set(groups) == {"sagemaker-risk-analytics", "sagemaker-payments-fraud"}
    users = {u["UserId"]: u["UserName"] for u in ids.list_users(IdentityStoreId=identity_store_id)["Users"]}
    members = {
        name: {
            users[m["MemberId"]["UserId"]]
            for m in ids.list_group_memberships(IdentityStoreId=identity_store_id, GroupId=group_id)["GroupMemberships"]
        }
        for name, group_id in groups.items()
    }
    assert "arjun.mehta" in members["sagemaker-risk-analytics"] and "arjun.mehta" in members["sagemaker-payments-fraud"]
    assert (
        "chloe.dubois" in members["sagemaker-payments-fraud"]
        and "chloe.dubois" not in members["sagemaker-risk-analytics"]
    )
    assert all("olivia.brown" not in people for people in members.values())


def test_studio_work_carries_created_by_and_work_made_outside_studio_does_not(client: Any) -> None:
    legacy = next(p for p in organisation.DOMAINS if p.key == "legacy")
    research = next(p for p in organisation.DOMAINS if p.key == "research")
    for plan, from_studio in ((research, True), (legacy, False)):
        sm = client("sagemaker", plan.region, plan.account_id)
        domain_id = next(
            d.domain_id for d in studio_state(plan.account_id, plan.region).domains.values() if d.name == plan.name
        )
        for resource in (
            "Pipeline",
            "ExperimentTrial",
            "ModelPackage",
        ):
            with_creator = call_checked(
                sm,
                "search",
                Resource=resource,
                SearchExpression={
                    "Filters": [{"Name": "CreatedBy.DomainId", "Operator": "Equals", "Value": domain_id}]
                },
            )["Results"]
            assert len(with_creator) == (1 if from_studio else 0), (plan.key, resource)
        untagged = sm.search(
            Resource="Pipeline",
            SearchExpression={"Filters": [{"Name": "Tags.sagemaker:domain-arn", "Operator": "NotExists"}]},
        )["Results"]
        assert [r["Pipeline"]["PipelineName"] for r in untagged] == ([] if from_studio else [f"{plan.name}-retrain"])
    # Studio does not tag model packages: created from Studio, attributable only by CreatedBy.
    sm = client("sagemaker", research.region, research.account_id)
    package = sm.search(Resource="ModelPackage")["Results"][0]["ModelPackage"]
    assert package["Tags"] == [] and package["CreatedBy"]["DomainId"]
