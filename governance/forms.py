from __future__ import annotations

from typing import Any

from django import forms

from governance.models import GovernancePolicy


class ListField(forms.CharField):
    """A comma-separated list."""

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        return [part.strip() for part in (value or "").split(",") if part.strip()]


class PolicyForm(forms.ModelForm):
    gpu_families = ListField(required=False, help_text="Comma-separated prefixes, e.g. ml.g, ml.p, ml.trn, ml.inf.")
    required_tags = ListField(required=False, help_text="Comma-separated tag keys every domain carries.")

    class Meta:
        model = GovernancePolicy
        fields = ["idle_timeout_cap_minutes", "app_idle_hours", "gpu_families", "required_tags", "regulated"]


class AcceptForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    until = forms.DateField(label="Accepted until", widget=forms.DateInput(attrs={"type": "date"}))
