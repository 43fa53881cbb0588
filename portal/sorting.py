"""Sortable lists: ``?sort=field`` or ``?sort=-field`` (the API also takes ``?ordering=``), from an allow-list per list.

A list declares ``sort_fields = {"name": "name", "domain": ("domain__name", "name")}``: the public key a header link or
an API client uses, and the columns it orders by. A key not in the list is ignored (the default order applies), so a
hand-edited URL never fails; the primary key breaks ties so that pages do not overlap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

SortFields = Mapping[str, str | tuple[str, ...]]


def _key(value: str) -> str:
    return value[1:] if value.startswith("-") else value


class Sorting:
    """The order of one list for one request: which key, which direction, and the columns it means."""

    def __init__(self, fields: SortFields, requested: str | None, default: str = "") -> None:
        self.fields = fields
        value = (requested or "").strip()
        if _key(value) not in fields:
            value = default if _key(default) in fields else ""
        self.value = value
        self.key = _key(value)
        self.descending = value.startswith("-")

    @classmethod
    def from_params(cls, fields: SortFields, default: str = "", *, params: Mapping[str, Any]) -> Sorting:
        """``sort`` (pages and API) or ``ordering`` (the API's usual name), whichever is given."""
        return cls(fields, params.get("sort") or params.get("ordering"), default)

    def order_by(self) -> list[str]:
        if not self.key:
            return []
        columns = self.fields[self.key]
        columns = (columns,) if isinstance(columns, str) else columns
        sign = "-" if self.descending else ""
        return [f"{sign}{column}" for column in columns] + [f"{sign}pk"]

    def apply(self, queryset: QuerySet) -> QuerySet:
        ordering = self.order_by()
        return queryset.order_by(*ordering) if ordering else queryset

    def toggled(self, key: str) -> str:
        """The ``sort`` value a header link sets: this key ascending, or descending when it is already ascending."""
        return f"-{key}" if self.key == key and not self.descending else key


def sort_settings(view: Any, filterset_class: Any) -> tuple[SortFields, str]:
    """A list's allow-list and default: the view's own ``sort_fields``, else its FilterSet's, so that the page and
    the API of one list share them."""
    fields = getattr(view, "sort_fields", None) or getattr(filterset_class, "sort_fields", None) or {}
    default = getattr(view, "default_sort", "") or getattr(filterset_class, "default_sort", "")
    return fields, default
