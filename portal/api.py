"""REST API pieces shared by every app: the scoped viewset base, the task run serializer and the API root."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.models import TaskRun
from portal.runs import seen_by
from portal.scoping import VIEW
from portal.sorting import SortFields, Sorting, sort_settings


def service_call(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a service from the API: its ValidationError becomes a 400 with the messages the pages show (by field,
    or under ``detail``)."""
    try:
        return call(*args, **kwargs)
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}) from exc


class SortFilter(BaseFilterBackend):
    """``?ordering=`` or ``?sort=`` (``field`` or ``-field``) among the view's ``sort_fields``, as the pages sort."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        fields, default = sort_settings(view, getattr(view, "filterset_class", None))
        if not fields or getattr(view, "action", "list") != "list":
            return queryset
        return Sorting.from_params(fields, default, params=request.query_params).apply(queryset)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        fields, _ = sort_settings(view, getattr(view, "filterset_class", None))
        if not fields:
            return []
        keys = [value for key in fields for value in (key, f"-{key}")]
        description = "Order by one of the fields, '-' first for descending; unknown values keep the default order."
        return [
            {
                "name": name,
                "required": False,
                "in": "query",
                "description": description if name == "ordering" else "The same as ordering.",
                "schema": {"type": "string", "enum": keys},
            }
            for name in ("ordering", "sort")
        ]


class ScopedViewSetMixin:
    """``get_queryset`` restricted to what the user may ``action`` (default view); out of scope answers 404.
    ``sort_fields`` (the same allow-list as the list page's) makes the list sortable with ``?ordering=``/``?sort=``."""

    queryset_action = VIEW
    request: Any
    filter_backends = [DjangoFilterBackend, SortFilter]
    sort_fields: SortFields = {}
    default_sort: str = ""

    def base_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        return self.base_queryset().restrict(self.request.user, self.queryset_action)


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class TaskRunSerializer(serializers.ModelSerializer):
    """A run of any kind (inventory sync, cost ingestion) with its progress, counts, calls and errors."""

    started_by = serializers.CharField(source="started_by.username", read_only=True, default=None, allow_null=True)
    percent = serializers.IntegerField(read_only=True)
    duration = serializers.FloatField(read_only=True, allow_null=True, help_text="Seconds; null until it started.")
    aws_call_total = serializers.IntegerField(read_only=True, help_text="Every HTTP attempt AWS saw, retries included.")
    aws_retried_total = serializers.IntegerField(read_only=True, help_text="Attempts that repeated a failed one.")
    aws_throttled_total = serializers.IntegerField(read_only=True, help_text="Attempts AWS answered with throttling.")

    def to_representation(self, instance: TaskRun) -> dict[str, Any]:
        request = self.context.get("request")
        if request is not None:
            instance = seen_by(instance, request.user)
        return super().to_representation(instance)

    class Meta:
        model = TaskRun
        fields = [
            "id",
            "scope",
            "scope_label",
            "trigger",
            "started_by",
            "status",
            "queued_at",
            "started_at",
            "finished_at",
            "duration",
            "steps_total",
            "steps_done",
            "percent",
            "message",
            "counts",
            "aws_calls",
            "aws_retried",
            "aws_throttled",
            "aws_call_total",
            "aws_retried_total",
            "aws_throttled_total",
            "errors",
            "notes",
        ]
        read_only_fields = fields


class SchemaAccess(permissions.BasePermission):
    """``/api/schema/`` and ``/api/docs/``: anyone when ``API_SCHEMA_PUBLIC`` is on, else logged-in users and tokens."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(settings.API_SCHEMA_PUBLIC or (request.user and request.user.is_authenticated))


class ApiRootView(APIView):
    """A link to every endpoint of the portal's API, with its schema and docs. Each endpoint asks for a login."""

    # Found in the URL configuration (every app's routers, the cost summary, schema, docs), so that an app's new
    # endpoints appear by themselves. As public as the schema it points to (API_SCHEMA_PUBLIC).
    permission_classes = [SchemaAccess]

    def get_view_name(self) -> str:
        return "API root"

    @extend_schema(exclude=True)
    def get(self, request: Request, format: str | None = None) -> Response:
        return Response({name: request.build_absolute_uri(url) for name, url in api_endpoints().items()})


def api_endpoints() -> dict[str, str]:
    """Every URL under ``/api/`` that takes no parameter, by its path below ``/api/`` (``costs/budgets``...)."""
    found: dict[str, str] = {}

    def walk(patterns: list[Any], namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner)
            elif entry.name and entry.name != "api-root":
                try:
                    url = reverse(f"{namespace}{entry.name}")
                except NoReverseMatch:  # needs an id or a format: not an entry point
                    continue
                if url.startswith("/api/") and url != "/api/":
                    found.setdefault(url[len("/api/") :].strip("/"), url)

    walk(get_resolver().url_patterns, "")
    return dict(sorted(found.items()))
