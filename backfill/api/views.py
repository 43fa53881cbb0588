from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from backfill import costtags, services, wizard
from backfill import coverage as coverage_module
from backfill.api.serializers import (
    AttributionRuleSerializer,
    BackfillItemSerializer,
    BackfillPlanInputSerializer,
    BackfillPlanSerializer,
    CostTagBackfillInputSerializer,
    CostTagBackfillSerializer,
    CoverageSerializer,
    DecisionSerializer,
    ExceptSerializer,
    LegacyResourceSerializer,
    RuleInputSerializer,
    RulePreviewSerializer,
)
from backfill.discovery import start_discovery
from backfill.filtersets import LegacyResourceFilterSet
from backfill.models import AttributionRule, BackfillPlan, CostTagBackfill, LegacyResource, may_backfill_costs
from domains.models import AwsAccount, Domain
from portal.api import ScopedReadOnlyViewSet, ScopedViewSetMixin, TaskRunSerializer, service_call
from portal.models import TaskRun
from portal.scoping import grants_for


def _require_admin(request: Request) -> None:
    if not grants_for(request.user).is_admin:
        raise PermissionDenied("Only platform admins manage the tag backfill.")


@extend_schema(responses=CoverageSerializer)
@api_view(["GET"])
def coverage(request: Request) -> Response:
    """Tag coverage per domain (and, for resources without a domain, per account and region) and resource type:
    tagged, untagged but attributable, unattributable, excepted. Each person sees their domains' share."""
    rows = coverage_module.coverage(LegacyResource.objects.restrict(request.user))
    data = {"totals": coverage_module.totals(rows), "results": [row.to_json() for row in rows]}
    return Response(CoverageSerializer(data).data)


