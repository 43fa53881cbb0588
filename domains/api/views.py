from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from domains import people
from domains.api.serializers import (
    AwsAccountSerializer,
    DomainSerializer,
    PersonMatchSerializer,
    PersonSerializer,
    ResolveMatchSerializer,
    SyncRequestSerializer,
)
from domains.filtersets import AwsAccountFilterSet, DomainFilterSet, PersonFilterSet, PersonMatchFilterSet
from domains.models import AwsAccount, Domain, Person, PersonMatch
from domains.people_views import column_values, with_directory
from domains.sync import INVENTORY_SYNC, SyncScopeError, start_inventory_sync
from domains.views import with_member_counts
from portal.api import ScopedReadOnlyViewSet, ScopedViewSetMixin, TaskRunSerializer, service_call
from portal.filtering import TaskRunFilterSet
from portal.models import TaskRun
from portal.scoping import SYNC, grants_for


class AwsAccountViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """AWS accounts the portal reads (platform admins only). Creating one checks access with STS first."""

    serializer_class = AwsAccountSerializer
    filterset_class = AwsAccountFilterSet

    def base_queryset(self) -> QuerySet:
        return AwsAccount.objects.all()

    def perform_create(self, serializer: AwsAccountSerializer) -> None:
        if not grants_for(self.request.user).is_admin:
            raise PermissionDenied("Only platform admins add AWS accounts.")
        serializer.save()


class DomainViewSet(ScopedReadOnlyViewSet):
    serializer_class = DomainSerializer
    filterset_class = DomainFilterSet

    def base_queryset(self) -> QuerySet:
        return with_member_counts(Domain.objects.all())


class SyncRunViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Inventory sync runs; POST starts one (or joins the one of the same scope already running)."""

    serializer_class = TaskRunSerializer
    filterset_class = TaskRunFilterSet

    def base_queryset(self) -> QuerySet:
        return TaskRun.objects.filter(kind=INVENTORY_SYNC.kind).select_related("started_by")

    @extend_schema(request=SyncRequestSerializer, responses={201: TaskRunSerializer, 200: TaskRunSerializer})
    def create(self, request: Request) -> Response:
        params = SyncRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if data.get("domain"):
            domain = Domain.objects.restrict(request.user, SYNC).filter(domain_id=data["domain"]).first()
            if domain is None:
                raise NotFound(f"No domain {data['domain']} that you may sync.")
        elif not grants_for(request.user).is_admin:
            raise PermissionDenied("Only platform admins sync whole accounts; give a domain you approve for.")
        try:
            run, created = start_inventory_sync(
                account_id=data.get("account"),
                region=data.get("region"),
                domain_id=data.get("domain"),
                actor=request.user,
                trigger=TaskRun.Trigger.API,
            )
        except SyncScopeError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response(TaskRunSerializer(run).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class PersonViewSet(ScopedReadOnlyViewSet):
    """The people directory: each person with their Identity Center users, login, profiles (those you may see),
    and the columns other apps add (spend this month, open findings). Filters: q, status (active, left,
    ambiguous), domain."""

    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet
    sort_fields = PersonFilterSet.sort_fields

    def base_queryset(self) -> QuerySet:
        return Person.objects.all()

    def get_queryset(self) -> QuerySet:
        return with_directory(super().get_queryset(), self.request.user)

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        column_values(self.request, list(page) if page is not None else [])
        return page

    def get_object(self) -> Any:
        person = super().get_object()
        column_values(self.request, [person])
        return person


class PersonMatchViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Things that match several people (platform admins only); ``resolve`` says which person it is."""

    serializer_class = PersonMatchSerializer
    filterset_class = PersonMatchFilterSet

    def base_queryset(self) -> QuerySet:
        return PersonMatch.objects.prefetch_related("candidates")

    @extend_schema(request=ResolveMatchSerializer, responses={200: PersonMatchSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        match = self.get_object()
        params = ResolveMatchSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        person = match.candidates.filter(pk=params.validated_data["person"]).first()
        if person is None:
            raise ValidationError({"person": ["Choose one of the match's candidates."]})
        service_call(people.do_resolve_match, match, actor=request.user, person=person)
        match.refresh_from_db()
        return Response(PersonMatchSerializer(match).data)


class DirectorySyncRunViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Directory sync runs; POST starts one (platform admins; joins the one running)."""

    serializer_class = TaskRunSerializer
    filterset_class = TaskRunFilterSet

    def base_queryset(self) -> QuerySet:
        return TaskRun.objects.filter(kind=people.DIRECTORY_SYNC.kind).select_related("started_by")

    @extend_schema(request=None, responses={201: TaskRunSerializer, 200: TaskRunSerializer})
    def create(self, request: Request) -> Response:
        if not grants_for(request.user).is_admin:
            raise PermissionDenied("Only platform admins sync the people directory.")
        run, created = people.start_directory_sync(actor=request.user, trigger=TaskRun.Trigger.API)
        return Response(TaskRunSerializer(run).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
