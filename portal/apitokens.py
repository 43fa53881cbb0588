"""API tokens of portal logins: revoking them all (offboarding). Minimal here: the token kept by DRF's
``rest_framework.authtoken`` (one per user). Every revocation is audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from portal import audit

AUDIT_ACTIONS = {"apitoken.revoked_all": "API tokens revoked"}


def revoke_all(user: Any, *, actor: Any, reason: str) -> int:
    """Revoke every API token of ``user``; the number revoked. Audited (also when there was none to revoke)."""
    from rest_framework.authtoken.models import Token

    with transaction.atomic():
        revoked, _ = Token.objects.filter(user=user).delete()
        audit.record(
            "apitoken.revoked_all",
            user,
            actor=actor,
            object_repr=user.get_username(),
            after={"revoked": revoked, "reason": reason},
        )
    return revoked
