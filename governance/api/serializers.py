from __future__ import annotations

from rest_framework import serializers

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
