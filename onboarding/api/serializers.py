"""Serializers of the onboarding API: read shapes of requests and plans, write shapes of what people submit."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from domains.models import Domain, Person
from onboarding import services
from onboarding.models import (
    Offboarding,
    OffboardingStep,
    PersonaTemplate,
    ProfileRequest,
    SpacePolicy,
    SpaceRequest,
)
from onboarding.services import PERSONA_FIELDS
from portal.pricing import HOURLY_USD
from portal.scoping import MANAGE, REQUEST_PROFILE, REQUEST_SPACE, grants_for
from portal.validation import EBS_SIZE_GB, IDLE_TIMEOUT_MINUTES

LIVE_DOMAINS = Domain.objects.filter(removed_at__isnull=True)
USERS = get_user_model().objects.filter(is_active=True)
REQUEST_FIELDS = [
    "id",
    "request_id",
    "domain",
    "domain_name",
    "status",
    "requested_by",
    "created_at",
    "updated_at",
    "decided_by",
    "decided_at",
    "decision_reason",
    "auto_approved",
    "progress",
    "error",
    "attempts",
    "heartbeat_at",
    "is_stalled",
    "finished_at",
]


def scoped_domains(user: Any, *actions: str) -> QuerySet:
    """Live domains where ``user`` may do one of ``actions``: what a write may name. Any other ARN answers as if it
    did not exist, so a write never tells whether a domain the caller may not act in exists (or its name)."""
    allowed = Domain.objects.none()
    for action in actions:
        allowed |= Domain.objects.restrict(user, action)
    return allowed.filter(removed_at__isnull=True)


class ScopedWriteSerializer(serializers.Serializer):
    """A write serializer whose choices come from the caller's scope (``context["request"].user``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.scope_fields(request.user)

    def scope_fields(self, user: Any) -> None:
        raise NotImplementedError


class RequestSerializer(serializers.ModelSerializer):
    domain = serializers.SlugRelatedField(slug_field="arn", read_only=True)
    domain_name = serializers.CharField(source="domain.name", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None, allow_null=True)
    request_id = serializers.CharField(read_only=True)
    is_stalled = serializers.BooleanField(
        read_only=True, help_text="A task should be on it but its heartbeat stopped: approvers may retry it now."
    )


class ProfileRequestSerializer(RequestSerializer):
    person = serializers.CharField(source="person.username", read_only=True)
    template = serializers.PrimaryKeyRelatedField(read_only=True)
    template_name = serializers.CharField(source="template.name", read_only=True)

    class Meta:
        model = ProfileRequest
        fields = [
            *REQUEST_FIELDS,
            "person",
            "template",
            "template_name",
            "profile_name",
            "sso_user_name",
            "justification",
            "profile",
            "profile_arn",
        ]
        read_only_fields = fields


class ProfileRequestCreateSerializer(ScopedWriteSerializer):
    domain = serializers.SlugRelatedField(slug_field="arn", queryset=LIVE_DOMAINS, help_text="The domain's ARN.")
    template = serializers.PrimaryKeyRelatedField(queryset=PersonaTemplate.objects.all(), help_text="Persona id.")
    person = serializers.SlugRelatedField(
        slug_field="username",
        queryset=USERS,
        required=False,
        help_text="On someone's behalf (admins and approvers); yourself if left out.",
    )
    sso_user_name = serializers.CharField(required=False, allow_blank=True, max_length=128)
    justification = serializers.CharField(required=False, allow_blank=True, max_length=1000)

    def scope_fields(self, user: Any) -> None:
        domains = scoped_domains(user, REQUEST_PROFILE, MANAGE)
        self.fields["domain"].queryset = domains
        self.fields["template"].queryset = PersonaTemplate.objects.filter(domain__in=domains)
        # Only admins and approvers ask on someone's behalf; anyone else may name only themselves.
        self.fields["person"].queryset = USERS if grants_for(user).domains_for(MANAGE) else USERS.filter(pk=user.pk)


