from __future__ import annotations

from django.db.models import QuerySet

from portal.api import ScopedReadOnlyViewSet
from profiles.api.serializers import AppSerializer, SpaceSerializer, UserProfileSerializer
from profiles.filtersets import AppFilterSet, SpaceFilterSet, UserProfileFilterSet
from profiles.models import App, Space, UserProfile


class UserProfileViewSet(ScopedReadOnlyViewSet):
    serializer_class = UserProfileSerializer
    filterset_class = UserProfileFilterSet

    def base_queryset(self) -> QuerySet:
        return UserProfile.objects.select_related("domain", "owner")


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
