"""IAM Identity Center in the sandbox: the identity store behind the demo's SSO domains, seeded through moto.

An SSO domain's user profile names its person by ``SingleSignOnUserIdentifier`` ``UserName`` and
``SingleSignOnUserValue`` (``first.last``); this module creates those users (names, display names, work emails),
one group per team (SSO domain) with its members, a leaver (a profile whose Identity Center user was deleted) and
a person bound to profiles in two domains. Scripts find the store's id the way they would on AWS:
``sso-admin ListInstances`` in the Identity Center region answers ``IdentityStoreId``.

moto's identitystore answers lack ``UserArn`` and ``Revision`` (newer members of AWS's model); the sandbox does not
invent them. It does leave out the attributes a user does not have, as AWS does, instead of moto's nulls.
"""

from __future__ import annotations

import json
from typing import Any

from moto.identitystore.models import identitystore_backends
from moto.identitystore.responses import IdentityStoreResponse
from moto.ssoadmin.models import ssoadmin_backends

# ASSUMED: the organisation's Identity Center instance lives in the management (payer) account and in us-east-1.
# AWS allows one instance per organisation, in one Region of the management account
# (singlesignon/latest/userguide/identity-center-prerequisites.html and region-data.html); the choice is ours.
IDENTITY_CENTER_REGION = "us-east-1"
IDENTITY_STORE_ID = "d-9067c1a2b3"  # the shape AWS gives (d- and ten hex digits); fixed so demo runs repeat
INSTANCE_NAME = "demo-organisation"


def user_name_of(person: str) -> str:
    """The Identity Center UserName of a person ``first-last``: what the SSO profiles carry as their SSO value."""
    return person.replace("-", ".")


def _name_parts(person: str) -> tuple[str, str]:
    first, _, last = person.partition("-")
    special = {"odonnell": "O'Donnell"}
    return first.capitalize(), special.get(last, last.capitalize())


def seed_identity_center(
    account: str, teams: dict[str, tuple[str, ...]], leavers: tuple[str, ...], email_of: Any
) -> dict[str, int]:
    """Users, groups and memberships for ``teams`` (group display name -> people) in the Identity Center instance of
    ``account`` (the organisation's management account); ``leavers`` are created and then deleted (their profiles
    stay behind). Returns counts. The store's id is :data:`IDENTITY_STORE_ID`."""
    instance = ssoadmin_backends[account][IDENTITY_CENTER_REGION].instances[0]
    instance.identity_store_id = IDENTITY_STORE_ID
    instance.name = INSTANCE_NAME
    store = identitystore_backends[account][IDENTITY_CENTER_REGION]
    users: dict[str, str] = {}
    counts = {"identity_users": 0, "identity_groups": 0, "identity_memberships": 0, "identity_leavers": 0}

    def user_id(person: str) -> str:
        if person not in users:
            given, family = _name_parts(person)
            users[person], _ = store.create_user(
                IDENTITY_STORE_ID,
                user_name_of(person),
                {"GivenName": given, "FamilyName": family, "Formatted": f"{given} {family}"},
                f"{given} {family}",
                None,
                None,
                [{"Value": email_of(person), "Type": "work", "Primary": True}],
                None,
                None,
                None,
                None,
                None,
                None,
                None,
            )
            counts["identity_users"] += 1
        return users[person]

    for group_name, people in teams.items():
        group_id, _ = store.create_group(IDENTITY_STORE_ID, group_name, f"SageMaker Studio users of {group_name}")
        counts["identity_groups"] += 1
        for person in people:
            if person in leavers:
                continue
            store.create_group_membership(IDENTITY_STORE_ID, group_id, {"UserId": user_id(person)})
            counts["identity_memberships"] += 1
    for person in leavers:
        store.delete_user(IDENTITY_STORE_ID, user_id(person))
        counts["identity_users"] -= 1
        counts["identity_leavers"] += 1
    return counts


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _omitting_nulls(original: Any) -> Any:
    """AWS leaves out the attributes a user or group does not have; moto answers them as null."""

    def method(self: Any) -> Any:
        answer = original(self)
        if isinstance(answer, str):
            return json.dumps(_without_nulls(json.loads(answer)))
        return answer

    method.__name__ = original.__name__
    method.__sandbox_original__ = original  # type: ignore[attr-defined]
    return method


def install() -> None:
    for name in ("describe_user", "list_users", "describe_group", "list_groups", "list_group_memberships"):
        original = getattr(IdentityStoreResponse, name)
        setattr(IdentityStoreResponse, name, _omitting_nulls(getattr(original, "__sandbox_original__", original)))