class SpaceRequestSerializer(RequestSerializer):
    owner_profile = serializers.CharField(source="owner_profile.name", read_only=True)

    class Meta:
        model = SpaceRequest
        fields = [
            *REQUEST_FIELDS,
            "space_name",
            "display_name",
            "app_type",
            "instance_type",
            "ebs_size_gb",
            "idle_timeout_minutes",
            "expires_on",
            "purpose",
            "estimated_monthly_usd",
            "owner_profile",
            "space",
            "space_arn",
            "reminded_at",
        ]
        read_only_fields = fields


class SpaceRequestCreateSerializer(ScopedWriteSerializer):
    domain = serializers.SlugRelatedField(slug_field="arn", queryset=LIVE_DOMAINS, help_text="The domain's ARN.")
    space_name = serializers.CharField(max_length=63)
    display_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    app_type = serializers.ChoiceField(choices=["JupyterLab", "CodeEditor"])
    instance_type = serializers.ChoiceField(choices=sorted(HOURLY_USD))
    ebs_size_gb = serializers.IntegerField(**EBS_SIZE_GB.field_kwargs())
    idle_timeout_minutes = serializers.IntegerField(**IDLE_TIMEOUT_MINUTES.field_kwargs(), default=60)
    expires_on = serializers.DateField()
    purpose = serializers.CharField(max_length=1000)

    def scope_fields(self, user: Any) -> None:
        self.fields["domain"].queryset = scoped_domains(user, REQUEST_SPACE)


class EstimateQuerySerializer(serializers.Serializer):
    """What ``estimate/`` reads from the query string."""

    instance_type = serializers.ChoiceField(choices=sorted(HOURLY_USD))
    ebs_size_gb = serializers.IntegerField(**EBS_SIZE_GB.field_kwargs())
    region = serializers.CharField(required=False, default="us-east-1", max_length=32)


class EstimateSerializer(serializers.Serializer):
    instance_type = serializers.CharField()
    ebs_size_gb = serializers.IntegerField()
    hourly = serializers.DecimalField(max_digits=10, decimal_places=4)
    hours = serializers.IntegerField()
    compute = serializers.DecimalField(max_digits=10, decimal_places=2)
    storage = serializers.DecimalField(max_digits=10, decimal_places=2)
    total = serializers.DecimalField(max_digits=10, decimal_places=2)
    prices_source = serializers.CharField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class ExtendSerializer(serializers.Serializer):
    expires_on = serializers.DateField()


class PersonaRoleCheckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["enforced", "leaks", "unknown"])
    message = serializers.CharField()
    leaks = serializers.ListField(child=serializers.DictField(), help_text="{subject, label, actions} still allowed.")
    deny = serializers.JSONField(allow_null=True, help_text="A policy whose deny statements would enforce it.")
    role_url = serializers.CharField(allow_blank=True)


class PersonaTemplateSerializer(serializers.ModelSerializer):
    domain = serializers.SlugRelatedField(slug_field="arn", queryset=LIVE_DOMAINS)
    role_check = serializers.SerializerMethodField(
        help_text="On one persona (read, create, update): whether its execution role enforces what it hides, from "
        "the last IAM review; a warning, never a refusal. Null in lists."
    )

    class Meta:
        model = PersonaTemplate
        fields = ["id", "domain", *PERSONA_FIELDS, "created_at", "updated_at", "role_check"]
        read_only_fields = ["id", "created_at", "updated_at"]

    @extend_schema_field(PersonaRoleCheckSerializer(allow_null=True))
    def get_role_check(self, persona: PersonaTemplate) -> dict[str, Any] | None:
        view = self.context.get("view")
        if view is None or getattr(view, "action", "") == "list":
            return None
        return services.persona_role_check(persona)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["domain"].queryset = scoped_domains(request.user, MANAGE)

    def validate_domain(self, value: Domain) -> Domain:
        if self.instance is not None and value.pk != self.instance.domain_id:
            raise serializers.ValidationError("A persona stays in its domain; create a new one instead.")
        return value


