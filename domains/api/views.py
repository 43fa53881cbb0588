from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from domains.api.serializers import AwsAccountSerializer, DomainSerializer, SyncRequestSerializer
from domains.filtersets import AwsAccountFilterSet, DomainFilterSet
from domains.models import AwsAccount, Domain
from domains.sync import INVENTORY_SYNC, SyncScopeError, start_inventory_sync
from domains.views import with_member_counts
from portal.api import ScopedReadOnlyViewSet, ScopedViewSetMixin, TaskRunSerializer
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
