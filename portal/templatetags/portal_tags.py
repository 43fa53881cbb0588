"""Template filters and tags used across the portal's pages (installed as builtins)."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from portal.registry import registry

register = template.Library()


@register.simple_tag(takes_context=True)
def panels(context: template.Context, page: str, obj: Any) -> SafeString:
    """The panels the apps registered for this page ("domain", "profile", "space"), each rendered with the context
    its function answers for this request and object; a panel whose function answers None is left out."""
    request = context["request"]
    parts = []
    for panel in registry.panels_for(page):
        panel_context = panel.context(request, obj)
        if panel_context is None:
            continue
        parts.append(render_to_string(panel.template, {page: obj, **panel_context}, request=request))
    return mark_safe("".join(parts))  # noqa: S308 - each part is a template's escaped output


@register.filter
def stale(domain: Any, minutes: int) -> bool:
    """True when a domain's last sync is older than ``minutes``."""
    return bool(domain.is_stale(int(minutes)))


@register.filter
def status_badge(status: str) -> str:
    """The badge class for an AWS or run status."""
    good = {"InService", "succeeded", "ENABLED", "active", "approved", "done"}
    bad = {"Failed", "Update_Failed", "Delete_Failed", "failed", "DISABLED", "rejected", "expired"}
    warn = {
        "Pending",
        "Updating",
        "Deleting",
        "running",
        "queued",
        "partial",
        "submitted",
        "provisioning",
        "planned",
        "deleting",
        "flagged",
    }
    if status in good:
        return "badge-ok"
    if status in bad:
        return "badge-bad"
    if status in warn:
        return "badge-warn"
    return ""


@register.filter
def run_total(run: Any, outcome: str) -> int:
    """A task run's total for one outcome (created, updated, removed, unchanged)."""
    return int(run.total(outcome))


@register.filter
def ago(moment: Any) -> str:
    """'just now' under a minute, else Django's timesince with 'ago'."""
    from django.utils import timezone
    from django.utils.timesince import timesince

    if moment is None:
        return "never"
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment)} ago"


@register.filter
def get_item(mapping: dict[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key)


@register.simple_tag(takes_context=True)
def sort_header(context: Any, key: str, label: str) -> str:
    """A column header that sorts the list by ``key`` (toggling the direction), keeping the other filters.

    Outside a sortable list (no ``sort`` in the context, or a key the list does not allow) it is the bare label. A
    plain link that loads the whole page: the filter form outside the rows must learn the new order too.
    """
    from django.utils.html import format_html

    sorting = context.get("sort")
    request = context.get("request")
    if sorting is None or request is None or key not in sorting.fields:
        return label
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("ordering", None)
    params["sort"] = sorting.toggled(key)
    href = f"?{params.urlencode()}"
    state, arrow = "none", ""
    if sorting.key == key:
        state, arrow = ("descending", " ▼") if sorting.descending else ("ascending", " ▲")
    return format_html('<a class="sort" href="{}" data-sort="{}">{}{}</a>', href, state, label, arrow)
