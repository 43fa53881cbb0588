"""FilterSets of the domains app, shared by the pages and the API."""

from __future__ import annotations

import django_filters

from domains.models import AwsAccount, Domain
from portal.filtering import InventoryFilterSet, SearchFilter, YesNoAny


class AwsAccountFilterSet(django_filters.FilterSet):
    q = SearchFilter(fields=("account_id", "name"))
    enabled = django_filters.BooleanFilter(widget=YesNoAny)

    class Meta:
        model = AwsAccount
        fields = ["q", "enabled", "is_payer"]


class DomainFilterSet(InventoryFilterSet):
    q = SearchFilter(fields=("name", "domain_id", "arn"))
    account = django_filters.CharFilter(field_name="account__account_id", label="Account id")
    region = django_filters.CharFilter()
    auth_mode = django_filters.ChoiceFilter(choices=(("IAM", "IAM"), ("SSO", "SSO")))
    network_access_type = django_filters.ChoiceFilter(
        choices=(("PublicInternetOnly", "Public internet"), ("VpcOnly", "VPC only")), label="Network"
    )
    studio_experience = django_filters.ChoiceFilter(choices=Domain.StudioExperience.choices, label="Studio")
    status = django_filters.CharFilter()
    ordering = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("region", "region"),
            ("last_changed", "last_changed"),
            ("members_synced_at", "synced"),
        )
    )

    class Meta:
        model = Domain
        fields = ["q", "account", "region", "auth_mode", "network_access_type", "studio_experience", "status"]
