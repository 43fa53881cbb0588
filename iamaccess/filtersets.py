"""The execution-role filters, shared by the page and the API."""

from __future__ import annotations

from domains.filtersets import DomainScopedFilterSet, ScopedChoiceFilter
from iamaccess.models import ExecutionRole
from portal.filtering import SearchFilter


class ExecutionRoleFilterSet(DomainScopedFilterSet):
    q = SearchFilter(fields=("name", "arn"))
    account = ScopedChoiceFilter(
        field_name="aws_account_id",
        scope="account",
        label="Account",
        empty_label="All accounts",
        help_text="The AWS account id of a domain you may see.",
    )
    domain = ScopedChoiceFilter(
        field_name="uses__domain__domain_id",
        scope="domain",
        label="Domain",
        empty_label="All domains",
        help_text="A domain you may see, by id (d-...) or ARN: the roles acting in it.",
        distinct=True,
    )

    sort_fields = {
        "name": ("name", "arn"),
        "account": ("aws_account_id", "name"),
        "profiles": ("profile_count", "name"),
        "spaces": ("space_count", "name"),
        "read": ("read_at", "name"),
    }

    class Meta:
        model = ExecutionRole
        fields = ["q", "account", "domain"]
