"""Pages of the people directory: the people list, a person, the ambiguous matches, the directory sync."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from domains import people
from domains.filtersets import PersonFilterSet, PersonMatchFilterSet
from domains.models import IdentityCenterUser, Person, PersonMatch
from portal.listing import FilteredListView
from portal.models import TaskRun
from portal.registry import registry
from portal.scoping import grants_for, require_admin


def profiles_model() -> Any:
    """The inventory's user profiles, reached through the directory's relation (the profiles app sits above)."""
    return Person._meta.get_field("user_profiles").related_model


def with_directory(queryset: QuerySet, user: Any) -> QuerySet:
    """People with their live profiles that ``user`` may see (every domain), their Identity Center users, their
    login, and whether an open match names them."""
    profiles = (
        profiles_model()
        .objects.restrict(user)
        .filter(removed_at__isnull=True)
        .select_related("domain")
        .order_by("domain__name", "name")
    )
    open_match = PersonMatch.candidates.through.objects.filter(
        person_id=OuterRef("pk"), personmatch__status=PersonMatch.Status.OPEN
    )
    return (
        queryset.select_related("portal_user")
        .annotate(ambiguous=Exists(open_match))
        .prefetch_related(
            Prefetch("user_profiles", queryset=profiles, to_attr="visible_profiles"),
            Prefetch("identity_users", queryset=IdentityCenterUser.objects.order_by("user_name")),
        )
    )


def column_values(request: HttpRequest, persons: list[Person]) -> list[dict[str, Any]]:
    """The upper apps' columns (spend, findings) for these people: one call per column for the whole page."""
    ids = [p.pk for p in persons]
    columns = []
    for column in registry.person_columns:
        values = column.values(request, ids)
        columns.append({"column": column, "values": values})
    for person in persons:
        person.column_values = [(c["column"], c["values"].get(person.pk)) for c in columns]
    return columns


class PersonListView(FilteredListView):
    model = Person
    filterset_class = PersonFilterSet
    template_name = "domains/person_list.html"
    partial_template_name = "domains/_person_rows.html"

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return with_directory(queryset, self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["columns"] = column_values(self.request, list(context["object_list"]))
        grants = grants_for(self.request.user)
        context["is_admin"] = grants.is_admin
        if grants.is_admin:
            context["open_matches"] = PersonMatch.objects.filter(status=PersonMatch.Status.OPEN).count()
            context["last_sync"] = (
                TaskRun.objects.filter(kind=people.DIRECTORY_SYNC.kind).order_by("-queued_at").first()
            )
        return context


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(with_directory(Person.objects.restrict(request.user), request.user), pk=pk)
    column_values(request, [person])
    matches = (
        person.ambiguous_matches.filter(status=PersonMatch.Status.OPEN) if grants_for(request.user).is_admin else []
    )
    domains = sorted({p.domain.name for p in person.visible_profiles})
    return render(request, "domains/person_detail.html", {"person": person, "matches": matches, "domains": domains})


class PersonMatchListView(FilteredListView):
    model = PersonMatch
    filterset_class = PersonMatchFilterSet
    template_name = "domains/person_match_list.html"
    partial_template_name = "domains/_person_match_rows.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_admin(request.user)
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet:
        if "status" not in self.request.GET:
            self.request.GET = self.request.GET.copy()
            self.request.GET["status"] = PersonMatch.Status.OPEN
        return super().get_queryset()

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("chosen", "resolved_by").prefetch_related("candidates")


@login_required
@require_POST
def person_match_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    match = get_object_or_404(PersonMatch.objects.restrict(request.user, "manage"), pk=pk)
    person = match.candidates.filter(pk=request.POST.get("person") or 0).first()
    if person is None:
        messages.error(request, "Choose one of the people listed for this match.")
        return redirect("domains:person-match-list")
    try:
        people.do_resolve_match(match, actor=request.user, person=person)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{match.label} is {person}.")
    return redirect("domains:person-match-list")


@login_required
@require_POST
def directory_sync_start(request: HttpRequest) -> HttpResponse:
    require_admin(request.user)
    run, created = people.start_directory_sync(actor=request.user, trigger=TaskRun.Trigger.USER)
    if not created:
        messages.info(request, "A directory sync was already running; you are following it.")
    return redirect(reverse("domains:dirrun-detail", args=[run.pk]))
