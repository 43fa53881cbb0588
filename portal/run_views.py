"""Pages of task runs, shared by every kind (inventory syncs, cost ingestions): list, detail, live progress."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from portal.filtering import TaskRunFilterSet
from portal.listing import FilteredListView
from portal.models import TaskRun
from portal.runs import seen_by
from portal.scoping import grants_for


def runs_of(request: HttpRequest, kind: str) -> QuerySet:
    return TaskRun.objects.restrict(request.user).filter(kind=kind).select_related("started_by")


class RunListView(FilteredListView):
    model = TaskRun
    filterset_class = TaskRunFilterSet
    template_name = "portal/run_list.html"
    partial_template_name = "portal/_run_rows.html"
    kind = ""
    title = ""
    lead = ""
    empty_text = ""

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(kind=self.kind).select_related("started_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        empty_text = self.empty_text
        if not grants_for(self.request.user).is_admin:
            # Runs elsewhere may exist: say what this person is shown rather than that nothing ever ran.
            empty_text = (
                "No run to show you: you see the runs you started and the runs that read the domains where you "
                "have a role, and none has yet. The scheduler runs them regularly."
            )
        return {
            **super().get_context_data(**kwargs),
            "title": self.title,
            "lead": self.lead,
            "empty_text": empty_text,
        }


@login_required
def run_detail(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    run = seen_by(get_object_or_404(runs_of(request, kind), pk=pk), request.user)
    return render(request, "portal/run_detail.html", {"run": run})


# The event a page hears (``hx-trigger="run-finished from:body"``) when a run it follows is over, to refresh what the
# run changed: the rows' "last sync" times, the tag statuses...
RUN_FINISHED_EVENT = "run-finished"


def progress_fragment(request: HttpRequest, run: TaskRun, *, inline: bool = False) -> HttpResponse:
    """The progress fragment of ``run``; once the run is over, the ``run-finished`` event tells the page to refresh
    what the run changed."""
    response = render(request, "portal/_run_progress.html", {"run": run, "inline": inline})
    if not run.is_active:
        response["HX-Trigger"] = RUN_FINISHED_EVENT
    return response


@login_required
def run_progress(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The progress fragment a page polls; 286 tells HTMX to stop polling once the run is over."""
    run = seen_by(get_object_or_404(runs_of(request, kind), pk=pk), request.user)
    response = progress_fragment(request, run)
    if not run.is_active:
        response.status_code = 286
    return response


def run_urls(kind: str, route: str, name: str, *, title: str, lead: str, empty_text: str) -> list[Any]:
    """The list, detail and progress pages of one kind of run, under ``route`` and named ``name-<page>``: register
    the kind with ``url_prefix="<namespace>:<name>"`` (:class:`portal.registry.RunKind`) so runs link to them."""
    from django.urls import path

    listing = RunListView.as_view(kind=kind, title=title, lead=lead, empty_text=empty_text)
    return [
        path(f"{route}/", listing, name=f"{name}-list"),
        path(f"{route}/<int:pk>/", run_detail, {"kind": kind}, name=f"{name}-detail"),
        path(f"{route}/<int:pk>/progress/", run_progress, {"kind": kind}, name=f"{name}-progress"),
    ]