class SpacePolicySerializer(serializers.ModelSerializer):
    domain = serializers.SlugRelatedField(slug_field="arn", read_only=True)

    class Meta:
        model = SpacePolicy
        fields = [
            "id",
            "domain",
            "allowed_instance_types",
            "max_ebs_gb",
            "max_days",
            "auto_approve_quota",
            "updated_at",
        ]
        read_only_fields = ["id", "domain", "updated_at"]


class SpacePolicyCreateSerializer(SpacePolicySerializer):
    domain = serializers.SlugRelatedField(slug_field="arn", queryset=LIVE_DOMAINS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["domain"].queryset = scoped_domains(request.user, MANAGE)

    class Meta(SpacePolicySerializer.Meta):
        read_only_fields = ["id", "updated_at"]


class OffboardingStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = OffboardingStep
        fields = [
            "position",
            "action",
            "domain_arn",
            "domain_name",
            "target",
            "resource_arn",
            "state",
            "message",
            "done_at",
        ]
        read_only_fields = fields


class PlannedStepSerializer(serializers.Serializer):
    action = serializers.CharField()
    domain_arn = serializers.CharField()
    domain_name = serializers.CharField()
    target = serializers.CharField()
    resource_arn = serializers.CharField()


class OffboardingSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="person.pk", read_only=True, help_text="The directory's person id.")
    person_name = serializers.CharField(source="person.display_name", read_only=True)
    login = serializers.CharField(source="login.username", read_only=True, default=None, allow_null=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None, allow_null=True)
    request_id = serializers.CharField(read_only=True)
    is_stalled = serializers.BooleanField(
        read_only=True, help_text="A task should be on it but its heartbeat stopped: approvers may retry it now."
    )
    steps = OffboardingStepSerializer(many=True, read_only=True)

    class Meta:
        model = Offboarding
        fields = [
            "id",
            "request_id",
            "person",
            "person_name",
            "login",
            "close_login",
            "keep_login_reason",
            "reason",
            "status",
            "requested_by",
            "created_at",
            "decided_by",
            "decided_at",
            "progress",
            "error",
            "attempts",
            "heartbeat_at",
            "is_stalled",
            "finished_at",
            "steps",
        ]
        read_only_fields = fields


class DirectoryPersonField(serializers.CharField):
    """A person of the directory by id, or a portal login's user name (whose person it finds or adds)."""

    def to_internal_value(self, data: Any) -> Any:
        value = str(super().to_internal_value(data)).strip()
        if value.isdigit():
            person = Person.objects.filter(pk=int(value)).first()
            if person is None:
                raise serializers.ValidationError("No such person in the directory.")
            return person
        user = USERS.filter(username=value).first()
        if user is None:
            raise serializers.ValidationError("No such person in the directory, nor a portal login of that name.")
        return user


class OffboardingCreateSerializer(serializers.Serializer):
    person = DirectoryPersonField(help_text="The directory's person id (or a portal login's user name).")
    reason = serializers.CharField(max_length=1000)
    close_login = serializers.BooleanField(
        default=True,
        help_text="The final step: remove the person's portal roles, revoke their API tokens, deactivate their "
        "login. Only a platform admin may turn it off, with keep_login_reason.",
    )
    keep_login_reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class ProposedLeaverSerializer(serializers.ModelSerializer):
    """A person who left the directory and still has profiles (or an active login): proposed for offboarding."""

    live_profiles = serializers.IntegerField(read_only=True, help_text="Live profiles in the domains you approve in.")
    login = serializers.CharField(source="portal_user.username", read_only=True, default=None, allow_null=True)
    login_active = serializers.SerializerMethodField()
    plan_url = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = [
            "id",
            "display_name",
            "email",
            "user_name",
            "left_at",
            "live_profiles",
            "login",
            "login_active",
            "plan_url",
        ]
        read_only_fields = fields

    def get_login_active(self, person: Person) -> bool:
        return bool(person.portal_user_id and person.portal_user.is_active)

    def get_plan_url(self, person: Person) -> str:
        return f"{reverse('onboarding:offboarding-new')}?person={person.pk}"
