"""Writes of the domains app: AWS accounts. Each writes its audit event in the same transaction.

The services contract (see :mod:`onboarding.services`): ``check_can_manage_accounts(actor)`` is the rule and raises
a ``ValidationError``; every ``do_*`` here calls it first, then validates, asks STS and saves with its audit event.
Platform admins manage accounts; a system actor (a ``str``: the demo, a command) may too.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from domains.models import AwsAccount
from portal import audit
from portal.aws import describe_error, gateway
from portal.scoping import grants_for, is_system_actor

AUDIT_ACTIONS = {
    "account.created": "AWS account added",
    "account.updated": "AWS account changed",
    "account.verified": "AWS account access checked",
}
ACCOUNT_FIELDS = (
    "account_id",
    "name",
    "regions",
    "role_arn",
    "external_id",
    "is_payer",
    "enabled",
    "portal_writes_iam",
)


class AccountAccessError(Exception):
    """The portal's credentials cannot reach the account as configured; the message says what AWS answered."""


def account_snapshot(account: AwsAccount) -> dict[str, Any]:
    return {name: getattr(account, name) for name in ACCOUNT_FIELDS}


def verify_access(account: AwsAccount) -> str:
    """Ask STS who the portal is in ``account`` (assuming its role if set); the caller ARN, or AccountAccessError."""
    try:
        identity = gateway().caller_identity(account.access)
    except (ClientError, BotoCoreError) as exc:
        what = f"assume {account.role_arn}" if account.role_arn else "reach AWS with the default credentials"
        raise AccountAccessError(f"The portal could not {what}: {describe_error(exc)}") from exc
    if identity["Account"] != account.account_id:
        hint = "" if account.role_arn else " Give the ARN of a role in that account for the portal to assume."
        raise AccountAccessError(
            f"The credentials reach account {identity['Account']}, not {account.account_id}.{hint}"
        )
    return identity["Arn"]


def check_can_manage_accounts(actor: Any) -> None:
    if not is_system_actor(actor) and not grants_for(actor).is_admin:
        raise ValidationError("Only a platform admin may add, change or check AWS accounts.")


def _validate(account: AwsAccount) -> None:
    account.full_clean(exclude=["last_verified_at", "verified_identity"])


def do_add_account(*, actor: Any, **fields: Any) -> AwsAccount:
    """Validate, check access with STS, then save: nothing is stored when either check fails."""
    check_can_manage_accounts(actor)
    account = AwsAccount(**{name: value for name, value in fields.items() if name in ACCOUNT_FIELDS})
    _validate(account)
    account.verified_identity = verify_access(account)
    account.last_verified_at = timezone.now()
    with transaction.atomic():
        account.save()
        audit.record("account.created", account, actor=actor, after=account_snapshot(account))
    return account


def do_update_account(account: AwsAccount, *, actor: Any, **changes: Any) -> AwsAccount:
    """Change an account; access is checked again when the id, role or external id changes."""
    check_can_manage_accounts(actor)
    before = account_snapshot(account)
    for name, value in changes.items():
        if name not in ACCOUNT_FIELDS:
            raise ValidationError(f"{name} cannot be changed here.")
        setattr(account, name, value)
    _validate(account)
    if any(before[name] != getattr(account, name) for name in ("account_id", "role_arn", "external_id")):
        account.verified_identity = verify_access(account)
        account.last_verified_at = timezone.now()
    after = account_snapshot(account)
    if after == before:
        return account
    with transaction.atomic():
        account.save()
        audit.record("account.updated", account, actor=actor, before=before, after=after)
    return account


def do_verify_account(account: AwsAccount, *, actor: Any) -> AwsAccount:
    check_can_manage_accounts(actor)
    identity = verify_access(account)
    with transaction.atomic():
        AwsAccount.objects.filter(pk=account.pk).update(verified_identity=identity, last_verified_at=timezone.now())
        audit.record("account.verified", account, actor=actor, after={"identity": identity})
    account.refresh_from_db()
    return account
