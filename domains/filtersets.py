"""FilterSets of the domains app, shared by the pages and the API, and the domain/account/region filters whose
choices are the domains the person may see (used by every list with such a filter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import django_filters

from domains.models import AwsAccount, Domain, Person, PersonMatch
from portal.filtering import InventoryFilterSet, SearchFilter, YesNoAny
from portal.scoping import VIEW

# The statuses SageMaker reports for domains, user profiles and spaces (DescribeDomain, DescribeUserProfile,
# DescribeSpace), and for apps (DescribeApp).
RESOURCE_STATUSES = ("InService", "Pending", "Updating", "Deleting", "Failed", "Update_Failed", "Delete_Failed")
APP_STATUSES = ("InService", "Pending", "Deleting", "Deleted", "Failed")


@dataclass(frozen=True)
class ScopeDomain:
    domain_id: str
    arn: str
    name: str
    account_id: str
    region: str
    removed: bool


def domains_in_scope(request: Any) -> list[ScopeDomain]:
    """The domains ``request.user`` may see (removed ones too), read once per request whatever asks for them."""
    if request is None:
        return []
    cached = getattr(request, "_portal_scope_domains", None)
    if cached is None:
        rows = (
            Domain.objects.restrict(request.user, VIEW)
            .order_by("name", "domain_id")
            .values_list("domain_id", "arn", "name", "account__account_id", "region", "removed_at")
        )
        cached = [
            ScopeDomain(d, arn, name, account, region, removed is not None)
            for d, arn, name, account, region, removed in rows
        ]
        request._portal_scope_domains = cached
    return cached


class AliasChoiceField(django_filters.fields.ChoiceField):
    """A choice that may also be given by an alias (a domain's ARN for its id), so links from the spend pages,
    which name domains by ARN, filter the inventory lists too."""

    def __init__(self, *args: Any, aliases: dict[str, str] | None = None, **kwargs: Any) -> None:
        self.aliases = aliases or {}
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        return self.aliases.get(value, value)


class ScopedChoiceFilter(django_filters.ChoiceFilter):
    """A domain, account or region filter: a choice among what the person may see, set by
    :class:`DomainScopedFilterSet`. Anything else (out of scope or unknown alike) is refused the same way."""

    field_class = AliasChoiceField

    def __init__(self, *args: Any, scope: str, **kwargs: Any) -> None:
        self.scope = scope
        kwargs.setdefault("choices", ())
        super().__init__(*args, **kwargs)


class DomainScopedFilterSet(django_filters.FilterSet):
    """Gives its :class:`ScopedChoiceFilter` filters their choices from the domains the request's user may see."""

    def __init__(self, data: Any = None, queryset: Any = None, *, request: Any = None, **kwargs: Any) -> None:
        super().__init__(data, queryset, request=request, **kwargs)
        scope = domains_in_scope(request)
        for scoped in self.filters.values():
            if isinstance(scoped, ScopedChoiceFilter):
                choices, aliases = scope_choices(scope, scoped.scope)
                scoped.extra["choices"] = choices
                scoped.extra["aliases"] = aliases
                # A form field built earlier (the schema generator builds them on the class's filters, which each
                # FilterSet copies) would keep its old choices: build it again from these.
                scoped.__dict__.pop("_field", None)


def scope_choices(scope: list[ScopeDomain], kind: str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    if kind == "domain":
        choices = [(d.domain_id, f"{d.name} (removed)" if d.removed else d.name) for d in scope]
        return choices, {d.arn: d.domain_id for d in scope}
    if kind == "account":
        return [(a, a) for a in sorted({d.account_id for d in scope})], {}
    return [(r, r) for r in sorted({d.region for d in scope})], {}


def domain_filter(field_name: str = "domain__domain_id") -> ScopedChoiceFilter:
    return ScopedChoiceFilter(
        field_name=field_name,
        scope="domain",
        label="Domain",
        empty_label="All domains",
        help_text="A domain you may see, by id (d-...) or ARN.",
    )


def account_filter(field_name: str) -> ScopedChoiceFilter:
    return ScopedChoiceFilter(
        field_name=field_name,
        scope="account",
        label="Account",
        empty_label="All accounts",
        help_text="The AWS account id of a domain you may see.",
    )


def region_filter(field_name: str) -> ScopedChoiceFilter:
    return ScopedChoiceFilter(
        field_name=field_name,
        scope="region",
        label="Region",
        empty_label="All regions",
        help_text="The region of a domain you may see.",
    )


def status_filter(statuses: tuple[str, ...]) -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(choices=[(s, s.replace("_", " ")) for s in statuses], empty_label="Any status")


class AwsAccountFilterSet(django_filters.FilterSet):
    q = SearchFilter(fields=("account_id", "name"))
    enabled = django_filters.BooleanFilter(widget=YesNoAny)

    class Meta:
        model = AwsAccount
        fields = ["q", "enabled", "is_payer"]


class DomainFilterSet(DomainScopedFilterSet, InventoryFilterSet):
    q = SearchFilter(fields=("name", "domain_id", "arn"))
    account = account_filter("account__account_id")
    region = region_filter("region")
    auth_mode = django_filters.ChoiceFilter(choices=(("IAM", "IAM"), ("SSO", "SSO")), empty_label="Any")
    network_access_type = django_filters.ChoiceFilter(
        choices=(("PublicInternetOnly", "Public internet"), ("VpcOnly", "VPC only")), label="Network", empty_label="Any"
    )
    studio_experience = django_filters.ChoiceFilter(
        choices=Domain.StudioExperience.choices, label="Studio", empty_label="Any"
    )
    status = status_filter(RESOURCE_STATUSES)
    sort_fields = {
        "name": ("name", "domain_id"),
        "account": ("account__account_id", "region", "name"),
        "region": ("region", "name"),
        "auth": ("auth_mode", "name"),
        "network": ("network_access_type", "name"),
        "studio": ("studio_experience", "name"),
        "profiles": "profile_count",
        "spaces": "space_count",
        "apps": "running_app_count",
        "synced": "members_synced_at",
        "last_changed": "last_changed",
        "status": ("status", "name"),
    }

    class Meta:
        model = Domain
        fields = ["q", "account", "region", "auth_mode", "network_access_type", "studio_experience", "status"]


class PersonFilterSet(DomainScopedFilterSet):
    """The people directory: search, active, left or ambiguous, and people with a profile in a domain."""

    q = SearchFilter(fields=("display_name", "email", "user_name", "portal_user__username"))
    status = django_filters.ChoiceFilter(
        choices=(("active", "Active"), ("left", "Left"), ("ambiguous", "Ambiguous match")),
        method="filter_status",
        empty_label="Anyone",
        help_text="active, left, or ambiguous (listed in an open match for an admin to resolve).",
    )
    domain = ScopedChoiceFilter(
        field_name="user_profiles__domain__domain_id",
        method="filter_domain",
        scope="domain",
        label="Domain",
        empty_label="All domains",
        help_text="People with a live profile in this domain (one you may see), by id (d-...) or ARN.",
    )
    sort_fields = {"name": ("display_name", "pk"), "email": ("email", "pk"), "status": ("status", "display_name")}

    class Meta:
        model = Person
        fields = ["q", "status", "domain"]

    def filter_status(self, qs: Any, name: str, value: str) -> Any:
        if value == "ambiguous":
            return qs.filter(
                pk__in=PersonMatch.candidates.through.objects.filter(
                    personmatch__status=PersonMatch.Status.OPEN
                ).values("person_id")
            )
        return qs.filter(status=value)

    def filter_domain(self, qs: Any, name: str, value: str) -> Any:
        profiles = Person._meta.get_field("user_profiles").related_model
        holders = profiles.objects.filter(domain__domain_id=value, removed_at__isnull=True).values("person_id")
        return qs.filter(pk__in=holders)


class PersonMatchFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PersonMatch.Status.choices, empty_label="Any status")
    subject = django_filters.ChoiceFilter(choices=PersonMatch.Subject.choices, empty_label="Anything")

    class Meta:
        model = PersonMatch
        fields = ["status", "subject"]
