"""The onboarding API: the same actions as the pages, through the same services and the same scoping."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request as ApiRequest
from rest_framework.response import Response

from domains.models import Person
from onboarding import services
from onboarding.api import serializers as s
from onboarding.filtersets import (
    OffboardingFilterSet,
    PersonaTemplateFilterSet,
    ProfileRequestFilterSet,
    SpaceRequestFilterSet,
)
from onboarding.models import Offboarding, PersonaTemplate, ProfileRequest, SpacePolicy, SpaceRequest
from portal.api import ScopedViewSetMixin, service_call
from portal.pricing import PRICES_SOURCE
from portal.scoping import APPROVE, MANAGE, require_somewhere


class RequestViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    create_serializer_class: Any = None

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return self.create_serializer_class
        if self.action == "reject":
            return s.ReasonSerializer
        if self.action == "extend":
            return s.ExtendSerializer
        return self.serializer_class

    def _answer(self, req: Any, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.base_queryset().get(pk=req.pk)
        return Response(self.serializer_class(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def approve(self, request: ApiRequest, pk: str | None = None) -> Response:
        return self._answer(service_call(services.do_approve, self.get_object(), actor=request.user))

    @action(detail=True, methods=["post"])
    def reject(self, request: ApiRequest, pk: str | None = None) -> Response:
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            service_call(
                services.do_reject, self.get_object(), actor=request.user, reason=data.validated_data.get("reason", "")
            )
        )

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request: ApiRequest, pk: str | None = None) -> Response:
        return self._answer(service_call(services.do_cancel, self.get_object(), actor=request.user))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def retry(self, request: ApiRequest, pk: str | None = None) -> Response:
        return self._answer(service_call(services.do_retry, self.get_object(), actor=request.user))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], url_path="retry-now")
    def retry_now(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Approvers: hand work whose task stopped (``is_stalled``) to a worker at once."""
        return self._answer(service_call(services.do_retry_now, self.get_object(), actor=request.user))


class ProfileRequestViewSet(RequestViewSet):
    """Requests for user profiles: submit, approve, reject (with a reason), cancel, retry a failed one."""

    serializer_class = s.ProfileRequestSerializer
    create_serializer_class = s.ProfileRequestCreateSerializer
    filterset_class = ProfileRequestFilterSet
    queryset = ProfileRequest.objects.none()

    def base_queryset(self) -> QuerySet:
        return ProfileRequest.objects.select_related("domain", "person", "requested_by", "decided_by", "template")

    @extend_schema(request=s.ProfileRequestCreateSerializer, responses={201: s.ProfileRequestSerializer})
    def create(self, request: ApiRequest, *args: Any, **kwargs: Any) -> Response:
        data = s.ProfileRequestCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = data.validated_data
        req = service_call(
            services.do_submit_profile_request,
            actor=request.user,
            person=values.get("person") or request.user,
            domain=values["domain"],
            template=values["template"],
            sso_user_name=values.get("sso_user_name", ""),
            justification=values.get("justification", ""),
        )
        return self._answer(req, status.HTTP_201_CREATED)


class SpaceRequestViewSet(RequestViewSet):
    """Requests for shared spaces: submit (approved at once within the domain's quota), decide, extend, delete."""

    serializer_class = s.SpaceRequestSerializer
    create_serializer_class = s.SpaceRequestCreateSerializer
    filterset_class = SpaceRequestFilterSet
    queryset = SpaceRequest.objects.none()

    def base_queryset(self) -> QuerySet:
        return SpaceRequest.objects.select_related("domain", "requested_by", "decided_by", "owner_profile")

    @extend_schema(request=s.SpaceRequestCreateSerializer, responses={201: s.SpaceRequestSerializer})
    def create(self, request: ApiRequest, *args: Any, **kwargs: Any) -> Response:
        data = s.SpaceRequestCreateSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.setdefault("display_name", "")
        req = service_call(services.do_submit_space_request, actor=request.user, **values)
        return self._answer(req, status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def extend(self, request: ApiRequest, pk: str | None = None) -> Response:
        data = s.ExtendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            service_call(
                services.do_extend_space,
                self.get_object(),
                actor=request.user,
                expires_on=data.validated_data["expires_on"],
            )
        )

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], url_path="delete-space")
    def delete_space(self, request: ApiRequest, pk: str | None = None) -> Response:
        return self._answer(service_call(services.do_delete_space, self.get_object(), actor=request.user))

    @extend_schema(parameters=[s.EstimateQuerySerializer], responses=s.EstimateSerializer)
    @action(detail=False, methods=["get"])
    def estimate(self, request: ApiRequest) -> Response:
        """The monthly estimate of a shared space, from the price table kept in the project."""
        query = s.EstimateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        figures = service_call(
            services.estimate_space, values["instance_type"], values["ebs_size_gb"], values["region"]
        )
        return Response(
            s.EstimateSerializer(
                {
                    **figures,
                    "instance_type": values["instance_type"],
                    "ebs_size_gb": values["ebs_size_gb"],
                    "prices_source": PRICES_SOURCE,
                }
            ).data
        )


