"""Writing audit events. Services call :func:`record` inside the transaction that makes the change."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models

from portal.models import AuditEvent
from portal.registry import registry


def actor_label(actor: AbstractBaseUser | AnonymousUser | str | None) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return actor.get_username() or "anonymous"


def record(
    action: str,
    obj: models.Model | None = None,
    *,
    actor: AbstractBaseUser | AnonymousUser | str | None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
    domain_arn: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    request_id: str = "",
) -> AuditEvent:
    if action not in registry.audit_actions:
        raise ValueError(f"Unknown audit action {action!r}: its app registers it with registry.add_audit_actions().")
    user = actor if isinstance(actor, AbstractBaseUser) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=actor_label(actor),
        action=action,
        object_type=object_type or (obj._meta.label if obj is not None else ""),
        object_id=object_id if object_id is not None else (str(obj.pk) if obj is not None else ""),
        object_repr=(object_repr if object_repr is not None else str(obj) if obj is not None else "")[:400],
        domain_arn=domain_arn,
        before=before,
        after=after,
        request_id=request_id,
    )