@extend_schema(request=None, responses={201: TaskRunSerializer, 200: TaskRunSerializer})
@api_view(["POST"])
def discover(request: Request) -> Response:
    """Start a discovery of every account and region (platform admins); answers the run (201, or 200 when joining
    the one already running). Follow it at ``/api/runs/``-style polling of the run's page or its ``status``."""
    _require_admin(request)
    run, created = start_discovery(actor=request.user, trigger=TaskRun.Trigger.API)
    return Response(TaskRunSerializer(run).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class LegacyResourceViewSet(ScopedReadOnlyViewSet):
    """The discovered SageMaker resources you may see, with their attribution and its evidence, filterable like the
    page. Platform admins except a resource (``POST .../except/`` with a reason) or lift that (``DELETE``)."""

    serializer_class = LegacyResourceSerializer
    filterset_class = LegacyResourceFilterSet
    sort_fields = LegacyResourceFilterSet.sort_fields
    default_sort = "type"

    def base_queryset(self) -> QuerySet:
        return LegacyResource.objects.filter(removed_at__isnull=True).select_related("domain", "excepted_by")

    @extend_schema(methods=["POST"], request=ExceptSerializer, responses=LegacyResourceSerializer)
    @extend_schema(methods=["DELETE"], request=None, responses=LegacyResourceSerializer)
    @action(detail=True, methods=["post", "delete"], url_path="except", url_name="except")
    def except_(self, request: Request, pk: str | None = None) -> Response:
        resource = self.get_object()
        _require_admin(request)
        if request.method == "DELETE":
            resource = service_call(services.do_unexcept, request.user, resource)
        else:
            data = ExceptSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            resource = service_call(services.do_except, request.user, resource, reason=data.validated_data["reason"])
        return Response(LegacyResourceSerializer(resource).data)


class AttributionRuleViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The platform admins' attribution rules (name or S3 prefix -> domain). POST with ``preview: true`` answers
    what the rule would change without saving it; without, it saves the rule and attributes again."""

    serializer_class = AttributionRuleSerializer

    def base_queryset(self) -> QuerySet:
        return (
            AttributionRule.objects.select_related("domain", "created_by")
            .annotate(decided=Count("resources", filter=Q(resources__removed_at__isnull=True)))
            .order_by("kind", "prefix", "pk")
        )

    @extend_schema(request=RuleInputSerializer, responses={201: AttributionRuleSerializer, 200: RulePreviewSerializer})
    def create(self, request: Request) -> Response:
        _require_admin(request)
        data = RuleInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = dict(data.validated_data)
        domain = Domain.objects.filter(domain_id=values.pop("domain_id"), removed_at__isnull=True).first()
        if domain is None:
            raise ValidationError({"domain_id": ["No such domain in the inventory."]})
        if values.pop("preview"):
            preview = service_call(services.preview_rule, values["kind"], values["prefix"], domain)
            return Response(RulePreviewSerializer(preview.to_json()).data)
        rule = service_call(services.do_add_rule, request.user, domain=domain, **values)
        rule = self.get_queryset().get(pk=rule.pk)
        return Response(AttributionRuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: AttributionRule) -> None:
        _require_admin(self.request)
        services.do_delete_rule(self.request.user, instance)


class BackfillPlanViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Backfill plans (platform admins; approvers see the plans that tag their domains). ``POST`` makes a dry run
    (``{"domain_id"?}``); ``approve/`` (another approver of the plan's domains), ``apply/`` and ``cancel/``
    (platform admins); ``items/`` lists the plan's resources with their outcome."""

    serializer_class = BackfillPlanSerializer

    def base_queryset(self) -> QuerySet:
        return BackfillPlan.objects.select_related("scope_domain", "created_by", "run").prefetch_related(
            "approvals__approver"
        )

    @extend_schema(request=BackfillPlanInputSerializer, responses={201: BackfillPlanSerializer})
    def create(self, request: Request) -> Response:
        _require_admin(request)
        data = BackfillPlanInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        domain = None
        if data.validated_data.get("domain_id"):
            domain = Domain.objects.filter(domain_id=data.validated_data["domain_id"], removed_at__isnull=True).first()
            if domain is None:
                raise ValidationError({"domain_id": ["No such domain in the inventory."]})
        plan = service_call(wizard.do_plan, request.user, domain=domain)
        return Response(BackfillPlanSerializer(self.get_queryset().get(pk=plan.pk)).data, status=201)

    def _act(self, call: Any, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        service_call(call, self.request.user, plan, *args, **kwargs)
        return Response(BackfillPlanSerializer(self.get_queryset().get(pk=plan.pk)).data)

    @extend_schema(request=None, responses=BackfillPlanSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._act(wizard.do_approve)

    @extend_schema(request=None, responses=BackfillPlanSerializer)
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        """Start applying the approved plan (or resume it); follow ``run_id`` and the plan's ``status``."""
        _require_admin(request)
        return self._act(wizard.do_apply)

    @extend_schema(request=None, responses=BackfillPlanSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        _require_admin(request)
        return self._act(wizard.do_cancel)

    @extend_schema(responses=BackfillItemSerializer(many=True))
    @action(detail=True, methods=["get"])
    def items(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        page = self.paginate_queryset(plan.items.order_by("chunk", "pk"))
        return self.get_paginated_response(BackfillItemSerializer(page, many=True).data)


class CostTagBackfillViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Cost allocation tag backfill requests (platform admins and finance). ``POST`` requests one
    (``{"payer", "backfill_from", "reason"}``; ``backfill_from`` the first day of one of the last 12 months, checked
    before anything reaches AWS); ``approve/`` and ``reject/`` (``{"note"?}``) by another platform admin or finance
    person. An approved request is started in AWS by a worker: follow ``status``, ``aws_status`` and ``last_error``."""

    serializer_class = CostTagBackfillSerializer

    def base_queryset(self) -> QuerySet:
        return CostTagBackfill.objects.select_related("payer", "requested_by", "decided_by")

    @extend_schema(request=CostTagBackfillInputSerializer, responses={201: CostTagBackfillSerializer})
    def create(self, request: Request) -> Response:
        if not may_backfill_costs(grants_for(request.user)):
            raise PermissionDenied("Only platform admins and finance request cost allocation tag backfills.")
        data = CostTagBackfillInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payer = AwsAccount.objects.filter(account_id=data.validated_data["payer"]).first()
        if payer is None:
            raise ValidationError({"payer": ["No such account."]})
        backfill = service_call(
            costtags.do_request,
            request.user,
            payer=payer,
            backfill_from=data.validated_data["backfill_from"],
            reason=data.validated_data["reason"],
        )
        return Response(CostTagBackfillSerializer(self.get_queryset().get(pk=backfill.pk)).data, status=201)

    def _decide(self, call: Any) -> Response:
        backfill = self.get_object()
        data = DecisionSerializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        service_call(call, self.request.user, backfill, data.validated_data.get("note", ""))
        return Response(CostTagBackfillSerializer(self.get_queryset().get(pk=backfill.pk)).data)

    @extend_schema(request=DecisionSerializer, responses=CostTagBackfillSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve (not the requester): a worker then calls StartCostAllocationTagBackfill."""
        return self._decide(costtags.do_approve)

    @extend_schema(request=DecisionSerializer, responses=CostTagBackfillSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(costtags.do_reject)
