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
    resolved = serializers.IntegerField()


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


class SeverityCountsSerializer(serializers.Serializer):
    high = serializers.IntegerField()
    medium = serializers.IntegerField()
    low = serializers.IntegerField()


class TrendPointSerializer(serializers.Serializer):
    """One day's posture snapshot of a domain."""

    day = serializers.DateField()
    open_high = serializers.IntegerField(source="high")
    open_medium = serializers.IntegerField(source="medium")
    open_low = serializers.IntegerField(source="low")
    accepted = serializers.IntegerField()
    classic_profiles = serializers.IntegerField(help_text="Profiles landing in Studio Classic.")
    classic_apps_running = serializers.IntegerField(help_text="JupyterServer and KernelGateway apps InService.")


class ClassicTrackerSerializer(serializers.Serializer):
    """The Studio Classic counters at the last and at the first snapshot of the window."""

    profiles = serializers.IntegerField(source="latest.classic_profiles")
    apps_running = serializers.IntegerField(source="latest.classic_apps_running")
    profiles_change = serializers.IntegerField(source="classic_profiles_change", help_text="Since the first day.")
    apps_running_change = serializers.IntegerField(source="classic_apps_change", help_text="Since the first day.")
    since = serializers.DateField(source="earliest.day")
    retired = serializers.BooleanField(source="classic_retired", help_text="Nobody lands in Classic, no app runs.")


class DomainPostureSerializer(serializers.Serializer):
    domain_id = serializers.CharField(source="domain.domain_id")
    name = serializers.CharField(source="domain.name")
    account_id = serializers.CharField(source="domain.account.account_id")
    region = serializers.CharField(source="domain.region")
    domain_wide = serializers.BooleanField(
        source="wide",
        help_text="True: the counts are the domain's and the trend is given. False: the counts are those of your own "
        "resources' findings, and the trend (which counts every finding) is not yours to read.",
    )
    open = serializers.SerializerMethodField()
    accepted = serializers.IntegerField()
    trend = TrendPointSerializer(many=True)
    classic = serializers.SerializerMethodField()

    @extend_schema_field(SeverityCountsSerializer)
    def get_open(self, posture: Any) -> dict[str, int]:
        return {"high": posture.open_high, "medium": posture.open_medium, "low": posture.open_low}

    @extend_schema_field(ClassicTrackerSerializer(allow_null=True))
    def get_classic(self, posture: Any) -> dict[str, Any] | None:
        return ClassicTrackerSerializer(posture).data if posture.trend else None


class OverviewSerializer(serializers.Serializer):
    """The answer of ``/api/governance/overview/``."""

    start = serializers.DateField(help_text="The first day of the trend window.")
    end = serializers.DateField(help_text="Today.")
    totals = serializers.DictField(child=serializers.IntegerField(), help_text="high, medium, low, accepted.")
    domains = DomainPostureSerializer(many=True)
    top_findings = FindingSerializer(many=True, help_text="Open findings, the highest severity and oldest first.")


class ShareSerializer(serializers.Serializer):
    enforced = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True, help_text="null when there is nothing to count.")


class DomainIdleSerializer(serializers.Serializer):
    domain_id = serializers.CharField(source="domain.domain_id")
    name = serializers.CharField(source="domain.name")
    account_id = serializers.CharField(source="domain.account.account_id")
    region = serializers.CharField(source="domain.region")
    profiles = ShareSerializer(help_text="Profiles with idle shutdown enabled for JupyterLab and Code Editor.")
    spaces = ShareSerializer(help_text="Spaces with idle shutdown enabled for their app type, as it applies.")
    app_idle_hours = serializers.IntegerField(source="policy.app_idle_hours")
    idle_apps = serializers.IntegerField()
    idle_cost = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="USD, priced apps only.")
    unpriced_apps = serializers.IntegerField(help_text="Idle apps whose instance type has no price.")


class IdleComplianceSerializer(serializers.Serializer):
    """The answer of ``/api/governance/idle-compliance/``."""

    at = serializers.DateTimeField(source="now")
    profiles = ShareSerializer()
    spaces = ShareSerializer()
    idle_apps = serializers.SerializerMethodField()
    idle_cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    unpriced_apps = serializers.IntegerField()
    prices_source = serializers.CharField()
    domains = DomainIdleSerializer(many=True)

    def get_idle_apps(self, report: Any) -> int:
        return len(report.apps)


class IdleAppSerializer(serializers.Serializer):
    arn = serializers.CharField(source="app.arn")
    app_type = serializers.CharField(source="app.app_type")
    name = serializers.CharField(source="app.name")
    user_profile_name = serializers.CharField(source="app.user_profile_name")
    space_name = serializers.CharField(source="app.space_name")
    instance_type = serializers.CharField(source="app.instance_type")
    domain_id = serializers.CharField(source="domain.domain_id")
    domain_name = serializers.CharField(source="domain.name")
    account_id = serializers.CharField(source="domain.account.account_id")
    region = serializers.CharField(source="domain.region")
    idle_since = serializers.DateTimeField()
    idle_since_source = serializers.CharField()
    hours_idle = serializers.IntegerField()
    threshold_hours = serializers.IntegerField(help_text="The domain policy's app_idle_hours.")
    severity = serializers.CharField()
    hourly_usd = serializers.DecimalField(source="hourly", max_digits=10, decimal_places=4, allow_null=True)
    idle_cost_usd = serializers.DecimalField(
        source="cost", max_digits=14, decimal_places=2, allow_null=True, help_text="null: no price for the type."
    )
    finding_id = serializers.IntegerField(allow_null=True, help_text="Its live CO-04 finding, once recorded.")


class IdleAppPageSerializer(serializers.Serializer):
    """A page of ``/api/governance/idle-apps/``."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = IdleAppSerializer(many=True)


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
