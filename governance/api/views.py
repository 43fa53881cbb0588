from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http_status
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from changesets.api.serializers import ChangeSetSerializer
from changesets.models import ChangeSet
from domains.models import Domain
from governance import idle, posture, proposals, services
from governance.api.serializers import (
    AcceptSerializer,
    CheckSerializer,
    FindingDetailSerializer,
    FindingSerializer,
    FixPlanSerializer,
    IdleAppPageSerializer,
    IdleAppSerializer,
    IdleComplianceSerializer,
    OverviewSerializer,
    PolicySerializer,
    ProposeFixSerializer,
)
from governance.filtersets import FindingFilterSet, governance_scope
from governance.models import Finding
from portal.api import ScopedReadOnlyViewSet, service_call
from portal.pagination import PortalPagination
from portal.registry import registry
from portal.scoping import APPROVE, VIEW


class FindingViewSet(ScopedReadOnlyViewSet):
    """Governance findings you may see (your domains', or your own resources'), filterable like the page."""

    filterset_class = FindingFilterSet
    sort_fields = FindingFilterSet.sort_fields
    default_sort = "-last_seen"

    def base_queryset(self) -> QuerySet:
        return Finding.objects.select_related("domain", "domain__account").order_by("-last_seen", "pk")

    def get_serializer_class(self) -> Any:
        return FindingDetailSerializer if self.action in ("retrieve", "accept") else FindingSerializer

    @extend_schema(request=AcceptSerializer, responses=FindingDetailSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        finding = self.get_object()
        data = AcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        finding = service_call(services.do_accept, request.user, finding, **data.validated_data)
        return Response(FindingDetailSerializer(finding, context={"request": request}).data)

    @extend_schema(
        request=ProposeFixSerializer,
        responses={200: FixPlanSerializer, 201: ChangeSetSerializer},
        description="Propose the fix of open findings of one domain as a change set (201), or with dry_run answer "
        "the plan (200): the exact calls with their values before and after, the running apps to restart, the "
        "monthly saving. Platform admins and the domain's approvers; a finding or domain you may not fix is a 404.",
    )
    @action(detail=False, methods=["post"], url_path="propose-fix")
    def propose_fix(self, request: Request) -> Response:
        data = ProposeFixSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            findings = service_call(
                proposals.resolve,
                request.user,
                finding_ids=values.get("findings"),
                check_id=values.get("check", ""),
                domain_key=values.get("domain", ""),
            )
        except proposals.NotFound as exc:
            raise NotFound(str(exc)) from None
        tag_values = values.get("tag_values") or {}
        if values["dry_run"]:
            plan = service_call(proposals.plan, request.user, findings, tag_values=tag_values)
            return Response(FixPlanSerializer(plan).data)
        change_set = service_call(
            proposals.do_propose_fix, request.user, findings, tag_values=tag_values, title=values.get("title", "")
        )
        fresh = ChangeSet.objects.select_related("domain", "decided_by").prefetch_related("changes")
        fresh = fresh.get(pk=change_set.pk)
        return Response(ChangeSetSerializer(fresh).data, status=http_status.HTTP_201_CREATED)


@extend_schema(
    parameters=[
        OpenApiParameter("check", OpenApiTypes.STR, description="One check, by id (e.g. CO-04)."),
        OpenApiParameter(
            "severity",
            OpenApiTypes.STR,
            enum=Finding.Severity.values,
            description="The checks of this severity or whose severity varies; their counts are of the findings "
            "of this severity.",
        ),
        OpenApiParameter(
            "status",
            OpenApiTypes.STR,
            enum=Finding.Status.values,
            description="Only the checks with at least one finding of this status that you may see.",
        ),
        OpenApiParameter(
            "resource_kind",
            OpenApiTypes.STR,
            enum=Finding.Kind.values,
            description="The checks that read this kind of resource; their counts are of the findings on it.",
        ),
        OpenApiParameter("domain", OpenApiTypes.STR, description="Count the findings of this domain (id or ARN)."),
        OpenApiParameter("account", OpenApiTypes.STR, description="Count the findings of this AWS account."),
    ],
    responses=CheckSerializer(many=True),
)
@api_view(["GET"])
def checks(request: Request) -> Response:
    """The registered governance checks, with the counts of the findings you may see; filtered like the findings
    (a value out of your scope, or unknown, answers 400 naming the filter)."""
    filters = FindingFilterSet(
        request.query_params, queryset=Finding.objects.restrict(request.user, VIEW), request=request
    )
    if not filters.is_valid():
        raise ValidationError(filters.errors)
    wanted = filters.form.cleaned_data
    counts = Counter(filters.qs.values_list("check_id", "status"))
    selected = sorted(registry.checks.values(), key=lambda c: c.id)
    if wanted.get("check"):
        selected = [c for c in selected if c.id == wanted["check"]]
    if wanted.get("severity"):
        selected = [c for c in selected if callable(c.severity) or c.severity == wanted["severity"]]
    if wanted.get("resource_kind"):
        selected = [c for c in selected if wanted["resource_kind"] in c.reads]
    if wanted.get("status"):
        selected = [c for c in selected if counts[(c.id, wanted["status"])]]
    data = [
        {
            "id": c.id,
            "title": c.title,
            "severity": "varies" if callable(c.severity) else c.severity,
            "reads": list(c.reads),
            "docs": c.docs,
            "fixable": c.fixable,
            "fix": c.fix,
            "open": counts[(c.id, Finding.Status.OPEN)],
            "accepted": counts[(c.id, Finding.Status.ACCEPTED)],
            "resolved": counts[(c.id, Finding.Status.RESOLVED)],
        }
        for c in selected
    ]
    return Response(CheckSerializer(data, many=True).data)


@extend_schema(methods=["GET"], responses=PolicySerializer)
@extend_schema(methods=["PUT"], request=PolicySerializer, responses=PolicySerializer)
@api_view(["GET", "PUT"])
def policy(request: Request, domain_id: str) -> Response:
    """A domain's governance policy; its approvers and platform admins change it."""
    domain = Domain.objects.restrict(request.user, VIEW).filter(domain_id=domain_id).first()
    if domain is None:
        raise NotFound(f"No domain {domain_id} that you may see.")
    current = services.policy_of(domain)
    if request.method == "GET":
        return Response(PolicySerializer(current).data)
    if not Domain.objects.restrict(request.user, APPROVE).filter(pk=domain.pk).exists():
        raise NotFound(f"No domain {domain_id} whose policy you may change.")
    serializer = PolicySerializer(current, data=request.data)
    serializer.is_valid(raise_exception=True)
    saved = service_call(services.do_edit_policy, request.user, domain, **serializer.validated_data)
    return Response(PolicySerializer(saved).data, status=http_status.HTTP_200_OK)


# -- the overview and idle compliance ---------------------------------------------------------------------------
SCOPE_PARAMETERS = [
    OpenApiParameter("domain", OpenApiTypes.STR, description="A domain you may see, by id (d-...) or ARN."),
    OpenApiParameter("account", OpenApiTypes.STR, description="The AWS account id of a domain you may see."),
]


def _scoped_domains(request: Request) -> list[Domain]:
    scope, domains = governance_scope(request, request.query_params)
    if not scope.is_valid():
        raise ValidationError(scope.errors)
    return domains


@extend_schema(parameters=SCOPE_PARAMETERS, responses=OverviewSerializer)
@api_view(["GET"])
def overview(request: Request) -> Response:
    """Each domain's posture (open findings by severity, accepted, the 90-day trend of its daily snapshots and the
    Studio Classic retirement tracker) and the top open findings: the governance overview page's figures."""
    data = posture.overview(request.user, _scoped_domains(request))
    return Response(OverviewSerializer(data, context={"request": request}).data)


@extend_schema(parameters=SCOPE_PARAMETERS, responses=IdleComplianceSerializer)
@api_view(["GET"])
def idle_compliance(request: Request) -> Response:
    """Per domain, the share of profiles and spaces whose effective idle shutdown is on, and the count and cost of
    the apps idle beyond the domain's policy (CO-04)."""
    report = idle.report(request.user, _scoped_domains(request))
    return Response(IdleComplianceSerializer(report).data)


@extend_schema(
    parameters=[
        *SCOPE_PARAMETERS,
        OpenApiParameter(
            "ordering",
            OpenApiTypes.STR,
            enum=[v for key in idle.SORT_FIELDS for v in (key, f"-{key}")],
            description="cost, hours, domain or instance; '-' first for descending. Default -cost (apps without a "
            "price last).",
        ),
        OpenApiParameter("sort", OpenApiTypes.STR, enum=[v for k in idle.SORT_FIELDS for v in (k, f"-{k}")]),
        OpenApiParameter("page", OpenApiTypes.INT),
        OpenApiParameter("page_size", OpenApiTypes.INT, description="Up to 500."),
    ],
    responses=IdleAppPageSerializer,
)
@api_view(["GET"])
def idle_apps(request: Request) -> Response:
    """The apps check CO-04 flags (InService with no user activity for the domain policy's app_idle_hours), with
    their hours idle and the estimated cost of that idle time, the most expensive first."""
    sort = request.query_params.get("sort") or request.query_params.get("ordering")
    report = idle.report(request.user, _scoped_domains(request), sort=sort)
    paginator = PortalPagination()
    page = paginator.paginate_queryset(report.apps, request)
    return paginator.get_paginated_response(IdleAppSerializer(page, many=True).data)
