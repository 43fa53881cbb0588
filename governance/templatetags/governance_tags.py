"""Template tags and filters of the governance pages."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from governance.models import Finding
from profiles.models import App, Space, UserProfile

register = template.Library()


@register.simple_tag
def resource_url(finding: Finding) -> str:
    """The portal page of a finding's resource: the domain, the profile or space (an app's, for an app), or ""
    when the inventory no longer has it."""
    if finding.resource_kind == Finding.Kind.DOMAIN:
        return reverse("domains:domain-detail", args=[finding.domain_id])
    if finding.resource_kind == Finding.Kind.PROFILE:
        pk = UserProfile.objects.filter(arn=finding.resource_arn).values_list("pk", flat=True).first()
        return reverse("profiles:profile-detail", args=[pk]) if pk else ""
    if finding.resource_kind == Finding.Kind.SPACE:
        pk = Space.objects.filter(arn=finding.resource_arn).values_list("pk", flat=True).first()
        return reverse("profiles:space-detail", args=[pk]) if pk else ""
    app = App.objects.filter(arn=finding.resource_arn).values("space_id", "user_profile_id").first() or {}
    if app.get("space_id"):
        return reverse("profiles:space-detail", args=[app["space_id"]])
    if app.get("user_profile_id"):
        return reverse("profiles:profile-detail", args=[app["user_profile_id"]])
    return ""


@register.filter
def dotted(path: object) -> SafeString:
    """A settings path (``DefaultUserSettings.JupyterLabAppSettings...``) that a narrow column breaks at its dots
    rather than pushing the next columns out of view."""
    parts = [conditional_escape(part) for part in str(path).split(".")]
    return mark_safe(".<wbr>".join(parts))  # noqa: S308 - every part is escaped
