"""The findings filters and the domain scope of the governance overview and idle pages, shared by the pages and
the API."""

from __future__ import annotations

from typing import Any

import django_filters

from domains.filtersets import DomainScopedFilterSet, account_filter, domain_filter
from domains.models import Domain
from governance.models import Finding
from portal.filtering import SearchFilter
from portal.registry import registry
from portal.scoping import VIEW


def check_choices() -> list[tuple[str, str]]:
    return [(c.id, f"{c.id} {c.title}") for c in sorted(registry.checks.values(), key=lambda c: c.id)]


class FindingFilterSet(DomainScopedFilterSet):
    q = SearchFilter(fields=("resource_name", "resource_arn", "details", "check_id"))
    check = django_filters.ChoiceFilter(field_name="check_id", choices=check_choices, empty_label="Any check")
    severity = django_filters.ChoiceFilter(choices=Finding.Severity.choices, empty_label="Any severity")
    status = django_filters.ChoiceFilter(choices=Finding.Status.choices, empty_label="Any status")
    resource_kind = django_filters.ChoiceFilter(choices=Finding.Kind.choices, empty_label="Any resource")
    domain = domain_filter()
    account = account_filter("domain__account__account_id")

    sort_fields = {
        "check": ("check_id", "pk"),
        "severity": ("severity", "pk"),
        "resource": ("resource_name", "pk"),
        "domain": ("domain__name", "pk"),
        "status": ("status", "pk"),
        "first_seen": ("first_seen", "pk"),
        "last_seen": ("last_seen", "pk"),
    }

    class Meta:
        model = Finding
        fields = ["q", "check", "severity", "status", "resource_kind", "domain", "account"]


class GovernanceScopeFilterSet(DomainScopedFilterSet):
    """Which domains the overview and the idle compliance pages (and their API) cover: a domain or an account
    among those the person may see; anything else is refused (400 in the API, a message on the pages)."""

    domain = domain_filter("domain_id")
    account = account_filter("account__account_id")

    class Meta:
        model = Domain
        fields = ["domain", "account"]


def governance_scope(request: Any, params: Any) -> tuple[GovernanceScopeFilterSet, list[Domain]]:
    """The live domains ``request.user`` may see, narrowed by ``params`` (``domain``, ``account``); none when a
    filter is refused (the FilterSet's ``errors`` say why)."""
    scope = GovernanceScopeFilterSet(
        params,
        queryset=Domain.objects.restrict(request.user, VIEW)
        .filter(removed_at__isnull=True)
        .select_related("account")
        .order_by("name", "domain_id"),
        request=request,
    )
    return scope, list(scope.qs) if scope.is_valid() else []
