from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from domains.models import Person
from portal.api import ScopedReadOnlyViewSet, service_call
from profiles import services
from profiles.api.serializers import AppSerializer, LinkPersonSerializer, SpaceSerializer, UserProfileSerializer
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

    @extend_schema(request=LinkPersonSerializer, responses={200: UserProfileSerializer})
    @action(detail=True, methods=["post"], url_path="link-person")
    def link_person(self, request: Request, pk: str | None = None) -> Response:
        """Tie the profile to a person of the directory (platform admins and approvers of its domain), or with
        ``null`` give it back to the automatic match by SSO binding and owner tag. Audited."""
        profile = self.get_object()
        if not services.may_link_profile(request.user, profile):
            raise NotFound("No such profile action.")
        data = LinkPersonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        person = None
        if data.validated_data["person"] is not None:
            person = Person.objects.filter(pk=data.validated_data["person"]).first()
            if person is None:
                raise ValidationError({"person": ["No such person in the directory you can see."]})
        service_call(services.do_link_profile, profile, actor=request.user, person=person)
        return Response(UserProfileSerializer(self.base_queryset().get(pk=profile.pk)).data)


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
