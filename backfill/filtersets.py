"""The legacy resources' filters, shared by the page and the API."""

from __future__ import annotations

import django_filters

from backfill.discovery import LISTED_TYPES
from backfill.models import LegacyResource
from domains.filtersets import DomainScopedFilterSet, account_filter, domain_filter, region_filter
from portal.filtering import SearchFilter

TYPES = sorted(("training-job", "endpoint", "experiment", "experiment-trial", "pipeline", *LISTED_TYPES))


class LegacyResourceFilterSet(DomainScopedFilterSet):
    q = SearchFilter(fields=("name", "arn", "why_unattributed"))
    coverage = django_filters.ChoiceFilter(choices=LegacyResource.Coverage.choices, empty_label="Any coverage")
    resource_type = django_filters.ChoiceFilter(choices=[(t, t) for t in TYPES], label="Type", empty_label="Any type")
    rule = django_filters.ChoiceFilter(
        choices=[(v, label) for v, label in LegacyResource.Rule.choices if v],
        label="Decided by",
        empty_label="Any rule",
    )
    domain = domain_filter()
    account = account_filter("account_id")
    region = region_filter("region")

    sort_fields = {
        "name": ("name", "pk"),
        "type": ("resource_type", "name", "pk"),
        "created": ("aws_created_at", "pk"),
        "coverage": ("coverage", "pk"),
        "domain": ("domain__name", "pk"),
        "rule": ("rule", "pk"),
    }

    class Meta:
        model = LegacyResource
        fields = ["q", "coverage", "resource_type", "rule", "domain", "account", "region"]
