"""Opening Studio for a person: only on their own profile, through the route its domain's auth mode allows."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from portal.aws import describe_error, gateway
from profiles.models import UserProfile

PRESIGNED_URL_SECONDS = 60  # the link is used at once; Studio's own session lasts longer


class StudioAccessError(Exception):
    """Studio cannot be opened for this person on this profile; the message says why."""


def studio_origin(profile: UserProfile) -> str | None:
    """Where Open Studio's redirect leads (scheme and host), or None when it leads nowhere yet.

    Browsers apply the page's CSP ``form-action`` to the redirect that follows a form, so the profile page must allow
    this origin or the button is silently blocked: the domain's Studio address on IAM domains (the sandbox server
    when the portal talks to one over HTTP), the access portal on SSO domains."""
    domain = profile.domain
    if domain.auth_mode == "SSO":
        url = settings.SSO_ACCESS_PORTAL_URL
    elif settings.AWS_MODE == "sandbox" and settings.AWS_ENDPOINT_URL:
        url = settings.AWS_ENDPOINT_URL
    else:
        url = f"https://{domain.domain_id}.studio.{domain.region}.sagemaker.aws"
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def studio_url_for(profile: UserProfile, user: Any) -> str:
    if profile.owner_id != getattr(user, "pk", None):
        raise StudioAccessError("Studio opens only on your own profile.")
    if profile.removed_at is not None or profile.status != "InService":
        raise StudioAccessError(f"The profile {profile.name} is {profile.status or 'gone'}; it cannot be opened.")
    domain = profile.domain
    if domain.auth_mode == "SSO":
        portal = settings.SSO_ACCESS_PORTAL_URL
        if not portal:
            raise StudioAccessError(
                "This domain signs in through IAM Identity Center; open Studio from your AWS "
                "access portal (ask an admin for its address)."
            )
        return portal
    try:
        answer = (
            gateway()
            .sagemaker(region=domain.region, account=domain.account.access)
            .create_presigned_domain_url(
                DomainId=domain.domain_id,
                UserProfileName=profile.name,
                ExpiresInSeconds=PRESIGNED_URL_SECONDS,
                SessionExpirationDurationInSeconds=settings.STUDIO_SESSION_SECONDS,
            )
        )
    except (ClientError, BotoCoreError) as exc:
        raise StudioAccessError(f"AWS did not open Studio: {describe_error(exc)}") from exc
    return answer["AuthorizedUrl"]
