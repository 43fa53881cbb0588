"""Governance pages: the overview (posture per domain, top findings, the Studio Classic retirement tracker), idle
compliance, the findings list (with CSV export), a finding with its evidence, history and audit trail (and the
accept-risk form), a domain's governance policy."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode

from domains.models import Domain
from governance import idle, posture, services
from governance.filtersets import FindingFilterSet, governance_scope
from governance.forms import AcceptForm, PolicyForm
from governance.models import Finding
from portal.csvexport import csv_response
from portal.listing import FilteredListView
from portal.models import AuditEvent
from portal.registry import registry
from portal.scoping import APPROVE, VIEW, grants_for


def _findings(user: Any) -> QuerySet:
    return Finding.objects.restrict(user, VIEW).select_related("domain", "domain__account")


class FindingListView(FilteredListView):
    model = Finding
    filterset_class = FindingFilterSet
    template_name = "governance/finding_list.html"
    partial_template_name = "governance/_finding_rows.html"
    default_sort = "-last_seen"

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("domain")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.GET.get("format") == "csv":
            rows = self.get_queryset()
            header = [
                "check",
                "severity",
                "status",
                "resource kind",
                "resource",
                "arn",
                "domain",
                "account",
                "details",
                "first seen",
                "last seen",
                "resolved at",
            ]
            return csv_response(
                "findings.csv",
                [header]
                + [
                    [
                        f.check_id,
                        f.severity,
                        f.status,
                        f.resource_kind,
                        f.resource_name,
                        f.resource_arn,
                        f.domain.name,
                        f.domain.account.account_id,
                        f.details,
                        f.first_seen.isoformat(),
                        f.last_seen.isoformat(),
                        f.resolved_at.isoformat() if f.resolved_at else "",
                    ]
                    for f in rows.select_related("domain__account").iterator()
                ],
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["checks"] = registry.checks
        return context


@login_required
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(_findings(request.user), pk=pk)
    form = AcceptForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.do_accept(
                    request.user, finding, reason=form.cleaned_data["reason"], until=form.cleaned_data["until"]
                )
            except ValidationError as exc:
                for field, errors in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, f"The risk of {finding} is accepted.")
                return redirect("governance:finding-detail", pk=finding.pk)
    audit_trail = AuditEvent.objects.filter(object_type="governance.Finding", object_id=str(finding.pk)).select_related(
        "actor"
    )
    return render(
        request,
        "governance/finding_detail.html",
        {
            "finding": finding,
            "check": registry.checks.get(finding.check_id),
            "events": finding.events.all(),
            "audit_trail": audit_trail,
            "form": form,
            "may_accept": finding.status == Finding.Status.OPEN
            and grants_for(request.user).allows(APPROVE, finding.domain.arn),
        },
    )


@login_required
def policy_form(request: HttpRequest, domain_pk: int) -> HttpResponse:
    domain = get_object_or_404(Domain.objects.restrict(request.user, APPROVE), pk=domain_pk, removed_at__isnull=True)
    policy = services.policy_of(domain)
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_edit_policy(request.user, domain, **{n: form.cleaned_data[n] for n in services.POLICY_FIELDS})
        except ValidationError as exc:
            for field, errors in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, f"The governance policy of {domain.name} is saved.")
            return redirect("governance:policy", domain_pk=domain.pk)
    return render(request, "governance/policy_form.html", {"form": form, "domain": domain})


# -- the overview and idle compliance ---------------------------------------------------------------------------
IDLE_APPS_PER_PAGE = 25


def _page_or_partial(request: HttpRequest, page: str, partial: str, context: dict[str, Any]) -> HttpResponse:
    """The whole page, or for HTMX (a filter change, a page link) only what ``#results`` holds."""
    params = request.GET.copy()
    params.pop("page", None)
    context["querystring"] = params.urlencode()
    # The domain and account filters alone, for links to the findings list (which sorts by other keys).
    context["scope_querystring"] = urlencode({k: request.GET[k] for k in ("domain", "account") if request.GET.get(k)})
    template = partial if getattr(request, "htmx", False) and not request.htmx.boosted else page
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Posture per domain with its trend, the top findings and the Studio Classic retirement tracker."""
    scope, domains = governance_scope(request, request.GET)
    return _page_or_partial(
        request,
        "governance/overview.html",
        "governance/_overview_body.html",
        {
            "filterset": scope,
            "overview": posture.overview(request.user, domains),
            "filtered": any(request.GET.get(name) for name in scope.filters),
            "posture_check_hours": posture.schedule_hours(),
        },
    )


@login_required
def idle_compliance(request: HttpRequest) -> HttpResponse:
    """Idle shutdown shares per domain, and the idle apps with their hours and cost, paginated and sortable."""
    scope, domains = governance_scope(request, request.GET)
    report = idle.report(request.user, domains, sort=request.GET.get("sort"))
    paginator = Paginator(report.apps, IDLE_APPS_PER_PAGE)
    page_obj = paginator.get_page(request.GET.get("page"))
    return _page_or_partial(
        request,
        "governance/idle.html",
        "governance/_idle_body.html",
        {
            "filterset": scope,
            "report": report,
            "sort": report.sorting,
            "paginator": paginator,
            "page_obj": page_obj,
            "is_paginated": page_obj.has_other_pages(),
            "filtered": any(request.GET.get(name) for name in scope.filters),
            "policy_editable": {d.pk for d in domains if grants_for(request.user).allows(APPROVE, d.arn)},
        },
    )
