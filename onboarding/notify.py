"""Emails about requests: approvers on a new request, the requester on each decision and failure, the lead before a
space expires. Sent after the transaction commits, with a link back to the portal."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q

from portal.models import RoleAssignment
from portal.roles import role_emails

logger = logging.getLogger(__name__)
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
    """One email; a mail server that is down is logged, never turns a request into an error."""
    if not recipients:
        return
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False)
    except Exception:  # the request itself succeeded; the email is best effort
        logger.exception("Could not send %r to %s", subject, recipients)
