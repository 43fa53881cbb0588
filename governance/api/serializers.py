from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.fixes import PLANNERS
from governance.models import Finding, FindingEvent, GovernancePolicy


class FindingEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = FindingEvent
        fields = ["at", "event", "status", "actor_label", "note"]


class FindingSerializer(serializers.ModelSerializer):
    domain_id = serializers.CharField(source="domain.domain_id", read_only=True)
    domain_name = serializers.CharField(source="domain.name", read_only=True)
    account_id = serializers.CharField(source="domain.account.account_id", read_only=True)
    evidence = serializers.JSONField(read_only=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "check_id",
            "severity",
            "status",
            "resource_kind",
            "resource_arn",
            "resource_name",
            "domain_id",
            "domain_name",
            "account_id",
            "details",
            "evidence",
            "fix",
            "fix_plannable",
            "first_seen",
            "last_seen",
            "resolved_at",
            "accepted_reason",
            "accepted_until",
        ]
        read_only_fields = fields


class FindingDetailSerializer(FindingSerializer):
    history = FindingEventSerializer(source="events", many=True, read_only=True)

    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "history"]
        read_only_fields = fields


class AcceptSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    until = serializers.DateField()


class CheckSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    severity = serializers.CharField(help_text="high, medium, low, or 'varies' (high on GPU instances).")
    reads = serializers.ListField(child=serializers.CharField())
    docs = serializers.CharField()
    fixable = serializers.BooleanField()
    fix = serializers.CharField()
    open = serializers.IntegerField(help_text="Open findings you may see.")
    accepted = serializers.IntegerField()


class PolicySerializer(serializers.ModelSerializer):
    domain_id = serializers.CharField(source="domain.domain_id", read_only=True)
    gpu_families = serializers.ListField(child=serializers.CharField(max_length=32), max_length=20)
    required_tags = serializers.ListField(child=serializers.CharField(max_length=128), max_length=50)

    class Meta:
        model = GovernancePolicy
        fields = [
            "domain_id",
            "idle_timeout_cap_minutes",
            "app_idle_hours",
            "gpu_families",
            "required_tags",
            "regulated",
        ]


class ProposeFixSerializer(serializers.Serializer):
    """Which findings to fix: their numbers, or a check and a domain (every open finding of the check there that no
    pending change set fixes yet)."""

    findings = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        max_length=1000,
        help_text="Finding numbers, all of one domain.",
    )
    check = serializers.ChoiceField(
        choices=sorted(PLANNERS), required=False, help_text="A check a change set can fix, e.g. CO-01 (with domain)."
    )
    domain = serializers.CharField(required=False, max_length=400, help_text="The domain's id (d-...) or ARN.")
    tag_values = serializers.DictField(
        child=serializers.CharField(max_length=256),
        required=False,
        help_text='TG-03: a value for each required tag the domain lacks, e.g. {"cost-center": "CC-1"}.',
    )
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="Default: says what.")
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Answer the plan without proposing anything."
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        by_number = bool(data.get("findings"))
        by_check = "check" in data or "domain" in data
        if by_number and by_check:
            raise serializers.ValidationError("Give findings, or check and domain, not both.")
        if not by_number and not (data.get("check") and data.get("domain")):
            raise serializers.ValidationError("Give findings (their numbers), or both check and domain.")
        return data


class PlannedCallSerializer(serializers.Serializer):
    operation = serializers.CharField()
    resource_arn = serializers.CharField()
    resource_kind = serializers.CharField()
    request = serializers.DictField(help_text="The exact parameters of the boto3 call.")
    before = serializers.DictField()
    after = serializers.DictField()
    restarts = serializers.ListField(child=serializers.CharField())
    needs_no_running_apps = serializers.BooleanField()
    monthly_saving = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class FixPlanSerializer(serializers.Serializer):
    """The change set a fix would propose (``dry_run``), nothing stored."""

    domain = serializers.CharField(source="domain.arn")
    domain_id = serializers.CharField(source="domain.domain_id")
    domain_name = serializers.CharField(source="domain.name")
    title = serializers.CharField()
    origin = serializers.CharField()
    check_ids = serializers.ListField(child=serializers.CharField())
    findings = serializers.SerializerMethodField()
    changes = PlannedCallSerializer(many=True)
    restarts = serializers.ListField(source="restart_arns", child=serializers.CharField())
    monthly_saving = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    needs_no_running_apps = serializers.BooleanField()
    digest = serializers.CharField(help_text="Fingerprint of the plan's calls.")

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_findings(self, plan: Any) -> list[int]:
        return [f.pk for f in plan.findings]
