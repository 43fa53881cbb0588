"""Serializers of the change-set API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from changesets.models import Change, ChangeSet
from changesets.planning import OPERATIONS, RESOURCE_KINDS
from domains.models import Domain


class ChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Change
        fields = [
            "position",
            "operation",
            "resource_arn",
            "resource_kind",
            "request",
            "before",
            "after",
            "restarts",
            "needs_no_running_apps",
            "monthly_saving",
            "status",
            "attempts",
            "last_error",
            "applied_at",
        ]


class ChangeSetSerializer(serializers.ModelSerializer):
    domain = serializers.SlugRelatedField(slug_field="arn", read_only=True)
    domain_name = serializers.CharField(source="domain.name", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None, allow_null=True)
    proposed_by = serializers.CharField(source="proposed_by_label", read_only=True)
    ref = serializers.CharField(read_only=True)
    changes = ChangeSerializer(many=True, read_only=True)

    class Meta:
        model = ChangeSet
        fields = [
            "id",
            "ref",
            "domain",
            "domain_name",
            "title",
            "origin",
            "finding_ids",
            "status",
            "proposed_by",
            "decided_by",
            "decided_at",
            "reason",
            "monthly_saving",
            "created_at",
            "finished_at",
            "progress",
            "error",
            "attempts",
            "wait_until",
            "changes",
        ]


class PlannedChangeSerializer(serializers.Serializer):
    """One planned AWS call; the service checks it against the inventory and botocore's model."""

    operation = serializers.ChoiceField(choices=OPERATIONS)
    resource_arn = serializers.CharField(max_length=400)
    resource_kind = serializers.ChoiceField(choices=RESOURCE_KINDS)
    request = serializers.DictField(help_text="The exact parameters of the boto3 call.")
    before = serializers.DictField(required=False, default=dict)
    after = serializers.DictField(
        required=False, default=dict, help_text="Field path (of the Describe answer) to value."
    )
    restarts = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    needs_no_running_apps = serializers.BooleanField(required=False, default=False)
    monthly_saving = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)


class ChangeSetCreateSerializer(serializers.Serializer):
    domain = serializers.SlugRelatedField(
        slug_field="arn", queryset=Domain.objects.filter(removed_at__isnull=True), help_text="The domain's ARN."
    )
    title = serializers.CharField(max_length=200)
    origin = serializers.CharField(max_length=100, required=False, default="")
    finding_ids = serializers.ListField(child=serializers.JSONField(), required=False, default=list)
    changes = serializers.ListField(child=serializers.DictField(), allow_empty=True)

    def validate_changes(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cleaned, errors = [], {}
        for i, item in enumerate(value):
            one = PlannedChangeSerializer(data=item)
            if one.is_valid():
                cleaned.append(dict(one.validated_data))
            else:
                errors[f"changes[{i}]"] = one.errors
        if errors:
            raise serializers.ValidationError(errors)
        return cleaned


class ChangeSetReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
