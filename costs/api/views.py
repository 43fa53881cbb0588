from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from costs import budgets, reports
from costs.api.serializers import (
    BudgetSerializer,
    CostRunStartSerializer,
    SpendRollupSerializer,
    SpendSummarySerializer,
    SpendTotalSerializer,
)
from costs.forms import SpendFilterForm
from costs.ingest import COST_INGESTION, IngestionScopeError, start_cost_ingestion
from costs.models import Budget, Spend, SpendRollup
from costs.tag_check import start_tag_check
from domains.models import Domain
from portal.api import ScopedReadOnlyViewSet, ScopedViewSetMixin, TaskRunSerializer, service_call
from portal.filtering import TaskRunFilterSet
from portal.models import TaskRun
from portal.scoping import ALL_DOMAINS, MANAGE, VIEW_COSTS, grants_for

LEVELS = {"domain": SpendRollup.Level.DOMAIN, "profile": SpendRollup.Level.PROFILE, "space": SpendRollup.Level.SPACE}


class SpendRollupViewSet(ScopedReadOnlyViewSet):
    """Daily and monthly spend per domain, profile and space (what the dashboards read). A profile's or a space's
    day is its cost record, listed with the record's id negated."""

    serializer_class = SpendRollupSerializer
    queryset_action = VIEW_COSTS
    filterset_fields = ["period", "level", "domain_arn", "key_arn", "start"]

    def base_queryset(self) -> QuerySet:
        return Spend.objects.order_by("period", "start", "level", "domain_arn", "key_arn", "id")


@extend_schema(
    parameters=[
        OpenApiParameter("group", OpenApiTypes.STR, enum=list(LEVELS), description="domain (default), profile, space"),
        OpenApiParameter("start", OpenApiTypes.DATE),
        OpenApiParameter("end", OpenApiTypes.DATE),
        OpenApiParameter("account", OpenApiTypes.STR),
        OpenApiParameter("domain", OpenApiTypes.STR, description="a domain ARN"),
    ],
    responses=SpendSummarySerializer,
)
@api_view(["GET"])
def spend_summary(request: Request) -> Response:
    """Spend per domain, profile or space over a period, with shares: the dashboard's tables."""
    group = request.query_params.get("group", "domain")
    if group not in LEVELS:
        raise ValidationError({"group": f"Use one of {', '.join(LEVELS)}."})
    form = SpendFilterForm.for_user(request.user, request.query_params)
    if not form.is_valid():
        raise ValidationError(form.errors)
    window = form.cleaned_data["window"]
    rollups, domain_rows = form.rollups(request.user), form.domain_rows(request.user)
    rows = reports.totals(rollups, window, LEVELS[group], domain_rows=domain_rows)
    return Response(
        {
            "start": window.start,
            "end": window.end,
            "group": group,
            # The last day with data in this view, as the page says "Data through": Cost Explorer lags about a day.
            "data_through": reports.data_through(rollups, domain_rows=domain_rows),
            "results": SpendTotalSerializer(rows, many=True).data,
        }
    )


class BudgetViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Monthly budgets per domain; a domain's approvers (and platform admins) set them, finance reads them."""

    serializer_class = BudgetSerializer
    queryset_action = VIEW_COSTS

    def base_queryset(self) -> QuerySet:
        return Budget.objects.select_related("domain")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        ids = [budget.pk for budget in page]
        context = {
            **self.get_serializer_context(),
            "statuses": budgets.statuses(Budget.objects.filter(pk__in=ids), timezone.localdate()),
        }
        return self.get_paginated_response(self.get_serializer(page, many=True, context=context).data)

    def _domain(self, domain_id: str) -> Domain:
        domain = Domain.objects.restrict(self.request.user, MANAGE).filter(domain_id=domain_id).first()
        if domain is None:
            raise NotFound(f"No domain {domain_id} whose budget you may set.")
        return domain

    def perform_create(self, serializer: BudgetSerializer) -> None:
        domain = self._domain(serializer.validated_data["domain"]["domain_id"])
        if Budget.objects.filter(domain=domain).exists():
            raise ValidationError({"domain_id": "This domain has a budget already; change it instead."})
        serializer.instance = self._set(domain, serializer.validated_data)

    def perform_update(self, serializer: BudgetSerializer) -> None:
        domain = self._domain(serializer.instance.domain.domain_id)
        data = {
            "monthly_amount": serializer.instance.monthly_amount,
            "thresholds": serializer.instance.thresholds,
            **serializer.validated_data,
        }
        serializer.instance = self._set(domain, data)

    def perform_destroy(self, instance: Budget) -> None:
        self._domain(instance.domain.domain_id)
        budgets.do_delete_budget(instance, actor=self.request.user)

    def _set(self, domain: Domain, data: dict) -> Budget:
        return service_call(
            budgets.do_set_budget,
            domain,
            monthly_amount=data["monthly_amount"],
            thresholds=data["thresholds"],
            actor=self.request.user,
        )


def _require_cost_reader(request: Request) -> None:
    grants = grants_for(request.user)
    if not (grants.is_admin or grants.domains_for(VIEW_COSTS) is ALL_DOMAINS):
        raise PermissionDenied("Only platform admins and finance start cost ingestions.")


class CostRunViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cost ingestion runs; POST starts one (or joins the one already running)."""

    serializer_class = TaskRunSerializer
    filterset_class = TaskRunFilterSet

    def base_queryset(self) -> QuerySet:
        return TaskRun.objects.filter(kind=COST_INGESTION.kind).select_related("started_by")

    @extend_schema(request=CostRunStartSerializer, responses={201: TaskRunSerializer, 200: TaskRunSerializer})
    def create(self, request: Request) -> Response:
        _require_cost_reader(request)
        data = CostRunStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            run, created = start_cost_ingestion(
                account_id=data.validated_data.get("account") or None,
                since=data.validated_data.get("since"),
                actor=request.user,
                trigger=TaskRun.Trigger.API,
            )
        except IngestionScopeError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response(TaskRunSerializer(run).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses={201: TaskRunSerializer, 200: TaskRunSerializer})
    @action(detail=False, methods=["post"], url_path="check-tags")
    def check_tags(self, request: Request) -> Response:
        """Check now whether the SageMaker tags are active cost allocation tags in every payer account (otherwise
        checked once a day); answers the run (201, or 200 when joining one already running). Its ``notes`` say what
        it found once its ``status`` is no longer queued or running."""
        _require_cost_reader(request)
        run, created = start_tag_check(actor=request.user, trigger=TaskRun.Trigger.API)
        return Response(TaskRunSerializer(run).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
