from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from iamaccess import generator, proposals


class ReviewStartForm(forms.Form):
    """Start a review: of every domain (platform admins) or of one domain (its approvers)."""

    domain = forms.IntegerField(required=False, min_value=1)


class PolicyForm(forms.Form):
    """Which of the four policies, for which of the role's domains, and (policy (c)) the team's instance types."""

    kind = forms.ChoiceField(choices=list(generator.KINDS.items()), label="Policy")
    domain = forms.ChoiceField(choices=(), label="Domain")
    instance_types = forms.CharField(
        required=False,
        max_length=2000,
        label="Allowed instance types",
        help_text="Comma-separated, wildcards allowed (ml.t3.*); empty: the persona's list for this role, if any.",
    )

    def __init__(self, *args: Any, domains: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.domains = {d.domain_id: d for d in domains}
        self.fields["domain"].choices = [(d.domain_id, d.name) for d in domains]

    def clean_domain(self) -> Any:
        return self.domains[self.cleaned_data["domain"]]

    def clean_instance_types(self) -> tuple[str, ...]:
        text = self.cleaned_data["instance_types"]
        if not text.strip():
            return ()
        try:
            return proposals.instance_types_of(text)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
