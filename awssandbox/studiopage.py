"""Where a presigned Studio URL ends in the sandbox: one-time sign-in tokens and a small "Studio (sandbox)" page.

CreatePresignedDomainUrl (:func:`awssandbox.studio.wire.create_presigned_domain_url`) calls :func:`issue` and answers
the URL it returns:

- over HTTP (the loopback server), a URL on the server's own address, ``<server>/_sandbox/studio/auth?token=...``,
  which the server answers with :func:`open_token` (a browser can follow it);
- in process, the domain's own Studio address (``https://d-....studio.<region>.sagemaker.aws/auth?token=...``),
  as AWS answers; :func:`open_url` checks it the way the server would.

A token opens the page once, before it expires (``ExpiresInSeconds`` after it was issued, on the sandbox clock so
tests move time with :meth:`awssandbox.clock.SandboxClock.advance`); a second use, an expired or an unknown
token gets a 403 page that says which. The page is plain HTML with no script or style at all, so it renders under
the strictest Content-Security-Policy (the server sends ``default-src 'none'``).
"""

from __future__ import annotations

import html
import secrets
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from awssandbox.clock import clock

PAGE_PATH = "/_sandbox/studio/auth"
PAGE_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

# ASSUMED: AWS documents that a presigned URL is valid for ExpiresInSeconds (5-300) and can be used only once, and
# that SessionExpirationDurationInSeconds (1800-43200) is how long the Studio session lasts (SageMaker API
# reference, CreatePresignedDomainUrl). It does not document what the browser shows for a used, expired or forged
# token; the sandbox answers 403 with one of these messages.
REFUSALS = {
    "unknown": "This sign-in link is not valid. Open Studio again from the portal.",
    "used": "This sign-in link has already been used; a presigned Studio URL opens once. Open Studio again.",
    "expired": "This sign-in link has expired (it was valid for {seconds} seconds). Open Studio again.",
}

# Set by the loopback server for the request it is serving: the scheme and host the client used to reach it.
server_base: ContextVar[str | None] = ContextVar("sandbox_server_base", default=None)


@dataclass
class Grant:
    token: str
    account_id: str
    region: str
    domain_id: str
    domain_name: str
    profile: str
    space: str | None
    issued: datetime
    expires: datetime
    session_seconds: int
    used_at: datetime | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    title: str
    body: str
    grant: Grant | None = None

    def html(self) -> str:
        return _PAGE.format(title=html.escape(self.title), body=self.body)


class Tokens:
    """The presigned tokens issued so far, by token (cleared with the rest of the sandbox)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._grants: dict[str, Grant] = {}

    def issue(
        self,
        *,
        account_id: str,
        region: str,
        domain_id: str,
        domain_name: str,
        profile: str,
        space: str | None,
        expires_in: int,
        session_seconds: int,
    ) -> Grant:
        now = clock.now()
        grant = Grant(
            token=secrets.token_urlsafe(36),
            account_id=account_id,
            region=region,
            domain_id=domain_id,
            domain_name=domain_name,
            profile=profile,
            space=space,
            issued=now,
            expires=now + timedelta(seconds=expires_in),
            session_seconds=session_seconds,
        )
        with self._lock:
            self._grants[grant.token] = grant
        return grant

    def redeem(self, token: str) -> Answer:
        """Use a token: the Studio page the first time, before its expiry; a 403 that says why otherwise."""
        now = clock.now()
        with self._lock:
            grant = self._grants.get(token)
            if grant is None:
                return _refusal("unknown")
            if grant.used_at is not None:
                return _refusal("used", grant)
            if now >= grant.expires:
                return _refusal("expired", grant)
            grant.used_at = now
        return _studio_page(grant, now)

    def clear(self) -> None:
        with self._lock:
            self._grants.clear()


tokens = Tokens()


def authorized_url(domain_url: str, token: str) -> str:
    """The URL CreatePresignedDomainUrl answers: on the server that serves this request, else the domain's own."""
    base = server_base.get()
    if base:
        return f"{base}{PAGE_PATH}?token={token}"
    return f"{domain_url}/auth?token={token}"


def open_token(token: str) -> Answer:
    return tokens.redeem(token)


def open_url(url: str) -> Answer:
    """Follow a presigned URL in process (either form :func:`authorized_url` answers)."""
    parts = urlsplit(url)
    if not (parts.path == PAGE_PATH or (parts.path == "/auth" and parts.hostname and ".studio." in parts.hostname)):
        return _refusal("unknown")
    token = (parse_qs(parts.query).get("token") or [""])[0]
    return tokens.redeem(token)


def _refusal(reason: str, grant: Grant | None = None) -> Answer:
    seconds = int((grant.expires - grant.issued).total_seconds()) if grant else 0
    message = REFUSALS[reason].format(seconds=seconds)
    return Answer(403, "Studio (sandbox): access denied", f'<p id="refusal" data-reason="{reason}">{message}</p>')


def _studio_page(grant: Grant, now: datetime) -> Answer:
    ends = now + timedelta(seconds=grant.session_seconds)
    e = html.escape
    rows = [
        ("Domain", f"{e(grant.domain_name)} ({e(grant.domain_id)})", "domain"),
        ("User profile", e(grant.profile), "profile"),
        ("Space", e(grant.space) if grant.space else "none (the profile's home)", "space"),
        ("Account and region", f"{e(grant.account_id)}, {e(grant.region)}", "where"),
        ("Session ends", e(ends.isoformat(timespec="seconds")), "session-ends"),
    ]
    body = (
        "<p>You are signed in to SageMaker Studio in the AWS sandbox. Nothing runs here: this page stands for "
        "Studio.</p><dl>"
        + "".join(f'<dt>{label}</dt><dd id="studio-{key}">{value}</dd>' for label, value, key in rows)
        + "</dl>"
    )
    return Answer(200, "Studio (sandbox)", body, grant)


_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""
