"""Template filters of the governance pages."""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def dotted(path: object) -> SafeString:
    """A settings path (``DefaultUserSettings.JupyterLabAppSettings...``) that a narrow column breaks at its dots
    rather than pushing the next columns out of view."""
    parts = [conditional_escape(part) for part in str(path).split(".")]
    return mark_safe(".<wbr>".join(parts))  # noqa: S308 - every part is escaped
