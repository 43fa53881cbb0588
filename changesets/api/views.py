"""The change-set API: the same actions as the pages, through the same services and scoping."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request as ApiRequest
from rest_framework.response import Response

from changesets import services
from changesets.api import serializers as s
from changesets.filtersets import ChangeSetFilterSet
from changesets.models import Change, ChangeSet
from portal.api import ScopedViewSetMixin, service_call
from portal.scoping import APPROVE, VIEW, grants_for


class ChangeSetViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Change sets: propose (from a list of planned changes), approve, reject (with a reason), cancel, retry, revert."""

    serializer_class = s.ChangeSetSerializer
    filterset_class = ChangeSetFilterSet
    queryset = ChangeSet.objects.none()
    queryset_action = VIEW

    def base_queryset(self) -> QuerySet:
        return ChangeSet.objects.select_related("domain", "decided_by").prefetch_related(
            Prefetch("changes", queryset=Change.objects.order_by("position"))
        )

    def get_queryset(self) -> QuerySet:
        """Those who may only look at a change set cannot find it to act on it (404, as if it did not exist)."""
        action = APPROVE if self.action in ("approve", "reject", "cancel", "retry", "revert") else VIEW
        return self.base_queryset().restrict(self.request.user, action)

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return s.ChangeSetCreateSerializer
        if self.action in ("reject", "cancel"):
            return s.ChangeSetReasonSerializer
        return s.ChangeSetSerializer

    def _answer(self, cs: ChangeSet, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.base_queryset().get(pk=cs.pk)
        return Response(s.ChangeSetSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=s.ChangeSetCreateSerializer, responses={201: s.ChangeSetSerializer})
    def create(self, request: ApiRequest, *args: Any, **kwargs: Any) -> Response:
        data = s.ChangeSetCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if not grants_for(request.user).allows(VIEW, values["domain"].arn):
            raise NotFound("No such domain.")
        cs = service_call(
            services.propose,
            request.user,
            values["domain"],
            values["title"],
            values["changes"],
            origin=values.get("origin", ""),
            finding_ids=values.get("finding_ids", []),
        )
        return self._answer(cs, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ChangeSetSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: ApiRequest, pk: str | None = None) -> Response:
        return self._answer(service_call(services.do_approve, self.get_object(), actor=request.user))

    @extend_schema(request=s.ChangeSetReasonSerializer, responses=s.ChangeSetSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: ApiRequest, pk: str | None = None) -> Response:
        data = s.ChangeSetReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data.get("reason", "")
        return self._answer(service_call(services.do_reject, self.get_object(), actor=request.user, reason=reason))

    @extend_schema(request=s.ChangeSetReasonSerializer, responses=s.ChangeSetSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: ApiRequest, pk: str | None = None) -> Response:
        data = s.ChangeSetReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data.get("reason", "")
        return self._answer(service_call(services.do_cancel, self.get_object(), actor=request.user, reason=reason))

    @extend_schema(
        request=None,
        responses={201: s.ChangeSetSerializer},
        description="Propose a change set that puts back what this applied change set of IAM policies replaced; "
        "another approver approves it.",
    )
    @action(detail=True, methods=["post"])
    def revert(self, request: ApiRequest, pk: str | None = None) -> Response:
        revert = service_call(services.do_propose_revert, self.get_object(), actor=request.user)
        return self._answer(revert, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ChangeSetSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: ApiRequest, pk: str | None = None) -> Response:
        return self._answer(service_call(services.do_retry, self.get_object(), actor=request.user))