class ManagedWritesMixin(ScopedViewSetMixin):
    """Read by everyone in scope; written only by who manages the domain, checked before the body is read: a
    change of something the caller may only read, or a create by someone who manages no domain, answers 404."""

    WRITES = ("create", "update", "partial_update", "destroy")

    def get_queryset(self) -> QuerySet:
        action = MANAGE if getattr(self, "action", None) in self.WRITES else self.queryset_action
        return self.base_queryset().restrict(self.request.user, action)

    def create(self, request: ApiRequest, *args: Any, **kwargs: Any) -> Response:
        require_somewhere(request.user, MANAGE)
        return super().create(request, *args, **kwargs)  # type: ignore[misc]


class PersonaTemplateViewSet(
    ManagedWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Persona templates: everyone who may request a profile in a domain reads them; approvers write them."""

    serializer_class = s.PersonaTemplateSerializer
    filterset_class = PersonaTemplateFilterSet
    queryset = PersonaTemplate.objects.none()

    def base_queryset(self) -> QuerySet:
        return PersonaTemplate.objects.select_related("domain")

    def perform_create(self, serializer: s.PersonaTemplateSerializer) -> None:
        serializer.instance = service_call(
            services.do_save_persona, PersonaTemplate(**serializer.validated_data), actor=self.request.user
        )

    def perform_update(self, serializer: s.PersonaTemplateSerializer) -> None:
        persona = serializer.instance
        for field, value in serializer.validated_data.items():
            setattr(persona, field, value)
        serializer.instance = service_call(services.do_save_persona, persona, actor=self.request.user)


class SpacePolicyViewSet(
    ManagedWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Each domain's shared space policy: instance types, sizes, lifetime and the auto-approval quota."""

    serializer_class = s.SpacePolicySerializer
    queryset = SpacePolicy.objects.none()
    filterset_fields = ["domain__arn"]

    def base_queryset(self) -> QuerySet:
        return SpacePolicy.objects.select_related("domain")

    def get_serializer_class(self) -> Any:
        return s.SpacePolicyCreateSerializer if self.action == "create" else s.SpacePolicySerializer

    def perform_create(self, serializer: Any) -> None:
        if SpacePolicy.objects.filter(domain=serializer.validated_data["domain"]).exists():
            raise ValidationError({"domain": "This domain has a policy already; update it instead."})
        serializer.instance = service_call(
            services.do_save_space_policy, SpacePolicy(**serializer.validated_data), actor=self.request.user
        )

    def perform_update(self, serializer: Any) -> None:
        policy = serializer.instance
        for field, value in serializer.validated_data.items():
            setattr(policy, field, value)
        serializer.instance = service_call(services.do_save_space_policy, policy, actor=self.request.user)


class OffboardingViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Offboarding plans: preview, create, approve (by another approver), cancel, resume after a failure."""

    serializer_class = s.OffboardingSerializer
    filterset_class = OffboardingFilterSet
    queryset = Offboarding.objects.none()

    def base_queryset(self) -> QuerySet:
        require_somewhere(self.request.user, APPROVE)
        return Offboarding.objects.select_related("person", "login", "requested_by", "decided_by").prefetch_related(
            "steps"
        )

    def _answer(self, offboarding: Offboarding, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.base_queryset().get(pk=offboarding.pk)
        return Response(s.OffboardingSerializer(fresh).data, status=code)

    @extend_schema(request=s.OffboardingCreateSerializer, responses={201: s.OffboardingSerializer})
    def create(self, request: ApiRequest, *args: Any, **kwargs: Any) -> Response:
        self.base_queryset()
        data = s.OffboardingCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            service_call(services.do_plan_offboarding, actor=request.user, **data.validated_data),
            status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[OpenApiParameter("person", OpenApiTypes.STR, required=True)],
        responses=s.PlannedStepSerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None)  # one plan: a plain list, never paginated
    def plan(self, request: ApiRequest) -> Response:
        """The steps an offboarding of ``person`` would take in the domains you approve in, without creating it."""
        self.base_queryset()
        field = s.DirectoryPersonField()
        try:
            person = field.to_internal_value(request.query_params.get("person", ""))
        except ValidationError as exc:
            raise ValidationError({"person": exc.detail}) from exc
        person = service_call(services.directory_person, person)
        return Response(s.PlannedStepSerializer(services.offboarding_plan(request.user, person), many=True).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def approve(self, request: ApiRequest, pk: str | None = None) -> Response:
        return self._answer(service_call(services.do_approve_offboarding, self.get_object(), actor=request.user))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request: ApiRequest, pk: str | None = None) -> Response:
        return self._answer(service_call(services.do_cancel_offboarding, self.get_object(), actor=request.user))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def resume(self, request: ApiRequest, pk: str | None = None) -> Response:
        return self._answer(service_call(services.do_resume_offboarding, self.get_object(), actor=request.user))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], url_path="retry-now")
    def retry_now(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Approvers of every domain it touches: hand a plan whose task stopped to a worker at once."""
        return self._answer(service_call(services.do_retry_now, self.get_object(), actor=request.user))


class ProposedLeaverViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Leavers proposed for offboarding: people gone from the directory who still have live profiles in the domains
    you approve in (for a platform admin also: an active portal login), with no offboarding planned, under way or
    done. Plan one with ``POST /api/offboardings/``."""

    serializer_class = s.ProposedLeaverSerializer
    queryset = Person.objects.none()

    def get_queryset(self) -> QuerySet:
        require_somewhere(self.request.user, APPROVE)
        return services.proposed_leavers(self.request.user)
