"""Pages of change sets: the list, a change set with its diff and progress, the decisions, and the "Edit settings"
forms of domains, profiles and spaces (which propose a change set)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from changesets import services
from changesets.edits import DomainEditForm, ProfileEditForm, SpaceEditForm, default_title
from changesets.filtersets import ChangeSetFilterSet
from changesets.models import ChangeSet
from domains.models import Domain
from portal.listing import FilteredListView
from portal.models import AuditEvent
from portal.scoping import APPROVE, VIEW, grants_for
from profiles.models import Space, UserProfile


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{k}: {m}" if k != "__all__" else m for k, ms in exc.message_dict.items() for m in ms]
    return exc.messages


class ChangeSetListView(FilteredListView):
    model = ChangeSet
    filterset_class = ChangeSetFilterSet
    template_name = "changesets/list.html"
    partial_template_name = "changesets/_rows.html"

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("domain").annotate(change_count=Count("changes"))


def _change_set(request: HttpRequest, pk: int, action: str = VIEW) -> ChangeSet:
    return get_object_or_404(
        ChangeSet.objects.restrict(request.user, action).select_related("domain", "proposed_by", "decided_by"), pk=pk
    )


def _progress_context(cs: ChangeSet) -> dict[str, Any]:
    changes = list(cs.changes.all())
    done = sum(1 for c in changes if c.status in ("applied", "skipped"))
    return {
        "cs": cs,
        "changes": changes,
        "done": done,
        "percent": int(100 * done / len(changes)) if changes else 0,
        "restarts": sorted({arn for c in changes for arn in c.restarts}),
        "needs_no_running_apps": any(c.needs_no_running_apps for c in changes),
    }


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    cs = _change_set(request, pk)
    timeline = AuditEvent.objects.filter(request_id=cs.ref, object_type=ChangeSet._meta.label).order_by("at", "pk")
    return render(
        request,
        "changesets/detail.html",
        {**_progress_context(cs), "timeline": timeline, **services.actions_for(request.user, cs)},
    )


@login_required
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    cs = _change_set(request, pk)
    response = render(request, "changesets/_status.html", _progress_context(cs))
    if not cs.is_working:
        response.status_code = 286  # htmx stops polling
    return response


@login_required
@require_POST
def change_set_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    cs = _change_set(request, pk, APPROVE)  # who may only look gets the 404 of what does not exist
    reason = request.POST.get("reason", "")
    actions = {
        "approve": lambda: services.do_approve(cs, actor=request.user),
        "reject": lambda: services.do_reject(cs, actor=request.user, reason=reason),
        "cancel": lambda: services.do_cancel(cs, actor=request.user, reason=reason),
        "retry": lambda: services.do_retry(cs, actor=request.user),
        "revert": lambda: services.do_propose_revert(cs, actor=request.user),
    }
    if action not in actions:
        raise Http404("No such action.")
    try:
        if action == "revert":
            revert = actions[action]()
            messages.success(
                request,
                f"{revert.ref} proposed: it puts back what {cs.ref} replaced once another approver approves it.",
            )
            return redirect(revert)
        cs = actions[action]()
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        done = {
            "approve": "approved: a worker applies it now",
            "reject": "rejected",
            "cancel": "cancelled",
            "retry": "handed to a worker again",
        }
        messages.success(request, f"{cs.ref} {done[action]}.")
    return redirect(cs)


EDITS: dict[str, tuple[Any, Any, str]] = {
    "profile": (UserProfile, ProfileEditForm, "profiles:profile-detail"),
    "space": (Space, SpaceEditForm, "profiles:space-detail"),
    "domain": (Domain, DomainEditForm, "domains:domain-detail"),
}


@login_required
def edit_settings(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Admins and the domain's approvers change settings; the answer is a proposed change set."""
    if kind not in EDITS:
        raise Http404("No such page.")
    model, form_class, page = EDITS[kind]
    related = () if model is Domain else ("domain",)
    obj = get_object_or_404(
        model.objects.restrict(request.user, VIEW).select_related(*related), pk=pk, removed_at__isnull=True
    )
    domain = obj if model is Domain else obj.domain
    if not grants_for(request.user).allows(APPROVE, domain.arn):
        raise Http404("No such page.")
    form = form_class(request.POST if request.method == "POST" else None, **{kind: obj})
    if request.method == "POST" and form.is_valid():
        planned = form.planned()
        if not planned:
            form.add_error(None, "Nothing would change: every value is already so.")
        else:
            title = form.cleaned_data.get("title") or default_title(planned, f"{kind} {obj.name}")
            try:
                cs = services.propose(request.user, domain, title, planned, origin=f"edit:{kind}")
            except ValidationError as exc:
                form.add_error(None, _errors(exc))
            else:
                messages.success(request, f"{cs.ref} proposed: another approver of {domain.name} approves it.")
                return redirect(cs)
    return render(
        request,
        "changesets/edit.html",
        {"form": form, "obj": obj, "kind": kind, "domain": domain, "back": reverse(page, args=[obj.pk])},
    )
