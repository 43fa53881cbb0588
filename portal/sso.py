"""Logging in with the company's identity provider: OpenID Connect, authorization code with PKCE.

Built on mozilla-django-oidc (see README "Log in with SSO" for why it and not social-auth-app-django): it keeps the
state, nonce and PKCE verifier in the session and checks each of them, verifies the ID token's signature against the
provider's JWKS, and logs the person in with Django's own ``login``. This module adds:

- discovery: the endpoints come from ``<OIDC_ISSUER>/.well-known/openid-configuration`` (read once per process), so
  a deployment sets the issuer, the client id and the secret only;
- matching a login to a portal login by e-mail, then by user name among the logins it made itself (a local account
  with a password is never matched by name), case-insensitively; a new person gets a login with no password (they
  can only come back through the identity provider);
- portal roles from the ``groups`` claim through :class:`portal.models.GroupRoleMapping`, recomputed at each login:
  the roles a mapping gave (``source="sso"``) and that no group gives any more are taken away; roles an admin gave by
  hand are left alone. Every change is a role service call, so it is audited.

Inactive logins are refused (the callback view checks ``is_active``). Local accounts keep working for a break-glass
admin: the password form stays on the login page.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from portal import audit
from portal.models import GroupRoleMapping, RoleAssignment
from portal.roles import GLOBAL_ROLES, check_can_manage_roles, do_assign_role, do_revoke_role

log = logging.getLogger(__name__)

AUDIT_ACTIONS = {
    "sso.mapping_created": "SSO group mapping added",
    "sso.mapping_changed": "SSO group mapping changed",
    "sso.mapping_deleted": "SSO group mapping removed",
    "sso.login": "Logged in through the identity provider",
}
SSO_ACTOR = "identity provider login"
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_discovered: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


def is_configured() -> bool:
    return bool(getattr(settings, "OIDC_ISSUER", "") and getattr(settings, "OIDC_RP_CLIENT_ID", ""))


def discovery(issuer: str) -> dict[str, Any]:
    """The provider's discovery document, fetched once per process and issuer."""
    with _lock:
        if issuer not in _discovered:
            url = issuer.rstrip("/") + "/.well-known/openid-configuration"
            try:
                answer = requests.get(url, timeout=settings.OIDC_TIMEOUT)
                answer.raise_for_status()
                document = answer.json()
            except (requests.RequestException, ValueError) as exc:
                raise ImproperlyConfigured(f"The identity provider's discovery document {url} cannot be read: {exc}")
            if document.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
                raise ImproperlyConfigured(f"{url} names issuer {document.get('issuer')!r}, not {issuer!r}.")
            _discovered[issuer] = document
        return _discovered[issuer]


