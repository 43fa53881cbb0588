"""The change-set list's filters, shared by the page and the API."""

from __future__ import annotations

import django_filters

from changesets.models import ChangeSet
from domains.filtersets import DomainScopedFilterSet, account_filter, domain_filter
from portal.filtering import SearchFilter


class ChangeSetFilterSet(DomainScopedFilterSet):
    q = SearchFilter(fields=("title", "origin", "proposed_by_label"))
    status = django_filters.ChoiceFilter(choices=ChangeSet.Status.choices, empty_label="Any status")
    domain = domain_filter()
    account = account_filter("domain__account__account_id")

    sort_fields = {
        "change_set": "pk",
        "title": ("title", "pk"),
        "domain": ("domain__name", "pk"),
        "status": ("status", "pk"),
        "saving": "monthly_saving",
        "proposed": "created_at",
    }
    default_sort = "-proposed"

    class Meta:
        model = ChangeSet
        fields = ["q", "status", "domain", "account"]
