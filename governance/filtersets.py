"""The findings filters, shared by the page and the API."""

from __future__ import annotations

import django_filters

from domains.filtersets import DomainScopedFilterSet, account_filter, domain_filter
from governance.models import Finding
from portal.filtering import SearchFilter
from portal.registry import registry


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
