from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from changesets.api.serializers import ChangeSetSerializer
from changesets.models import ChangeSet
from domains.models import Domain
from iamaccess import access, proposals, review, rollout
from iamaccess.api.serializers import (
    ExecutionRoleDetailSerializer,
    ExecutionRoleSerializer,
    GeneratedPolicyRequestSerializer,
    GeneratedPolicySerializer,
    IsolationRolloutSerializer,
    LockedOutResourceSerializer,
    ReviewRequestSerializer,
)
from iamaccess.filtersets import ExecutionRoleFilterSet
from iamaccess.models import ExecutionRole
from iamaccess.views import domains_by_role
from portal.api import ScopedReadOnlyViewSet, ScopedViewSetMixin, TaskRunSerializer
from portal.filtering import TaskRunFilterSet
from portal.models import TaskRun
from portal.scoping import MANAGE, SYNC


class ExecutionRoleViewSet(ScopedReadOnlyViewSet):
    """Execution roles acting in the domains you manage: their policies, what they act for, and the answers of the
    policy simulator to the probes of the hidden tools, instance types and spaces."""

    filterset_class = ExecutionRoleFilterSet
    sort_fields = ExecutionRoleFilterSet.sort_fields
    default_sort = "name"

    def base_queryset(self) -> QuerySet:
        return ExecutionRole.objects.select_related("account", "evaluation").order_by("name", "arn")

    def get_serializer_class(self) -> Any:
        return ExecutionRoleDetailSerializer if self.action == "retrieve" else ExecutionRoleSerializer

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action in (
            "policy",
            "policy_change_set",
        ):  # its ?domain= names the policy's domain, not a filter of the list
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        served = {
            pk: [domain_id for domain_id, _ in found]
            for pk, found in domains_by_role(request.user, [r.pk for r in rows]).items()
        }
        context = {**self.get_serializer_context(), "domains_by_role": served}
        serializer = self.get_serializer(rows, many=True, context=context)
        return self.get_paginated_response(serializer.data) if page is not None else Response(serializer.data)

    @extend_schema(
        parameters=[GeneratedPolicyRequestSerializer],
        request=GeneratedPolicyRequestSerializer,
        responses={200: GeneratedPolicySerializer},
        description="GET: one of the four policies for the role in one of its domains, validated, with its "
        "Terraform and CloudFormation forms. POST (same fields in the body): also simulated with the role's probes.",
    )
    @action(detail=True, methods=["get", "post"], url_path="policy")
    def policy(self, request: Request, pk: str | None = None) -> Response:
        role = self.get_object()
        data = request.data if request.method == "POST" else request.query_params
        try:
            proposal = self._proposal(request, role, data)
            simulation = None
            if request.method == "POST":
                found = proposals.simulate_proposal(proposal, request.user)
                simulation = {
                    "calls": found["calls"],
                    "changed": found["changed"],
                    "closes": [f.pk for f in found["closes"]],
                    "newly_denied": found["newly_denied"],
                }
        except DjangoValidationError as exc:
            raise ValidationError({"detail": exc.messages}) from exc
        return Response(
            {
                "kind": proposal.kind,
                "title": proposal.title,
                "domain_id": proposal.domain.domain_id,
                "document": proposal.document,
                "valid": proposal.validation.ok,
                "errors": proposal.validation.errors,
                "notes": proposal.validation.notes,
                "size": proposal.validation.size,
                "terraform": proposal.terraform,
                "cloudformation": proposal.cloudformation,
                "simulation": simulation,
                "apply_unavailable": proposals.apply_blocker(proposal, request.user),
            }
        )

    def _proposal(self, request: Request, role: ExecutionRole, data: Any) -> proposals.Proposal:
        params = GeneratedPolicyRequestSerializer(data=data)
        params.is_valid(raise_exception=True)
        wanted = params.validated_data["domain"]
        domain = next((d for d in access.visible_domains(request.user, role) if d.domain_id == wanted), None)
        if domain is None:
            raise ValidationError({"domain": [f"{wanted} is not a domain this role acts in that you manage."]})
        types = proposals.instance_types_of(params.validated_data.get("instance_types") or [])
        if not params.validated_data.get("instance_types"):
            types = proposals.team_instance_types(role, domain)
        return proposals.build(role, domain, params.validated_data["kind"], types)

    @extend_schema(
        request=GeneratedPolicyRequestSerializer,
        responses={201: ChangeSetSerializer},
        description="Propose the generated policy as a change set (iam:PutRolePolicy of the portal's inline policy "
        "on this role), after simulating it; only where the role's account lets the portal write IAM. Another "
        "approver approves it at /api/change-sets/{id}/approve/; /api/change-sets/{id}/revert/ undoes it.",
    )
    @action(detail=True, methods=["post"], url_path="policy/change-set")
    def policy_change_set(self, request: Request, pk: str | None = None) -> Response:
        role = self.get_object()
        try:
            proposal = self._proposal(request, role, request.data)
            change_set = proposals.propose(proposal, request.user)
        except DjangoValidationError as exc:
            raise ValidationError({"detail": exc.messages}) from exc
        fresh = (
            ChangeSet.objects.select_related("domain", "decided_by").prefetch_related("changes").get(pk=change_set.pk)
        )
        return Response(ChangeSetSerializer(fresh, context={"request": request}).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        role = self.get_object()
        domains = access.visible_domains(request.user, role)
        context = {
            **self.get_serializer_context(),
            "domains_by_role": {role.pk: [d.domain_id for d in domains]},
            "uses": list(access.visible_uses(request.user, role)),
            "probes": access.probe_results(role, {d.domain_id for d in domains}),
            "findings": access.role_findings(request.user, role, domains),
        }
        return Response(ExecutionRoleDetailSerializer(role, context=context).data)


class IamReviewViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """IAM reviews; POST starts one (or joins the one of the same scope already running)."""

    serializer_class = TaskRunSerializer
    filterset_class = TaskRunFilterSet

    def base_queryset(self) -> QuerySet:
        return TaskRun.objects.filter(kind=review.IAM_REVIEW.kind).select_related("started_by")

    @extend_schema(request=ReviewRequestSerializer, responses={201: TaskRunSerializer, 200: TaskRunSerializer})
    def create(self, request: Request) -> Response:
        params = ReviewRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        domain = None
        if params.validated_data.get("domain"):
            wanted = params.validated_data["domain"]
            domain = (
                Domain.objects.restrict(request.user, SYNC).filter(domain_id=wanted, removed_at__isnull=True).first()
            )
            if domain is None:
                raise NotFound(f"No domain {wanted} whose IAM you may review.")
        elif not access.may_review(request.user):
            raise PermissionDenied("Only platform admins review every domain; give a domain you approve for.")
        run, created = review.start_review(trigger=TaskRun.Trigger.API, actor=request.user, domain=domain)
        return Response(
            TaskRunSerializer(run, context={"request": request}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class IsolationRolloutViewSet(viewsets.GenericViewSet):
    """A domain's isolation rollout (its approvers; ``<id>`` is the domain's id in the portal): its tag coverage,
    what the isolation policy would lock out if its execution roles enforced it now (IAM's policy simulator, per
    resource type), and, once coverage is complete, the policy with a link per execution role to generate it.
    ``locked-out/`` lists the resources it would deny, one by one (``?type=`` narrows to one type)."""

    serializer_class = IsolationRolloutSerializer

    def get_queryset(self) -> QuerySet:
        return (
            Domain.objects.restrict(self.request.user, MANAGE)
            .filter(removed_at__isnull=True)
            .select_related("account")
            .order_by("pk")
        )

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        domain = self.get_object()
        context = rollout.rollout_context(domain)
        found, lockout, policy = context["found"], context["lockout"], context["policy"]
        data = {
            "domain_id": domain.domain_id,
            "domain_name": domain.name,
            "domain_arn": domain.arn,
            "coverage": found.to_json(),
            "ready": found.complete,
            "lockout_error": context["lockout_error"],
            "asked": lockout.asked_total if lockout else None,
            "denied": len(lockout.denied) if lockout else None,
            "simulate_calls": lockout.calls if lockout else None,
            "by_type": lockout.by_type if lockout else [],
            "roles": [
                {
                    "id": role.pk,
                    "name": role.name,
                    "arn": role.arn,
                    "policy_url": reverse("api-executionrole-policy", args=[role.pk])
                    + "?"
                    + urlencode({"kind": "isolation", "domain": domain.domain_id}),
                }
                for role in context["roles"]
            ],
            "policy": json.loads(policy["text"]) if policy else None,
            "policy_errors": policy["validation"].errors if policy else [],
        }
        return Response(IsolationRolloutSerializer(data).data)

    @extend_schema(
        parameters=[OpenApiParameter("type", str, description="Only resources of this type (training-job...).")],
        responses=LockedOutResourceSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="locked-out", url_name="locked-out")
    def locked_out(self, request: Request, pk: str | None = None) -> Response:
        domain = self.get_object()
        try:
            lockout = rollout.simulate_lockout(domain)
        except (ClientError, BotoCoreError) as exc:
            raise APIException(f"IAM's policy simulator did not answer: {exc}") from exc
        rows = lockout.denied
        kind = request.query_params.get("type")
        if kind:
            rows = [r for r in rows if r["type"] == kind]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(LockedOutResourceSerializer(page, many=True).data)
