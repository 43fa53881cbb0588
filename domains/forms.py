from __future__ import annotations

from typing import Any

from django import forms

from domains.models import AwsAccount


class AwsAccountForm(forms.Form):
    account_id = forms.CharField(label="Account id", max_length=12, help_text="12 digits.")
    name = forms.CharField(max_length=100, help_text="What people call it, e.g. 'Risk - production'.")
    regions = forms.CharField(
        max_length=500, help_text="Comma-separated regions where SageMaker domains live, e.g. us-east-1, eu-west-1."
    )
    role_arn = forms.CharField(
        label="Role to assume",
        required=False,
        max_length=2048,
        help_text="Optional: arn:aws:iam::<account>:role/<name>. Without it the portal's own credentials are used.",
    )
    external_id = forms.CharField(label="External id", required=False, max_length=1224)
    is_payer = forms.BooleanField(label="Payer account (Cost Explorer is read here)", required=False)
    enabled = forms.BooleanField(required=False, initial=True, help_text="Disabled accounts are not synced.")
    portal_writes_iam = forms.BooleanField(
        label="The portal may write IAM",
        required=False,
        initial=False,
        help_text="Lets approved change sets put or delete the portal's inline policy on this account's SageMaker "
        "execution roles (needs iam:GetRolePolicy, iam:PutRolePolicy and iam:DeleteRolePolicy; see the README). "
        "Off: generated policies can only be downloaded.",
    )

    def __init__(self, *args: Any, instance: AwsAccount | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "account_id": instance.account_id,
                "name": instance.name,
                "regions": ", ".join(instance.regions),
                "role_arn": instance.role_arn,
                "external_id": instance.external_id,
                "is_payer": instance.is_payer,
                "enabled": instance.enabled,
                "portal_writes_iam": instance.portal_writes_iam,
            }
        self.instance = instance
        super().__init__(*args, **kwargs)

    def clean_account_id(self) -> str:
        return self.cleaned_data["account_id"].strip().replace("-", "")

    def clean_regions(self) -> list[str]:
        return [r.strip().lower() for r in self.cleaned_data["regions"].split(",") if r.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        account_id = data.get("account_id")
        if account_id:
            clash = AwsAccount.objects.filter(account_id=account_id)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("account_id", f"Account {account_id} is already configured.")
        return data


class SyncStartForm(forms.Form):
    """What the Sync now buttons post: a domain (its primary key), or an account and region, or nothing (all)."""

    domain = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    account = forms.CharField(required=False, max_length=12)
    region = forms.CharField(required=False, max_length=32)
    next = forms.CharField(required=False, max_length=2000)
