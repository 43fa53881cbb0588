from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from costs.models import Spend, domain_total_q, validate_thresholds
from costs.reports import Window, default_window
from domains.models import Domain
from portal.scoping import VIEW, VIEW_COSTS, grants_for


class QuickSelect(forms.Select):
    """A select rendered in Python. Django's widget templates render every option through the template engine: for
    the domain list that was a third of the cost dashboard's server time."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        chosen = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((str(v), mark_safe(" selected") if str(v) in chosen else "", label) for v, label in self.choices),
        )
        return format_html("<select{}>{}</select>", flatatt(final), options)


class SpendFilterForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    account = forms.ChoiceField(required=False, choices=(), label="Account", widget=QuickSelect)
    domain = forms.ChoiceField(required=False, choices=(), widget=QuickSelect)

    def __init__(
        self, *args: Any, domains: list[tuple[str, str]], accounts: list[str], today: date, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = [("", "All domains"), *domains]
        self.fields["account"].choices = [("", "All accounts"), *((a, a) for a in accounts)]
        self.today = today

    @classmethod
    def for_user(cls, user: Any, data: Any) -> SpendFilterForm:
        """The filters with the domains ``user`` may see to choose from (and their accounts): the rollups are
        restricted anyway, so a data scientist filters their own spend by the domains of their role."""
        rows = list(
            Domain.objects.restrict(user, VIEW).order_by("name").values_list("arn", "name", "account__account_id")
        )
        domains = [(arn, name) for arn, name, _ in rows]
        return cls(data, domains=domains, accounts=sorted({a for _, _, a in rows}), today=timezone.localdate())

    def rollups(self, user: Any) -> QuerySet:
        """The spend (rollups and member days) ``user`` may read, narrowed by the account and domain chosen (when
        the form is valid)."""
        rollups = Spend.objects.restrict(user, VIEW_COSTS)
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("account"):
            rollups = rollups.filter(domain_arn__contains=f":{data['account']}:domain/")
        if data.get("domain"):
            rollups = rollups.filter(domain_arn=data["domain"])
        return rollups

    @staticmethod
    def domain_rows(user: Any) -> Q:
        """Which of the rollups make ``user``'s per-domain totals (see :func:`costs.models.domain_total_q`)."""
        return domain_total_q(grants_for(user))

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


class BudgetForm(forms.Form):
    monthly_amount = forms.DecimalField(
        label="Monthly budget (USD)", min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    thresholds = forms.CharField(
        initial="50, 80, 100",
        help_text="Percentages of the budget that send an alert, on actual and on forecast spend, once each per month.",
    )

    def clean_thresholds(self) -> list[int]:
        raw = [part.strip().rstrip("%") for part in self.cleaned_data["thresholds"].split(",") if part.strip()]
        try:
            values = [int(part) for part in raw]
        except ValueError:
            raise forms.ValidationError("Use whole percentages separated by commas, e.g. 50, 80, 100.") from None
        validate_thresholds(values)  # the model's rule, the same for the API
        return sorted(values)
