"""REST API pieces shared by every app: the scoped viewset base."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import viewsets

from portal.scoping import VIEW


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
