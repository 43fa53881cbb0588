"""REST API pieces shared by every app: the scoped viewset base, the task run serializer and the API root."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.models import TaskRun
from portal.scoping import VIEW


def service_call(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a service from the API: its ValidationError becomes a 400 with the messages the pages show (by field,
    or under ``detail``)."""
    try:
        return call(*args, **kwargs)
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}) from exc


class ScopedViewSetMixin:
    """``get_queryset`` restricted to what the user may ``action`` (default view); out of scope answers 404."""

    queryset_action = VIEW
    request: Any

    def base_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        return self.base_queryset().restrict(self.request.user, self.queryset_action)


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class TaskRunSerializer(serializers.ModelSerializer):
    """A run of any kind (inventory sync, cost ingestion) with its progress, counts, calls and errors."""

    started_by = serializers.CharField(source="started_by.username", read_only=True, default=None)
    percent = serializers.IntegerField(read_only=True)
    duration = serializers.FloatField(read_only=True)

    class Meta:
        model = TaskRun
        fields = [
            "id",
            "scope_key",
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
            "errors",
            "notes",
        ]
        read_only_fields = fields


class ApiRootView(APIView):
    """``/api/``: a link to every endpoint, in the style of DRF's API root (every app's routers, the cost summary,
    the schema and its docs), found in the URL configuration so that an app's new endpoints appear by themselves.
    Public, like the schema: it names the endpoints, each of which asks for a login itself."""

    permission_classes = [AllowAny]

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
