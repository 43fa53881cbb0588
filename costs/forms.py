from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from costs.reports import Window, default_window


class SpendFilterForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    account = forms.RegexField(r"^\d{12}$", required=False, label="Account id",
                               error_messages={"invalid": "An AWS account id is exactly 12 digits."})
    domain = forms.ChoiceField(required=False, choices=())

    def __init__(self, *args: Any, domains: list[tuple[str, str]], today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = [("", "All domains"), *domains]
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        default = default_window(self.today)
        start, end = data.get("start") or default.start, data.get("end") or min(self.today, default.end)
        if start > end:
            self.add_error("end", "The end is before the start.")
        if (end - start).days > 800:
            self.add_error("start", "Choose at most about two years; Cost Explorer keeps 13 months anyway.")
        data["window"] = Window(start, end)
        return data