def oidc_setting(attr: str, *args: Any) -> Any:
    """mozilla-django-oidc's settings, with the provider's endpoints from discovery unless set explicitly."""
    if attr in ENDPOINTS and not getattr(settings, attr, None):
        if not is_configured():
            raise Http404("Logging in with an identity provider is not configured.")
        return discovery(settings.OIDC_ISSUER)[ENDPOINTS[attr]]
    return import_from_settings(attr, *args)


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """Finds or creates the portal login of the person the identity provider vouches for, then sets their roles."""

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return oidc_setting(attr, *args)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The library checks the signature, the expiry and the nonce; the issuer and the audience too, here."""
        try:
            payload = super().verify_token(token, **kwargs)
        except jwt.InvalidTokenError as exc:  # expired, not yet valid, malformed
            raise SuspiciousOperation(f"The ID token is not valid: {exc}.")
        if str(payload.get("iss", "")).rstrip("/") != settings.OIDC_ISSUER.rstrip("/"):
            raise SuspiciousOperation(f"The ID token's issuer {payload.get('iss')!r} is not {settings.OIDC_ISSUER!r}.")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was issued for another client.")
        return payload

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        users = get_user_model().objects
        email = (claims.get("email") or "").strip()
        username = (claims.get("preferred_username") or "").strip()
        if email:
            found = users.filter(email__iexact=email)
            if found.exists():
                return found
        if username:
            # By user name only a login the provider made earlier (no password): a local account that happens to
            # share the name (the break-glass admin) is never taken over.
            found = users.filter(username__iexact=username)
            return [user for user in found if not user.has_usable_password()]
        return users.none()

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool((claims.get("email") or claims.get("preferred_username")) and claims.get("sub"))

    def get_username(self, claims: dict[str, Any]) -> str:
        name = (claims.get("preferred_username") or claims.get("email") or "").strip()
        return name[:150]

    def create_user(self, claims: dict[str, Any]) -> Any:
        if get_user_model().objects.filter(username__iexact=self.get_username(claims)).exists():
            raise SuspiciousOperation(f"The user name {self.get_username(claims)!r} belongs to a local account.")
        with transaction.atomic():
            user = get_user_model().objects.create_user(self.get_username(claims), email=claims.get("email", ""))
            user.set_unusable_password()
            self._copy_names(user, claims)
            user.save()
            self._after_login(user, claims, created=True)
        return user

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        if not user.is_active:
            return user  # refused by the callback; nothing about the person changes
        with transaction.atomic():
            self._copy_names(user, claims)
            user.save(update_fields=["first_name", "last_name"])
            self._after_login(user, claims, created=False)
        return user

    @staticmethod
    def _copy_names(user: Any, claims: dict[str, Any]) -> None:
        user.first_name = (claims.get("given_name") or user.first_name)[:150]
        user.last_name = (claims.get("family_name") or user.last_name)[:150]

    def _after_login(self, user: Any, claims: dict[str, Any], *, created: bool) -> None:
        groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
        if isinstance(groups, str):
            groups = [groups]
        changes = apply_group_roles(user, [str(g) for g in groups])
        audit.record(
            "sso.login",
            user,
            actor=user,
            object_repr=user.get_username(),
            after={"subject": claims.get("sub"), "groups": sorted(groups), "created": created, **changes},
        )


def mapped_roles(groups: list[str]) -> set[tuple[str, str]]:
    """The (role, domain ARN) pairs these groups give, '' for every domain."""
    pairs: set[tuple[str, str]] = set()
    for mapping in GroupRoleMapping.objects.filter(group__in=groups):
        for arn in mapping.domain_arns or [""]:
            pairs.add((mapping.role, arn))
    return pairs


def apply_group_roles(user: Any, groups: list[str]) -> dict[str, list[str]]:
    """Make the roles that groups give match ``groups``: give the missing ones, take away those a mapping gave that
    no group gives now. Roles given by hand stay. Answers what changed, as ``role@domain`` texts."""
    wanted = mapped_roles(groups)
    held = {(a.role, a.domain_arn): a for a in RoleAssignment.objects.filter(user=user)}
    given, taken = [], []
    for (role, arn), assignment in held.items():
        if assignment.source == "sso" and (role, arn) not in wanted:
            do_revoke_role(assignment, actor=SSO_ACTOR)
            taken.append(f"{role}@{arn or '*'}")
    for role, arn in sorted(wanted - set(held)):
        try:
            do_assign_role(user, role, domain_arn=arn, actor=SSO_ACTOR, source="sso")
        except ValidationError as exc:  # a mapping made invalid since (it cannot be saved so): skip it, say so
            log.warning("Group mapping %s@%s not applied to %s: %s", role, arn, user, exc.messages)
            continue
        given.append(f"{role}@{arn or '*'}")
    return {"roles_given": given, "roles_taken": taken}


class SSOLoginView(OIDCAuthenticationRequestView):
    """``/oidc/authenticate/``: redirects to the provider with state, nonce and a PKCE challenge (S256); when the
    provider cannot be reached, back to the login page, which says so (the password form still works)."""

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return oidc_setting(attr, *args)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.unavailable: Exception | None = None
        try:
            super().__init__(*args, **kwargs)
        except ImproperlyConfigured as exc:  # the discovery document cannot be read
            self.unavailable = exc

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_configured():
            raise Http404("Logging in with an identity provider is not configured.")
        if self.unavailable is not None:
            log.warning("The identity provider cannot be reached: %s", self.unavailable)
            return HttpResponseRedirect(f"{reverse('login')}?sso=unavailable")
        return super().dispatch(request, *args, **kwargs)


class SSOCallbackView(OIDCAuthenticationCallbackView):
    """``/oidc/callback/``: checks state (a state this session did not send is refused), trades the code and the
    PKCE verifier for tokens, checks the nonce, logs the person in; a refusal lands on the login page, saying so."""

    @staticmethod
    def get_settings(attr: str, *args: Any) -> Any:
        return oidc_setting(attr, *args)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_configured():
            raise Http404("Logging in with an identity provider is not configured.")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            return super().get(request)
        except SuspiciousOperation as exc:  # a state this session never sent, a nonce or signature that differ
            log.warning("Refused an identity provider login: %s", exc)
            return self.login_failure()
        except (requests.RequestException, ImproperlyConfigured) as exc:  # the provider is down or answers nonsense
            log.warning("The identity provider could not complete a login: %s", exc)
            return HttpResponseRedirect(f"{reverse('login')}?sso=unavailable")

    def login_failure(self) -> HttpResponse:
        user = getattr(self, "user", None)
        reason = "inactive" if user is not None and not user.is_active else "failed"
        return HttpResponseRedirect(f"{reverse('login')}?sso={reason}")


# --- Group mappings: admin-editable, every change audited ------------------------------------------------------


def _mapping_state(mapping: GroupRoleMapping) -> dict[str, Any]:
    return {"group": mapping.group, "role": mapping.role, "domain_arns": list(mapping.domain_arns)}


def _clean_mapping(group: str, role: str, domain_arns: list[str], *, pk: int | None) -> tuple[str, list[str]]:
    group = (group or "").strip()
    errors: dict[str, str] = {}
    if not group:
        errors["group"] = "Give the group's name exactly as the identity provider sends it in the groups claim."
    elif len(group) > 200:
        errors["group"] = "Keep the group's name to 200 characters."
    if role not in RoleAssignment.Role.values:
        errors["role"] = f"Unknown role {role!r}."
    arns = sorted({arn.strip() for arn in domain_arns or [] if arn and arn.strip()})
    if role == RoleAssignment.Role.PLATFORM_ADMIN and arns:
        errors["domain_arns"] = "A platform admin has every domain; choose no domain."
    elif role in RoleAssignment.Role.values and not arns and role not in GLOBAL_ROLES:
        errors["domain_arns"] = f"A {RoleAssignment.Role(role).label.lower()} needs at least one domain."
    bad = [arn for arn in arns if not arn.startswith("arn:aws:sagemaker:") or ":domain/" not in arn]
    if bad:
        errors["domain_arns"] = f"Not a SageMaker domain ARN: {', '.join(bad)}."
    if not errors and GroupRoleMapping.objects.filter(group=group, role=role).exclude(pk=pk).exists():
        errors["group"] = f"The group {group} already gives this role: change that mapping instead."
    if errors:
        raise ValidationError(errors)
    return group, arns


def do_save_mapping(
    *, actor: Any, group: str, role: str, domain_arns: list[str], mapping: GroupRoleMapping | None = None
) -> GroupRoleMapping:
    """Add a mapping, or change ``mapping``. It applies from each person's next login through the provider."""
    check_can_manage_roles(actor)
    group, arns = _clean_mapping(group, role, domain_arns, pk=mapping.pk if mapping else None)
    with transaction.atomic():
        if mapping is None:
            mapping = GroupRoleMapping.objects.create(group=group, role=role, domain_arns=arns)
            audit.record("sso.mapping_created", mapping, actor=actor, after=_mapping_state(mapping))
        else:
            before = _mapping_state(mapping)
            mapping.group, mapping.role, mapping.domain_arns = group, role, arns
            mapping.save()
            audit.record("sso.mapping_changed", mapping, actor=actor, before=before, after=_mapping_state(mapping))
    return mapping


def do_delete_mapping(mapping: GroupRoleMapping, *, actor: Any) -> None:
    """Remove a mapping: the roles it gave go at each person's next login through the provider."""
    check_can_manage_roles(actor)
    with transaction.atomic():
        audit.record("sso.mapping_deleted", mapping, actor=actor, before=_mapping_state(mapping))
        mapping.delete()


def sso_holders(mapping: GroupRoleMapping) -> int:
    """How many people hold a role this mapping gives, from their last login."""
    arns = mapping.domain_arns or [""]
    return RoleAssignment.objects.filter(Q(domain_arn__in=arns), role=mapping.role, source="sso").count()
