"""REST API pieces shared by every app: the scoped viewset base and the task run serializer."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

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
    aws_call_total = serializers.IntegerField(read_only=True, help_text="Every HTTP attempt AWS saw, retries included.")
    aws_retried_total = serializers.IntegerField(read_only=True, help_text="Attempts that repeated a failed one.")
    aws_throttled_total = serializers.IntegerField(read_only=True, help_text="Attempts AWS answered with throttling.")

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
            "aws_retried",
            "aws_throttled",
            "aws_call_total",
            "aws_retried_total",
            "aws_throttled_total",
            "errors",
            "notes",
        ]
        read_only_fields = fields
