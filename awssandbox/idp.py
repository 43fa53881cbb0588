"""A small OpenID Connect provider in the sandbox, built on authlib: the company identity provider of the demo.

It serves, under ``/_idp`` of the sandbox server: the discovery document
(``/_idp/.well-known/openid-configuration``), its signing keys (``/_idp/jwks``), ``/_idp/authorize`` (a plain login
form of the provider), ``/_idp/token`` and ``/_idp/userinfo``. Its people are the users of the sandbox's IAM Identity
Center (:mod:`awssandbox.identity`: the demo organisation's people, with their groups), read at each request, so a user
deleted from Identity Center can no longer log in; every one of them has the password :data:`PASSWORD`.

Like a real provider it refuses what a careful one refuses: an unknown client or redirect address, an authorization
request without a PKCE challenge (S256), a code used twice or after a minute, and a token request whose
``code_verifier`` does not match the challenge. The ID token is signed with RS256 by a key made at start-up, named
by ``kid`` in the JWKS.

One client is registered: :data:`CLIENT_ID` with :data:`CLIENT_SECRET`, whose redirect address may be any
``/oidc/callback/`` on a loopback host (the demo's portal, a test's live server) or ``testserver`` (Django's test
client). Nothing here is meant for anything but the sandbox.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, Response, jsonify, render_template_string, request
from joserfc.jwk import RSAKey

PREFIX = "/_idp"
CLIENT_ID = "sagemaker-governance-portal"
CLIENT_SECRET = "sandbox-oidc-client-secret"  # noqa: S105 - the sandbox provider's documented client secret
PASSWORD = "sagemaker-demo"  # noqa: S105 - every sandbox identity's documented password
KID = "sandbox-idp-1"
CODE_SECONDS = 60
TOKEN_SECONDS = 3600
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "testserver"}

_key = RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "RS256"}, private=True)


@dataclass(frozen=True)
class Identity:
    """One person of the provider: an Identity Center user with the display names of their groups."""

    sub: str
    username: str
    email: str
    given_name: str
    family_name: str
    groups: tuple[str, ...]

    def get_user_id(self) -> str:
        return self.sub

    def claims(self) -> dict[str, Any]:
        return {
            "sub": self.sub,
            "preferred_username": self.username,
            "email": self.email,
            "email_verified": True,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "name": f"{self.given_name} {self.family_name}".strip(),
            "groups": list(self.groups),
        }


def identity_center_people() -> dict[str, Identity]:
    """Every user of every Identity Center store in the sandbox, by lower-case user name, with their groups."""
    from moto.identitystore.models import identitystore_backends

    people: dict[str, Identity] = {}
    for account in list(identitystore_backends.keys()):
        for region in list(identitystore_backends[account].keys()):
            backend = identitystore_backends[account][region]
            for store in list(backend.identity_stores.values()):
                groups_of: dict[str, list[str]] = {}
                for membership in list(store.group_memberships.values()):
                    group = store.groups.get(membership["GroupId"])
                    user_id = membership.get("MemberId", {}).get("UserId")
                    if group is not None and user_id:
                        groups_of.setdefault(user_id, []).append(group.DisplayName)
                for user in list(store.users.values()):
                    emails = user.Emails or []
                    primary = next((e for e in emails if e and e.get("Primary")), emails[0] if emails else {})
                    name = user.Name
                    people[user.UserName.lower()] = Identity(
                        sub=user.UserId,
                        username=user.UserName,
                        email=(primary or {}).get("Value", ""),
                        given_name=(name.GivenName if name else "") or "",
                        family_name=(name.FamilyName if name else "") or "",
                        groups=tuple(sorted(groups_of.get(user.UserId, []))),
                    )
    return people


class Client(ClientMixin):
    client_id = CLIENT_ID
    client_secret = CLIENT_SECRET

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "email", "profile", "groups"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        parts = urlsplit(redirect_uri or "")
        return (
            parts.scheme in ("http", "https") and parts.hostname in LOOPBACK_HOSTS and parts.path == "/oidc/callback/"
        )

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret or "", self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_post", "client_secret_basic")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


CLIENT = Client()


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: Identity
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return ["pwd"]

    def is_expired(self) -> bool:
        return time.time() > self.auth_time + CODE_SECONDS


class Store:
    """Codes and access tokens in memory; ``reset`` forgets them (the sandbox's reset calls it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, tuple[Identity, float, str]] = {}

    def reset(self) -> None:
        with self.lock:
            self.codes.clear()
            self.tokens.clear()


store = Store()


def issuer() -> str:
    return request.host_url.rstrip("/") + PREFIX


class PortalCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post", "client_secret_basic"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        with store.lock:
            store.codes[code] = Code(
                code=code,
                client_id=request.client.get_client_id(),
                redirect_uri=request.payload.redirect_uri,
                scope=request.payload.scope,
                user=request.user,
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
            )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        with store.lock:
            found = store.codes.get(code)
        if found is not None and found.client_id == client.get_client_id() and not found.is_expired():
            return found
        return None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        with store.lock:
            store.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> Identity:
        return authorization_code.user


class RequiredS256(CodeChallenge):
    """PKCE, required of every client (confidential ones too), S256 only."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "This provider requires PKCE: send code_challenge with code_challenge_method=S256."
            )
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        super().validate_code_verifier(grant, result)


class PortalOpenIDCode(OpenIDCode):
    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return _key

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": KID}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": issuer(), "aud": [client.get_client_id()]}

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        with store.lock:
            return any(code.nonce == nonce for code in store.codes.values())

    def generate_user_info(self, user: Identity, scope: str) -> UserInfo:
        return UserInfo(**user.claims())


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Sandbox identity provider</title></head>
<body style="font-family: sans-serif; max-width: 26rem; margin: 4rem auto">
<h1>Sandbox identity provider</h1>
<p>Sign in to continue to <strong>{{ client_id }}</strong>.</p>
{% if error %}<p role="alert" id="idp-error" style="color: #a00">{{ error }}</p>{% endif %}
<form method="post" action="{{ action }}">
  {% for key, value in params %}<input type="hidden" name="{{ key }}" value="{{ value }}">{% endfor %}
  <p><label for="idp-username">User name</label><br>
     <input id="idp-username" name="idp_username" value="{{ username }}" autocomplete="username" required autofocus></p>
  <p><label for="idp-password">Password</label><br>
     <input id="idp-password" name="idp_password" type="password" autocomplete="current-password" required></p>
  <p><button type="submit" id="idp-submit">Sign in</button></p>
</form>
<p style="color: #555">People: the demo organisation's Identity Center users (e.g. maria.garcia), password
<code>sagemaker-demo</code>.</p>
</body></html>"""


def create_app() -> Flask:
    app = Flask("awssandbox.idp")
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": TOKEN_SECONDS}

    def save_token(token: dict[str, Any], oauth_request: Any) -> None:
        with store.lock:
            store.tokens[token["access_token"]] = (oauth_request.user, time.time() + TOKEN_SECONDS, token["scope"])

    server = AuthorizationServer(
        app, query_client=lambda cid: CLIENT if cid == CLIENT_ID else None, save_token=save_token
    )
    server.register_grant(PortalCodeGrant, [PortalOpenIDCode(require_nonce=True), RequiredS256(required=True)])

    @app.get(f"{PREFIX}/.well-known/openid-configuration")
    def discovery() -> Response:
        base = issuer()
        return jsonify(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/userinfo",
                "jwks_uri": f"{base}/jwks",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile", "groups"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": [
                    "sub",
                    "preferred_username",
                    "email",
                    "email_verified",
                    "given_name",
                    "family_name",
                    "name",
                    "groups",
                ],
            }
        )

    @app.get(f"{PREFIX}/jwks")
    def jwks() -> Response:
        return jsonify({"keys": [_key.as_dict(private=False)]})

    @app.route(f"{PREFIX}/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        try:
            server.get_consent_grant(end_user=None)
        except OAuth2Error as error:
            return Response(f"{error.error}: {error.description}", status=400, mimetype="text/plain")
        source = request.form if request.method == "POST" else request.args
        params = [(k, v) for k, v in source.items() if not k.startswith("idp_")]
        if request.method == "GET":
            return render_template_string(
                LOGIN_PAGE, action=request.path, params=params, client_id=CLIENT_ID, error="", username=""
            )
        username = request.form.get("idp_username", "").strip()
        person = identity_center_people().get(username.lower())
        if person is None or not secrets.compare_digest(request.form.get("idp_password", ""), PASSWORD):
            page = render_template_string(
                LOGIN_PAGE,
                action=request.path,
                params=params,
                client_id=CLIENT_ID,
                username=username,
                error="That user name and password do not match a person of this organisation.",
            )
            return Response(page, status=401, mimetype="text/html")
        return server.create_authorization_response(grant_user=person)

    @app.post(f"{PREFIX}/token")
    def token() -> Any:
        return server.create_token_response()

    @app.route(f"{PREFIX}/userinfo", methods=["GET", "POST"])
    def userinfo() -> Response:
        header = request.headers.get("Authorization", "")
        kind, _, value = header.partition(" ")
        with store.lock:
            found = store.tokens.get(value.strip()) if kind.lower() == "bearer" else None
        if found is None or found[1] < time.time():
            answer = jsonify({"error": "invalid_token"})
            answer.status_code = 401
            answer.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return answer
        person, _, _ = found
        current = identity_center_people().get(person.username.lower())  # the groups as they are now
        if current is None:  # deleted from Identity Center since: the token no longer stands for anybody
            answer = jsonify({"error": "invalid_token", "error_description": "This person no longer exists."})
            answer.status_code = 401
            return answer
        return jsonify(current.claims())

    return app
