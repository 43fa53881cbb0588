"""Emails about requests: approvers on a new request, the requester on each decision and failure, the lead before a
space expires, with a link back to the portal. Recorded in the caller's transaction and sent after it commits
(:func:`portal.mail.send_mail_later`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from portal.mail import send_mail_later
from portal.models import RoleAssignment
from portal.roles import role_emails

Role = RoleAssignment.Role


def link(obj: Any) -> str:
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{obj.get_absolute_url()}"


def approver_emails(domain_arns: Iterable[str]) -> list[str]:
    """Approvers of these domains (or of every domain); platform admins when a domain has no approver."""
    emails = role_emails([Role.DOMAIN_APPROVER], list(domain_arns))
    if emails:
        return emails
    admins = RoleAssignment.objects.filter(role=Role.PLATFORM_ADMIN).values("user")
    users = get_user_model().objects.filter(Q(pk__in=admins) | Q(is_superuser=True), is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def people_emails(*people: Any) -> list[str]:
    return sorted({p.email for p in people if p is not None and getattr(p, "email", "") and p.is_active})


def send(subject: str, body: str, recipients: list[str]) -> None:
    """One email, recorded with the change and sent by a worker after the commit (retried if the server is down)."""
    send_mail_later(subject, body, recipients)
