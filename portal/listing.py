"""One list view for every inventory page: scoped queryset, shared FilterSet, pagination, HTMX partial rows."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.generic import ListView

from portal.scoping import VIEW
from portal.sorting import SortFields, Sorting, sort_settings


class FilteredListView(LoginRequiredMixin, ListView):
    """A list page: ``Model.objects.restrict(user, action)``, narrowed by ``filterset_class``, paginated.

    An HTMX request (filter change, page link) gets only ``partial_template_name``; a plain request gets the page,
    so every link works without JavaScript. ``sort_fields`` lists the columns ``?sort=`` may order by. A filter value
    the form refuses (a domain outside the person's scope is refused like one that does not exist) lists nothing and
    shows the form's error, rather than ignoring the filter and listing everything.
    """

    filterset_class: Any = None
    partial_template_name: str = ""
    action: str = VIEW
    paginate_by = 25
    sort_fields: SortFields = {}
    default_sort: str = ""

    def scoped_queryset(self) -> QuerySet:
        return self.model.objects.restrict(self.request.user, self.action)

    def decorate(self, queryset: QuerySet) -> QuerySet:
        """Joins and annotations the rows need; override per page."""
        return queryset

    def get_queryset(self) -> QuerySet:
        self.filterset = self.filterset_class(
            self.request.GET, queryset=self.decorate(self.scoped_queryset()), request=self.request
        )
        self.sorting = Sorting.from_params(*sort_settings(self, self.filterset_class), params=self.request.GET)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return self.filterset.queryset.none()
        return self.sorting.apply(self.filterset.qs)

    def get_template_names(self) -> list[str]:
        if getattr(self.request, "htmx", False) and not self.request.htmx.boosted and self.partial_template_name:
            return [self.partial_template_name]
        return super().get_template_names()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        params.pop("page", None)
        context["filterset"] = self.filterset
        context["sort"] = self.sorting if self.sorting.fields else None
        context["querystring"] = params.urlencode()
        context["filtered"] = any(v for k, v in self.request.GET.items() if k not in ("page", "presence", "sort"))
        return context

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response
