from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status as http_status
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from changesets.api.serializers import ChangeSetSerializer
from changesets.models import ChangeSet
from domains.models import Domain
from governance import proposals, services
from governance.api.serializers import (
    AcceptSerializer,
    CheckSerializer,
    FindingDetailSerializer,
    FindingSerializer,
    FixPlanSerializer,
    PolicySerializer,
    ProposeFixSerializer,
)
from governance.filtersets import FindingFilterSet
from governance.models import Finding
from portal.api import ScopedReadOnlyViewSet, service_call
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


@extend_schema(responses=CheckSerializer(many=True))
@api_view(["GET"])
def checks(request: Request) -> Response:
    """The registered governance checks, with the counts of the findings you may see."""
    rows = Finding.objects.restrict(request.user, VIEW).values_list("check_id", "status")
    counts = Counter(rows)
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
        }
        for c in sorted(registry.checks.values(), key=lambda c: c.id)
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
