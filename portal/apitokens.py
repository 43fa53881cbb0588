"""API tokens a security team accepts: named, expiring, hashed at rest, with a last-used time and revocation.

Why our own small model rather than DRF's ``authtoken`` or django-rest-knox: DRF keeps the plain key in the
database and has one token per user, without expiry; knox hashes and expires, but its tokens have no name, no
last-used time and no record of who revoked them and why, which the "My tokens" page and the audit need. What is
left is small: a random key (256 bits from :mod:`secrets`), its SHA-256 digest as the lookup column (a slow
password hash buys nothing for a key that cannot be guessed), and one authentication class.

Every write is a service here that records an audit event in the same transaction. :func:`revoke_all` is what a
person's offboarding calls.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from portal import audit
from portal.models import ApiToken
from portal.scoping import grants_for, is_system_actor

AUDIT_ACTIONS = {
    "apitoken.created": "API token created",
    "apitoken.revoked": "API token revoked",
}

TOKEN_STATES = [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]
KEY_PREFIX = "smgp_"  # lets secret scanners and people recognise a portal key
PREFIX_LENGTH = 12
# last_used_at is written at most once per this many seconds per token: a script calling the API in a loop does not
# turn every read into a write.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _days(value: Any) -> int:
    maximum = settings.API_TOKEN_MAX_DAYS
    if value in (None, ""):
        return min(settings.API_TOKEN_DEFAULT_DAYS, maximum)
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"expires_in_days": f"Give the number of days the token lasts (1 to {maximum})."})
    if not 1 <= days <= maximum:
        raise ValidationError({"expires_in_days": f"A token lasts from 1 to {maximum} days, not {days}."})
    return days


def _token_state(token: ApiToken) -> dict[str, Any]:
    return {
        "user": token.user.get_username(),
        "name": token.name,
        "prefix": token.prefix,
        "expires_at": token.expires_at.isoformat(),
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        "revoke_reason": token.revoke_reason,
    }


def do_create_token(user: Any, *, name: str, expires_in_days: Any = None, actor: Any) -> tuple[ApiToken, str]:
    """A new token for ``user``, answered with its key (shown once: only the digest is kept). People create their
    own tokens; a system actor (the demo, the password login of the API) may create one for anybody."""
    if not is_system_actor(actor) and actor != user:
        raise ValidationError("People create their own API tokens only.")
    if not user.is_active:
        raise ValidationError("An inactive login cannot have API tokens.")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name that says what uses it (e.g. 'nightly report')."})
    if len(name) > 100:
        raise ValidationError({"name": "Keep the name to 100 characters."})
    days = _days(expires_in_days)
    key = new_key()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=key[:PREFIX_LENGTH],
            key_hash=hash_key(key),
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit.record("apitoken.created", token, actor=actor, after=_token_state(token))
    return token, key


def check_can_revoke(token: ApiToken, actor: Any) -> None:
    if is_system_actor(actor) or actor == token.user or grants_for(actor).is_admin:
        return
    raise ValidationError("Only the token's owner or a platform admin may revoke it.")


def do_revoke_token(token: ApiToken, *, actor: Any, reason: str = "") -> ApiToken:
    """Revoke one token; it stops opening the API at once. Revoking a revoked token is refused with a message."""
    check_can_revoke(token, actor)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
        if token.revoked_at is not None:
            raise ValidationError(f"This token was already revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC.")
        before = _token_state(token)
        token.revoked_at = timezone.now()
        token.revoked_by = actor if not is_system_actor(actor) else None
        token.revoke_reason = (reason or "").strip()[:300]
        token.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit.record("apitoken.revoked", token, actor=actor, before=before, after=_token_state(token))
    return token


def revoke_all(user: Any, *, actor: Any, reason: str) -> int:
    """Revoke every token of ``user`` that is not revoked yet (expired ones too, so none can be revived), one audit
    event each; answers how many were revoked. Offboarding a person calls this."""
    revoked = 0
    with transaction.atomic():
        for token in ApiToken.objects.filter(user=user, revoked_at__isnull=True).select_related("user"):
            do_revoke_token(token, actor=actor, reason=reason)
            revoked += 1
    return revoked


def authenticate_key(key: str) -> ApiToken:
    """The usable token for ``key`` (its user loaded), or AuthenticationFailed saying why not."""
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
    if token is None:
        raise exceptions.AuthenticationFailed("Invalid token.")
    if token.revoked_at is not None:
        raise exceptions.AuthenticationFailed("This token was revoked.")
    now = timezone.now()
    if token.expires_at <= now:
        raise exceptions.AuthenticationFailed(f"This token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC.")
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed("This token's login is deactivated.")
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>`` (or ``Bearer <key>``) with a portal API token."""

    keywords = ("token", "bearer")

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the token as 'Authorization: Token <key>', with no spaces.")
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("A token has no such characters.")
        token = authenticate_key(key)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return "Token"


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the token header."""

    target_class = "portal.apitokens.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A personal API token (My tokens, or POST /api/auth/token/): `Token <key>`.",
        }
