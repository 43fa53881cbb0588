from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from backfill.models import AttributionRule
from domains.models import AwsAccount, Domain


class RuleForm(forms.Form):
    kind = forms.ChoiceField(choices=AttributionRule.Kind.choices, label="Kind")
    prefix = forms.CharField(
        max_length=512,
        label="Prefix",
        help_text="A name prefix (risk-) or an S3 prefix of an input or output (s3://risk-artifacts/).",
    )
    domain = forms.ModelChoiceField(queryset=Domain.objects.none(), label="Domain", empty_label="Choose a domain")
    note = forms.CharField(max_length=200, required=False, label="Note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"].queryset = Domain.objects.filter(removed_at__isnull=True).select_related("account")
        self.fields["domain"].label_from_instance = lambda d: f"{d.name} ({d.account.account_id} {d.region})"


class ExceptForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Reason",
        help_text="Why this resource stays untagged.",
        error_messages={"required": "Say why this resource is left untagged."},
    )


class PlanForm(forms.Form):
    domain = forms.ModelChoiceField(
        queryset=Domain.objects.none(),
        required=False,
        label="Scope",
        empty_label="Every domain",
        help_text="Plan the backfill of one domain, or of every domain.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"].queryset = Domain.objects.filter(removed_at__isnull=True).select_related("account")
        self.fields["domain"].label_from_instance = lambda d: f"{d.name} ({d.account.account_id} {d.region})"


class CostTagBackfillForm(forms.Form):
    """A cost allocation tag backfill request: the payer account, the month to re-apply tags from, and why."""

    payer = forms.ModelChoiceField(
        queryset=AwsAccount.objects.none(), label="Payer account", empty_label="Choose a payer account"
    )
    backfill_from = forms.TypedChoiceField(label="Re-apply tags from", coerce=date.fromisoformat)
    reason = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"size": 40}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from backfill.costtags import month_choices

        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = AwsAccount.objects.filter(is_payer=True, enabled=True).order_by("account_id")
        months = month_choices()
        self.fields["backfill_from"].choices = [(d.isoformat(), d.strftime("%B %Y (from %Y-%m-%d)")) for d in months]
