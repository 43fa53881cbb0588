from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from costs.budgets import budget_status
from costs.models import Budget, Spend
from portal.validation import MAX_THRESHOLDS, THRESHOLD_PERCENT


class SpendRollupSerializer(serializers.ModelSerializer):
    class Meta:
        model = Spend
        fields = ["id", "period", "start", "level", "domain_arn", "key_arn", "amount", "estimated"]
        read_only_fields = fields


class SpendTotalSerializer(serializers.Serializer):
    domain = serializers.CharField()
    domain_arn = serializers.CharField()
    name = serializers.CharField()
    arn = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    share = serializers.DecimalField(max_digits=5, decimal_places=1)


class SpendSummarySerializer(serializers.Serializer):
    """The answer of ``/api/costs/summary/``: the period, the grouping and one row per domain, profile or space."""

    start = serializers.DateField()
    end = serializers.DateField()
    group = serializers.ChoiceField(choices=["domain", "profile", "space"])
    results = SpendTotalSerializer(many=True)


class BudgetSerializer(serializers.ModelSerializer):
    domain_id = serializers.CharField(source="domain.domain_id")
    thresholds = serializers.ListField(
        child=serializers.IntegerField(**THRESHOLD_PERCENT.field_kwargs()), allow_empty=False, max_length=MAX_THRESHOLDS
    )
    monthly_amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))

    class Meta:
        model = Budget
        fields = ["id", "domain_id", "monthly_amount", "thresholds", "updated_at"]
        read_only_fields = ["id", "updated_at"]

    def validate_thresholds(self, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("A threshold is listed twice.")
        return sorted(value)

    def to_representation(self, instance: Budget) -> dict[str, Any]:
        data = super().to_representation(instance)
        # A list computes every budget's status at once (see BudgetViewSet.list); a single budget its own.
        status = self.context.get("statuses", {}).get(instance.domain_id) or budget_status(
            instance, timezone.localdate()
        )
        data["month_to_date"] = str(status["spend"])
        data["forecast"] = str(status["forecast"])
        return data


class CostRunStartSerializer(serializers.Serializer):
    """What ``POST /api/costs/runs/`` takes: both optional (every payer account; the usual window)."""

    account = serializers.CharField(required=False, allow_blank=True, max_length=12, help_text="A payer account id.")
    since = serializers.DateField(required=False, allow_null=True, help_text="Re-read from this day (YYYY-MM-DD).")
