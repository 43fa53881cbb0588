"""Governance pages: the overview (posture per domain, top findings, the Studio Classic retirement tracker), idle
compliance, the findings list (with CSV export and the "Fix all N" groups), a finding with its evidence, history
and audit trail (and the accept-risk form and the Fix button), the fix preview that proposes a change set, a
domain's governance policy."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode

from domains.models import Domain
from governance import idle, posture, proposals, services
from governance.filtersets import FindingFilterSet, governance_scope
from governance.forms import AcceptForm, PolicyForm
from governance.models import Finding, FindingFix
from portal.csvexport import csv_response
from portal.listing import FilteredListView
from portal.models import AuditEvent
from portal.registry import registry
from portal.scoping import ALL_DOMAINS, APPROVE, VIEW, grants_for
from profiles.models import App


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

    def get_queryset(self) -> QuerySet:
        pending = FindingFix.objects.filter(finding=OuterRef("pk"), change_set__status__in=proposals.PENDING)
        return super().get_queryset().annotate(pending_fix=Subquery(pending.values("change_set_id")[:1]))

    def fix_groups(self) -> list[dict[str, Any]]:
        """Per check and domain (as filtered), the open findings this person may fix that no pending change set
        fixes yet: the "Fix all N" actions. One query."""
        domains = grants_for(self.request.user).domains_for(APPROVE)
        if not domains or (self.filterset.is_bound and not self.filterset.is_valid()):
            return []
        rows = self.filterset.qs.filter(
            status=Finding.Status.OPEN, fix_plannable=True, check_id__in=proposals.fixable_check_ids()
        ).exclude(pk__in=FindingFix.objects.filter(change_set__status__in=proposals.PENDING).values("finding_id"))
        if domains is not ALL_DOMAINS:
            rows = rows.filter(domain__arn__in=domains)
        groups = (
            rows.order_by()
            .values("check_id", "domain__domain_id", "domain__name")
            .annotate(count=Count("pk"))
            .order_by("domain__name", "check_id")
        )
        checks = registry.checks
        return [{**g, "title": checks[g["check_id"]].title if g["check_id"] in checks else ""} for g in groups]

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
        context["fix_groups"] = groups = self.fix_groups()
        context["fix_groups_findings"] = sum(g["count"] for g in groups)
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
            **_fix_context(request.user, finding),
        },
    )


def _fix_context(user: Any, finding: Finding) -> dict[str, Any]:
    """The finding's fixes (change sets proposed for it) and whether this person may propose one now."""
    fixes = proposals.fixes_of(finding)
    pending = next((cs for cs in fixes if cs.status in proposals.PENDING), None)
    return {"fixes": fixes, "pending_fix": pending, "may_fix": pending is None and proposals.may_fix(user, finding)}


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


# -- fixes: a finding's (or a check's, in one domain) fix previewed, confirmed, proposed as a change set -------------
def _selection(params: Any) -> dict[str, Any]:
    return {
        "finding_ids": proposals.parse_ids(params.getlist("findings")),
        "check_id": (params.get("check") or "").strip(),
        "domain_key": (params.get("domain") or "").strip(),
    }


def _tag_values(params: Any) -> dict[str, str]:
    return {key[4:]: value for key, value in params.items() if key.startswith("tag.") and len(key) > 4}


def _messages_of(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [message for messages_ in exc.message_dict.values() for message in messages_]
    return exc.messages


def _calls(fix: proposals.FixPlan) -> list[dict[str, Any]]:
    """The planned calls as the preview lists them: each with its resource as people name it (the domain, a
    profile or space by name, an app with its type and owner) and its fields before and after."""
    app_arns = [c.resource_arn for c in fix.changes if c.resource_kind == "app"]
    apps = {a.arn: a for a in App.objects.filter(arn__in=app_arns)} if app_arns else {}

    def label(change: Any) -> str:
        if change.resource_kind == "domain":
            return fix.domain.name
        app = apps.get(change.resource_arn)
        if app is not None:
            return f"{app.app_type} {app.name} on {app.space_name or app.user_profile_name}"
        return change.resource_arn.rsplit("/", 1)[-1]

    return [
        {
            "position": i + 1,
            "change": change,
            "resource_label": label(change),
            "diff": [(path, change.before.get(path), value) for path, value in change.after.items()],
        }
        for i, change in enumerate(fix.changes)
    ]


@login_required
def fix(request: HttpRequest) -> HttpResponse:
    """The fix of findings: GET shows the plan (the exact calls, before and after, the apps to restart, the saving)
    or why there is none; POST (the confirmation) proposes it and leads to the change set. Someone who may fix nothing
    named here gets a 404."""
    if not grants_for(request.user).domains_for(APPROVE):
        raise Http404("No such page.")
    params = request.POST if request.method == "POST" else request.GET
    context: dict[str, Any] = {"findings": [], "plan": None, "errors": [], "tag_fields": [], "tag_values": {}}
    try:
        selection = _selection(params)
        context["selection"] = selection
        findings = proposals.resolve(request.user, **selection)
    except proposals.NotFound as exc:
        raise Http404(str(exc)) from None
    except ValidationError as exc:
        context["errors"] = _messages_of(exc)
        return render(request, "governance/fix.html", context, status=400)
    tag_values = _tag_values(params)
    context.update(findings=findings, tag_values=tag_values)
    missing = proposals.missing_tags_for(findings)
    context["tag_fields"] = [(key, tag_values.get(key, "")) for key in missing]
    try:
        plan = proposals.plan(request.user, findings, tag_values=tag_values)
    except ValidationError as exc:
        context["errors"] = _messages_of(exc)
        return render(request, "governance/fix.html", context, status=400)
    context.update(plan=plan, calls=_calls(plan), restart_apps=plan.restart_apps())
    if request.method == "POST":
        try:
            change_set = proposals.do_propose_fix(
                request.user,
                findings,
                tag_values=tag_values,
                title=params.get("title", ""),
                expected_digest=params.get("digest", ""),
            )
        except ValidationError as exc:
            context["errors"] = _messages_of(exc)
            return render(request, "governance/fix.html", context, status=400)
        messages.success(
            request,
            f"{change_set.ref} proposed: another approver of {plan.domain.name} approves it, then a worker applies it.",
        )
        return redirect(change_set)
    return render(request, "governance/fix.html", context)
