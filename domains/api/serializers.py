from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from domains import services
from domains.forms import AwsAccountForm
from domains.models import AwsAccount, Domain, IdentityCenterUser, Person, PersonMatch


class AwsAccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = AwsAccount
        fields = [
            "id",
            "account_id",
            "name",
            "regions",
            "role_arn",
            "external_id",
            "is_payer",
            "enabled",
            "portal_writes_iam",
            "created_at",
            "last_verified_at",
            "verified_identity",
        ]
        read_only_fields = ["id", "created_at", "last_verified_at", "verified_identity"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The page's form holds the rules (id format, duplicates); the model's clean() the rest, in the service.
        data = {**({} if self.instance is None else AwsAccountForm(instance=self.instance).initial), **attrs}
        if isinstance(data.get("regions"), list):
            data["regions"] = ", ".join(data["regions"])
        form = AwsAccountForm(data, instance=self.instance)
        if not form.is_valid():
            raise serializers.ValidationError(
                {("non_field_errors" if k == "__all__" else k): v for k, v in form.errors.items()}
            )
        return {k: v for k, v in form.cleaned_data.items() if k in attrs or self.instance is None}

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> AwsAccount:
        try:
            return fn(*args, **kwargs)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        except services.AccountAccessError as exc:
            raise serializers.ValidationError({"non_field_errors": [str(exc)]}) from exc

    def create(self, validated_data: dict[str, Any]) -> AwsAccount:
        return self._call(services.do_add_account, actor=self.context["request"].user, **validated_data)

    def update(self, instance: AwsAccount, validated_data: dict[str, Any]) -> AwsAccount:
        return self._call(services.do_update_account, instance, actor=self.context["request"].user, **validated_data)


class DomainSerializer(serializers.ModelSerializer):
    account_id = serializers.CharField(source="account.account_id", read_only=True)
    profile_count = serializers.IntegerField(read_only=True)
    space_count = serializers.IntegerField(read_only=True)
    running_app_count = serializers.IntegerField(read_only=True)
    last_synced_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Domain
        fields = [
            "id",
            "arn",
            "domain_id",
            "name",
            "account_id",
            "region",
            "status",
            "auth_mode",
            "network_access_type",
            "vpc_id",
            "subnet_ids",
            "default_execution_role",
            "studio_experience",
            "tag_propagation",
            "url",
            "tags",
            "settings_snapshot",
            "profile_count",
            "space_count",
            "running_app_count",
            "first_seen",
            "last_changed",
            "removed_at",
            "last_synced_at",
            "aws_created_at",
            "aws_modified_at",
        ]
        read_only_fields = fields


class SyncRequestSerializer(serializers.Serializer):
    account = serializers.RegexField(r"^\d{12}$", required=False, help_text="Only this AWS account id.")
    region = serializers.CharField(required=False, help_text="Only this region (with account).")
    domain = serializers.CharField(required=False, help_text="Only this domain id (d-...).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("domain") and (attrs.get("account") or attrs.get("region")):
            raise serializers.ValidationError("Give either a domain, or an account (and region), not both.")
        return attrs


class IdentityCenterUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = IdentityCenterUser
        fields = ["identity_store_id", "user_id", "user_name", "display_name", "email", "groups", "removed_at"]
        read_only_fields = fields


class PersonProfileSerializer(serializers.Serializer):
    """A profile of the person (one the caller may see), in any domain."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    arn = serializers.CharField()
    domain_id = serializers.CharField(source="domain.domain_id")
    domain_name = serializers.CharField(source="domain.name")
    person_source = serializers.CharField()
    sso_user_value = serializers.CharField()


class PersonSerializer(serializers.ModelSerializer):
    portal_login = serializers.CharField(source="portal_user.username", default=None, allow_null=True, read_only=True)
    ambiguous = serializers.BooleanField(read_only=True)
    identity_users = IdentityCenterUserSerializer(many=True, read_only=True)
    profiles = PersonProfileSerializer(source="visible_profiles", many=True, read_only=True)
    columns = serializers.SerializerMethodField(
        help_text="What other apps add per person, by key: spend (this month, USD) and findings (open)."
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "display_name",
            "email",
            "user_name",
            "status",
            "left_at",
            "ambiguous",
            "portal_login",
            "identity_users",
            "profiles",
            "columns",
        ]
        read_only_fields = fields

    def get_columns(self, person: Person) -> dict[str, Any]:
        return {column.key: value for column, value in getattr(person, "column_values", [])}


class PersonMatchSerializer(serializers.ModelSerializer):
    candidates = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = PersonMatch
        fields = ["id", "subject", "key", "label", "reason", "candidates", "status", "chosen", "resolved_at"]
        read_only_fields = fields


class ResolveMatchSerializer(serializers.Serializer):
    person = serializers.IntegerField(help_text="The id of one of the match's candidates.")
