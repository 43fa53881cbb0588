from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from iamaccess.generator import POLICY_KINDS
from iamaccess.models import ExecutionRole, RoleUse


class ExecutionRoleSerializer(serializers.ModelSerializer):
    """An execution role: where it is, what it acts for (counts, and the domains you manage), the probes' outcome."""

    account_id = serializers.CharField(source="aws_account_id", read_only=True)
    domains = serializers.SerializerMethodField(help_text="Ids of the domains (that you manage) the role acts in.")
    summary = serializers.JSONField(
        read_only=True, help_text="Probe outcomes counted: allowed, conditional, explicitDeny, implicitDeny."
    )
    simulated_at = serializers.DateTimeField(source="evaluation.evaluated_at", read_only=True, allow_null=True)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_domains(self, role: ExecutionRole) -> list[str]:
        return self.context.get("domains_by_role", {}).get(role.pk, [])

    class Meta:
        model = ExecutionRole
        fields = [
            "id",
            "arn",
            "name",
            "account_id",
            "domains",
            "profile_count",
            "space_count",
            "policy_hash",
            "read_at",
            "policies_changed_at",
            "read_error",
            "simulated_at",
            "summary",
        ]


class RoleUseSerializer(serializers.ModelSerializer):
    domain_id = serializers.CharField(source="domain.domain_id", read_only=True)
    name = serializers.CharField(source="target_name", read_only=True)
    arn = serializers.SerializerMethodField()

    def get_arn(self, use: RoleUse) -> str:
        if use.profile_id:
            return use.profile.arn
        if use.space_id:
            return use.space.arn
        return use.domain.arn

    class Meta:
        model = RoleUse
        fields = ["domain_id", "kind", "name", "arn", "source"]


class ProbeResultSerializer(serializers.Serializer):
    domain_id = serializers.CharField()
    subject = serializers.CharField(help_text='"app:Canvas", "tool:Endpoints", "instance:ml.p3.2xlarge", ...')
    label = serializers.CharField()
    action = serializers.CharField()
    resource = serializers.CharField()
    context = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    decision = serializers.CharField(help_text="IAM's: allowed, implicitDeny or explicitDeny.")
    outcome = serializers.CharField(help_text="The decision, or conditional for a deny that rests on missing context.")
    matched = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    missing = serializers.ListField(child=serializers.CharField())


class ExecutionRoleDetailSerializer(ExecutionRoleSerializer):
    policies = serializers.JSONField(read_only=True, help_text="inline, attached and boundary policies as read.")
    uses = serializers.SerializerMethodField()
    probes = serializers.SerializerMethodField()
    finding_ids = serializers.SerializerMethodField()

    @extend_schema_field(RoleUseSerializer(many=True))
    def get_uses(self, role: ExecutionRole) -> list[dict[str, Any]]:
        return RoleUseSerializer(self.context.get("uses", []), many=True).data

    @extend_schema_field(ProbeResultSerializer(many=True))
    def get_probes(self, role: ExecutionRole) -> list[dict[str, Any]]:
        return ProbeResultSerializer(self.context.get("probes", []), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_finding_ids(self, role: ExecutionRole) -> list[int]:
        return [f.pk for f in self.context.get("findings", [])]

    class Meta(ExecutionRoleSerializer.Meta):
        fields = [*ExecutionRoleSerializer.Meta.fields, "policies", "uses", "probes", "finding_ids"]


class ReviewRequestSerializer(serializers.Serializer):
    domain = serializers.CharField(
        required=False,
        max_length=64,
        help_text="A domain id (d-...) you approve for; without it every domain is reviewed (platform admins).",
    )


class GeneratedPolicyRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=POLICY_KINDS)
    domain = serializers.CharField(max_length=64, help_text="A domain id (d-...) the role acts in and you manage.")
    instance_types = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=50,
        help_text="Policy (c): the team's instance types (wildcards allowed); default: the persona's, if any.",
    )


class ChangedProbeSerializer(serializers.Serializer):
    label = serializers.CharField()
    action = serializers.CharField()
    before = serializers.CharField()
    outcome = serializers.CharField()


class NewlyDeniedSerializer(serializers.Serializer):
    app_type = serializers.CharField()
    instance_type = serializers.CharField(allow_blank=True)
    label = serializers.CharField()
    used_by = serializers.ListField(child=serializers.CharField(), help_text="Profiles and spaces that ran it.")
    outcome = serializers.CharField(help_text="The decision with the policy: explicitDeny or implicitDeny.")


class PolicySimulationSerializer(serializers.Serializer):
    calls = serializers.IntegerField()
    changed = ChangedProbeSerializer(many=True)
    newly_denied = NewlyDeniedSerializer(
        many=True,
        help_text="Apps and instance types the role's profiles and spaces used in the last 30 days (as the inventory "
        "saw them) that the role allows now and would deny with the policy.",
    )
    closes = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the findings it would close.")


class GeneratedPolicySerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField()
    domain_id = serializers.CharField()
    document = serializers.JSONField()
    valid = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField())
    size = serializers.IntegerField(help_text="Characters without whitespace; IAM allows 6,144 for a managed policy.")
    terraform = serializers.CharField()
    cloudformation = serializers.CharField()
    simulation = PolicySimulationSerializer(required=False, allow_null=True)
    apply_unavailable = serializers.CharField(
        allow_blank=True,
        help_text="Why the policy cannot be proposed as a change set here (empty: POST .../policy/change-set/ can).",
    )


class LockoutTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    asked = serializers.IntegerField(help_text="Resources of this type without the domain's tag, asked about.")
    denied = serializers.IntegerField(help_text="Of those, the ones the isolation policy would deny.")
    actions = serializers.ListField(child=serializers.CharField(), help_text="The actions denied.")


class LockedOutResourceSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", help_text="The legacy resource (/api/backfill/resources/<id>/).")
    arn = serializers.CharField()
    type = serializers.CharField()
    name = serializers.CharField()
    coverage = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())


class RolloutRoleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    arn = serializers.CharField()
    policy_url = serializers.CharField(
        help_text="The generated isolation policy for this role (GET, or POST to simulate it with the role's probes)."
    )


class RolloutCoverageSerializer(serializers.Serializer):
    tagged = serializers.IntegerField()
    attributable = serializers.IntegerField()
    unattributable = serializers.IntegerField()
    excepted = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField()
    unattributed_nearby = serializers.IntegerField(
        help_text="Unattributed resources of the domain's account and region, undecided (they may be the domain's)."
    )
    excepted_nearby = serializers.IntegerField()
    left = serializers.IntegerField(help_text="Resources still to tag, attribute or except.")
    complete = serializers.BooleanField()


class IsolationRolloutSerializer(serializers.Serializer):
    domain_id = serializers.CharField()
    domain_name = serializers.CharField()
    domain_arn = serializers.CharField()
    coverage = RolloutCoverageSerializer()
    ready = serializers.BooleanField(help_text="Coverage is complete: the isolation policy is offered.")
    lockout_error = serializers.CharField(help_text="Why IAM's policy simulator could not be asked (else empty).")
    asked = serializers.IntegerField(allow_null=True, help_text="Resources without the domain's tag.")
    denied = serializers.IntegerField(allow_null=True, help_text="Of those, what the policy would lock out now.")
    simulate_calls = serializers.IntegerField(allow_null=True, help_text="SimulateCustomPolicy calls it took.")
    by_type = LockoutTypeSerializer(many=True)
    roles = RolloutRoleSerializer(many=True)
    policy = serializers.JSONField(allow_null=True, help_text="The isolation policy, once ready (else null).")
    policy_errors = serializers.ListField(child=serializers.CharField())
