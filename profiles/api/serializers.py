from __future__ import annotations

from rest_framework import serializers

from profiles.models import App, Space, UserProfile


class LinkPersonSerializer(serializers.Serializer):
    person = serializers.IntegerField(
        allow_null=True, help_text="The directory's person id; null gives the profile back to the automatic match."
    )


class UserProfileSerializer(serializers.ModelSerializer):
    domain_id = serializers.CharField(source="domain.domain_id", read_only=True)
    domain_arn = serializers.CharField(source="domain.arn", read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True, default=None, allow_null=True)
    person_name = serializers.CharField(source="person.display_name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = UserProfile
        fields = [
            "id",
            "arn",
            "name",
            "domain_id",
            "domain_arn",
            "status",
            "owner",
            "person",
            "person_name",
            "person_source",
            "sso_user_value",
            "execution_role",
            "landing_uri",
            "studio_web_portal",
            "hidden_app_types",
            "hidden_ml_tools",
            "hidden_instance_types",
            "idle_shutdown",
            "idle_timeout_minutes",
            "tags",
            "first_seen",
            "last_changed",
            "removed_at",
            "aws_created_at",
            "aws_modified_at",
        ]
        read_only_fields = fields


class SpaceSerializer(serializers.ModelSerializer):
    domain_id = serializers.CharField(source="domain.domain_id", read_only=True)
    domain_arn = serializers.CharField(source="domain.arn", read_only=True)

    class Meta:
        model = Space
        fields = [
            "id",
            "arn",
            "name",
            "display_name",
            "domain_id",
            "domain_arn",
            "sharing_type",
            "owner_profile_name",
            "app_type",
            "instance_type",
            "ebs_size_gb",
            "idle_timeout_minutes",
            "status",
            "tags",
            "first_seen",
            "last_changed",
            "removed_at",
            "aws_created_at",
            "aws_modified_at",
        ]
        read_only_fields = fields


class AppSerializer(serializers.ModelSerializer):
    domain_id = serializers.CharField(source="domain.domain_id", read_only=True)

    class Meta:
        model = App
        fields = [
            "id",
            "arn",
            "name",
            "app_type",
            "domain_id",
            "user_profile_name",
            "space_name",
            "status",
            "instance_type",
            "aws_created_at",
            "last_user_activity",
            "first_seen",
            "last_changed",
            "removed_at",
        ]
        read_only_fields = fields
