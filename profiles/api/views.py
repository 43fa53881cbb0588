from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from portal.api import ScopedReadOnlyViewSet
from profiles.api.serializers import AppSerializer, SpaceSerializer, UserProfileSerializer
from profiles.filtersets import AppFilterSet, SpaceFilterSet, UserProfileFilterSet
from profiles.models import App, Space, UserProfile
from profiles.studio import StudioAccessError, studio_url_for


class UserProfileViewSet(ScopedReadOnlyViewSet):
    serializer_class = UserProfileSerializer
    filterset_class = UserProfileFilterSet

    def base_queryset(self) -> QuerySet:
        return UserProfile.objects.select_related("domain", "domain__account", "owner", "person")

    @extend_schema(request=None, responses={200: inline_serializer("StudioUrl", {"url": serializers.URLField()})})
    @action(detail=True, methods=["post"], url_path="open-studio")
    def open_studio(self, request: Request, pk: str | None = None) -> Response:
        """A link that opens Studio on your own profile (presigned on IAM domains, the access portal on SSO)."""
        try:
            return Response({"url": studio_url_for(self.get_object(), request.user)})
        except StudioAccessError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from exc


class SpaceViewSet(ScopedReadOnlyViewSet):
    serializer_class = SpaceSerializer
    filterset_class = SpaceFilterSet

    def base_queryset(self) -> QuerySet:
        return Space.objects.select_related("domain")


class AppViewSet(ScopedReadOnlyViewSet):
    serializer_class = AppSerializer
    filterset_class = AppFilterSet

    def base_queryset(self) -> QuerySet:
        return App.objects.select_related("domain")
