"""The audit log: a filtered, paginated, exportable view of who changed what. Append-only: nothing here writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework import serializers

from portal.api import ScopedReadOnlyViewSet
from portal.csvexport import csv_response
from portal.filtering import AuditEventFilterSet
from portal.listing import FilteredListView
from portal.models import AuditEvent

CSV_COLUMNS = [
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object",
    "domain_arn",
    "before",
    "after",
    "request_id",
]


def _csv_rows(events: Any) -> Iterator[list[Any]]:
    yield CSV_COLUMNS
    for event in events.iterator(chunk_size=2000):
        yield [
            event.at.isoformat(),
            event.actor_label,
            event.action,
            event.object_type,
            event.object_id,
            event.object_repr,
            event.domain_arn,
            json.dumps(event.before) if event.before is not None else "",
            json.dumps(event.after) if event.after is not None else "",
            event.request_id,
        ]


class AuditListView(FilteredListView):
    model = AuditEvent
    filterset_class = AuditEventFilterSet
    template_name = "portal/audit_list.html"
    partial_template_name = "portal/_audit_rows.html"
    paginate_by = 50

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.GET.get("export") == "csv":
            return csv_response("audit-log.csv", _csv_rows(self.get_queryset()))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        params.pop("page", None)
        params["export"] = "csv"
        context["export_query"] = params.urlencode()
        return context


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "domain_arn",
            "before",
            "after",
            "request_id",
        ]
        read_only_fields = fields


class AuditEventViewSet(ScopedReadOnlyViewSet):
    """The audit log, read-only: no endpoint creates, changes or deletes an event."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet

    def base_queryset(self) -> Any:
        return AuditEvent.objects.all()
