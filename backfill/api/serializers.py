from __future__ import annotations

from rest_framework import serializers

from backfill.models import AttributionRule, BackfillItem, BackfillPlan, CostTagBackfill, LegacyResource


class EvidenceSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.JSONField()
    source = serializers.CharField()


class LegacyResourceSerializer(serializers.ModelSerializer):
    domain_id = serializers.CharField(source="domain.domain_id", read_only=True, default=None, allow_null=True)
    domain_name = serializers.CharField(source="domain.name", read_only=True, default=None, allow_null=True)
    tags = serializers.DictField(child=serializers.CharField(allow_blank=True), read_only=True)
    s3_uris = serializers.ListField(child=serializers.CharField(), read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)
    excepted_by = serializers.CharField(source="excepted_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = LegacyResource
        fields = [
            "id",
            "arn",
            "resource_type",
            "name",
            "account_id",
            "region",
            "aws_created_at",
            "tags",
            "role_arn",
            "s3_uris",
            "created_by_domain_id",
            "upstream_arn",
            "coverage",
            "domain_arn",
            "domain_id",
            "domain_name",
            "rule",
            "evidence",
            "why_unattributed",
            "excepted_reason",
            "excepted_by",
            "excepted_at",
            "first_seen",
            "last_seen",
        ]
        read_only_fields = fields


class ExceptSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class CoverageCountsSerializer(serializers.Serializer):
    """The coverage counts every level shares: per type, per domain and in total."""

    tagged = serializers.IntegerField()
    attributable = serializers.IntegerField(help_text="Untagged, with a domain decided: what the backfill tags.")
    unattributable = serializers.IntegerField()
    excepted = serializers.IntegerField()
    total = serializers.IntegerField()


class CoverageTypeSerializer(CoverageCountsSerializer):
    type = serializers.CharField()


class CoverageRowSerializer(CoverageCountsSerializer):
    domain_arn = serializers.CharField(help_text="Blank for the unattributed resources of an account and region.")
    name = serializers.CharField()
    account_id = serializers.CharField()
    region = serializers.CharField()
    percent = serializers.IntegerField(help_text="Tagged or excepted, in percent of the total.")
    by_type = CoverageTypeSerializer(many=True)


class CoverageTotalsSerializer(CoverageCountsSerializer):
    percent = serializers.IntegerField()


class CoverageSerializer(serializers.Serializer):
    totals = CoverageTotalsSerializer()
    results = CoverageRowSerializer(many=True)


class AttributionRuleSerializer(serializers.ModelSerializer):
    domain_id = serializers.CharField(source="domain.domain_id", read_only=True)
    domain_name = serializers.CharField(source="domain.name", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None, allow_null=True)
    resources = serializers.IntegerField(source="decided", read_only=True, help_text="Live resources it decides.")

    class Meta:
        model = AttributionRule
        fields = ["id", "kind", "prefix", "domain_id", "domain_name", "note", "created_by", "created_at", "resources"]
        read_only_fields = fields


class RuleInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AttributionRule.Kind.choices)
    prefix = serializers.CharField(max_length=512)
    domain_id = serializers.CharField(max_length=64)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    preview = serializers.BooleanField(
        required=False, default=False, help_text="Only show what the rule would change; save nothing."
    )


class PreviewSampleSerializer(serializers.Serializer):
    arn = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    rule = serializers.CharField()
    to = serializers.CharField()

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["from"] = serializers.CharField()
        return fields


class RulePreviewSerializer(serializers.Serializer):
    matched = serializers.IntegerField(help_text="Resources the rule would decide.")
    gained = serializers.IntegerField(help_text="Unattributed resources that would get a domain.")
    moved = serializers.IntegerField(help_text="Resources whose domain would change (through lineage).")
    by_type = serializers.DictField(child=serializers.IntegerField())
    sample = PreviewSampleSerializer(many=True)


class BackfillApprovalSerializer(serializers.Serializer):
    domain_arn = serializers.CharField()
    approver = serializers.CharField(source="approver.username")
    at = serializers.DateTimeField()


class BackfillPlanSerializer(serializers.ModelSerializer):
    scope_domain_id = serializers.CharField(
        source="scope_domain.domain_id", read_only=True, default=None, allow_null=True
    )
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None, allow_null=True)
    total = serializers.IntegerField(read_only=True)
    counts = serializers.JSONField(read_only=True, help_text="domains, domain_names, types, rules: resource counts.")
    domain_arns = serializers.ListField(child=serializers.CharField(), read_only=True)
    approvals = BackfillApprovalSerializer(many=True, read_only=True)
    run_id = serializers.IntegerField(source="run.pk", read_only=True, default=None, allow_null=True)

    class Meta:
        model = BackfillPlan
        fields = [
            "id",
            "status",
            "scope_domain_id",
            "domain_arns",
            "total",
            "counts",
            "approvals",
            "created_by",
            "created_at",
            "run_id",
            "finished_at",
        ]
        read_only_fields = fields


class BackfillPlanInputSerializer(serializers.Serializer):
    domain_id = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="Plan one domain only; blank for every domain."
    )


class BackfillItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = BackfillItem
        fields = ["arn", "resource_type", "name", "account_id", "region", "domain_arn", "rule", "status", "detail"]
        read_only_fields = fields


class CostTagBackfillSerializer(serializers.ModelSerializer):
    payer = serializers.CharField(source="payer.account_id", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, default=None, allow_null=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = CostTagBackfill
        fields = [
            "id",
            "payer",
            "backfill_from",
            "reason",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "aws_status",
            "aws_requested_at",
            "aws_completed_at",
            "aws_updated_at",
            "last_error",
        ]
        read_only_fields = fields


class CostTagBackfillInputSerializer(serializers.Serializer):
    payer = serializers.CharField(max_length=12, help_text="The payer account's 12-digit id.")
    backfill_from = serializers.DateField(help_text="The first day of a month, at most 12 months back.")
    reason = serializers.CharField(max_length=500)


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
