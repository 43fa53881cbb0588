"""Tag backfill pages: coverage (table and chart), the discovered resources (filterable, CSV), one resource with
its evidence (and an admin's exception), and the admins' attribution rules with their effect previewed."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from backfill import costtags, services, wizard
from backfill import coverage as coverage_module
from backfill.discovery import BACKFILL_DISCOVERY, start_discovery
from backfill.filtersets import LegacyResourceFilterSet
from backfill.forms import CostTagBackfillForm, ExceptForm, PlanForm, RuleForm
from backfill.models import (
    AttributionRule,
    BackfillItem,
    BackfillPlan,
    CostTagBackfill,
    LegacyResource,
    may_backfill_costs,
)
from domains.models import Domain
from portal.csvexport import csv_response
from portal.listing import FilteredListView
from portal.models import TaskRun
from portal.run_views import progress_fragment
from portal.scoping import MEMBER_WIDE_ROLES, domain_q, grants_for, require_admin


def _add_errors(form: Any, exc: ValidationError) -> None:
    for field, errors in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@login_required
def coverage_page(request: HttpRequest) -> HttpResponse:
    rows = coverage_module.coverage(LegacyResource.objects.restrict(request.user))
    is_admin = grants_for(request.user).is_admin
    last_run = (
        TaskRun.objects.restrict(request.user).filter(kind=BACKFILL_DISCOVERY.kind).order_by("-pk").first()
        if is_admin
        else None
    )
    return render(
        request,
        "backfill/coverage.html",
        {
            "rows": rows,
            "totals": coverage_module.totals(rows),
            "chart": coverage_module.chart(rows),
            "is_admin": is_admin,
            "last_run": last_run,
            "may_backfill_costs": may_backfill_costs(grants_for(request.user)),
        },
    )


def coverage_domain(user: Any, pk: int) -> Domain:
    """A domain whose coverage this person reads (platform admins, and the domain's approvers, finance and team
    leads); anything else answers 404."""
    grants = grants_for(user)
    domains = Domain.objects.filter(removed_at__isnull=True).select_related("account")
    if not grants.is_admin:
        visible = grants.domains_for("view", roles=MEMBER_WIDE_ROLES)
        if not visible:
            raise Http404("No such domain.")
        domains = domains.filter(domain_q(visible, "arn"))
    return get_object_or_404(domains, pk=pk)


@login_required
def domain_coverage_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One domain's coverage by type, whether it is complete, and what the apps above add (the isolation
    rollout)."""
    domain = coverage_domain(request.user, pk)
    found = coverage_module.domain_coverage(domain)
    return render(
        request,
        "backfill/domain_coverage.html",
        {"domain": domain, "found": found, "is_admin": grants_for(request.user).is_admin},
    )


@login_required
@require_POST
def discover(request: HttpRequest) -> HttpResponse:
    """Discover now (platform admins): starts a discovery of every account and region, or joins the one running."""
    require_admin(request.user)
    run, created = start_discovery(actor=request.user)
    if not created:
        messages.info(request, "A discovery was already running; you are following it.")
    if request.htmx:
        return progress_fragment(request, run, inline=True)
    return redirect(run.get_absolute_url())


CSV_HEADER = [
    "type",
    "name",
    "arn",
    "account",
    "region",
    "created",
    "coverage",
    "domain",
    "domain arn",
    "decided by",
    "evidence",
    "why unattributed",
    "excepted because",
]


class ResourceListView(FilteredListView):
    model = LegacyResource
    filterset_class = LegacyResourceFilterSet
    template_name = "backfill/resource_list.html"
    partial_template_name = "backfill/_resource_rows.html"
    default_sort = "type"

    def scoped_queryset(self) -> QuerySet:
        return LegacyResource.objects.restrict(self.request.user).filter(removed_at__isnull=True)

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("domain")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.GET.get("format") == "csv":
            rows = self.get_queryset()
            return csv_response(
                "legacy-resources.csv",
                [CSV_HEADER]
                + [
                    [
                        r.resource_type,
                        r.name,
                        r.arn,
                        r.account_id,
                        r.region,
                        r.aws_created_at.isoformat() if r.aws_created_at else "",
                        r.get_coverage_display(),
                        r.domain.name if r.domain else "",
                        r.domain_arn,
                        r.get_rule_display() if r.rule else "",
                        "; ".join(f"{e['field']}={e['value']} ({e['source']})" for e in r.evidence),
                        r.why_unattributed,
                        r.excepted_reason,
                    ]
                    for r in rows.iterator()
                ],
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "is_admin": grants_for(self.request.user).is_admin}


@login_required
def resource_detail(request: HttpRequest, pk: int) -> HttpResponse:
    resource = get_object_or_404(LegacyResource.objects.restrict(request.user).select_related("domain"), pk=pk)
    is_admin = grants_for(request.user).is_admin
    form = ExceptForm(request.POST or None)
    if request.method == "POST":
        require_admin(request.user)
        try:
            if request.POST.get("action") == "unexcept":
                services.do_unexcept(request.user, resource)
                messages.success(request, f"{resource.name} is back in the backfill.")
                return redirect("backfill:resource-detail", pk=resource.pk)
            if form.is_valid():
                services.do_except(request.user, resource, reason=form.cleaned_data["reason"])
                messages.success(request, f"{resource.name} is excepted from the backfill.")
                return redirect("backfill:resource-detail", pk=resource.pk)
        except ValidationError as exc:
            _add_errors(form, exc)
    upstream = None
    if resource.upstream_arn:
        upstream = LegacyResource.objects.restrict(request.user).filter(arn=resource.upstream_arn).first()
    return render(
        request,
        "backfill/resource_detail.html",
        {"resource": resource, "form": form, "is_admin": is_admin, "upstream": upstream},
    )


@login_required
def rules_page(request: HttpRequest) -> HttpResponse:
    """The admins' attribution rules. Adding one shows its effect first; only then can it be saved."""
    require_admin(request.user)
    form = RuleForm(request.POST or None)
    preview, previewed = None, ""
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in ("kind", "prefix", "domain")}
        previewed = f"{values['kind']}|{values['prefix'].strip()}|{values['domain'].pk}"
        try:
            if request.POST.get("confirm") == "save" and request.POST.get("previewed") != previewed:
                messages.warning(request, "The rule changed since its preview: here is the effect of this one.")
            elif request.POST.get("confirm") == "save":
                rule = services.do_add_rule(request.user, note=form.cleaned_data["note"], **values)
                messages.success(request, f"Rule saved: {rule}. Attribution has been recomputed.")
                return redirect("backfill:rules")
            preview = services.preview_rule(**values)
        except ValidationError as exc:
            _add_errors(form, exc)
    rules = AttributionRule.objects.select_related("domain", "domain__account", "created_by").annotate(
        decided=Count("resources", filter=Q(resources__removed_at__isnull=True))
    )
    context = {"form": form, "preview": preview, "rules": rules, "previewed": previewed if preview else ""}
    return render(request, "backfill/rules.html", context)


@login_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    rule = get_object_or_404(AttributionRule.objects.select_related("domain"), pk=pk)
    name = str(rule)
    changed = services.do_delete_rule(request.user, rule)
    messages.success(request, f"Rule deleted: {name}; {changed} resource(s) attributed again.")
    return redirect("backfill:rules")


# -- the wizard: plans ----------------------------------------------------------------------------------------------
@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """Backfill plans you may see (admins: all; approvers: those tagging their domains); admins make a new one."""
    plans = BackfillPlan.objects.restrict(request.user).select_related("created_by", "scope_domain", "run")
    is_admin = grants_for(request.user).is_admin
    form = PlanForm(request.POST or None)
    if request.method == "POST":
        require_admin(request.user)
        if form.is_valid():
            try:
                plan = wizard.do_plan(request.user, domain=form.cleaned_data["domain"])
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"{plan}: a dry run of {plan.total} resource(s). It needs approval now.")
                return redirect("backfill:plan-detail", pk=plan.pk)
    page = Paginator(plans, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "backfill/plan_list.html",
        {"page_obj": page, "object_list": page.object_list, "form": form, "is_admin": is_admin, "querystring": ""},
    )


PLAN_CSV_HEADER = ["type", "name", "arn", "account", "region", "domain", "decided by", "status", "detail"]


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(
        BackfillPlan.objects.restrict(request.user).select_related("created_by", "run", "scope_domain"), pk=pk
    )
    items = plan.items.order_by("chunk", "pk")
    if request.GET.get("format") == "csv":
        return csv_response(
            f"backfill-plan-{plan.pk}.csv",
            [PLAN_CSV_HEADER]
            + [
                [
                    i.resource_type,
                    i.name,
                    i.arn,
                    i.account_id,
                    i.region,
                    i.domain_arn,
                    i.rule,
                    i.get_status_display(),
                    i.detail,
                ]
                for i in items.iterator()
            ],
        )
    grants = grants_for(request.user)
    names = plan.counts.get("domain_names", {})
    approvals = {a.domain_arn: a for a in plan.approvals.select_related("approver")}
    domains = [
        {"arn": arn, "name": names.get(arn, arn), "count": n, "approval": approvals.get(arn)}
        for arn, n in plan.counts.get("domains", {}).items()
    ]
    statuses = dict(Counter(plan.items.values_list("status", flat=True)))
    sample = list(items.filter(status__in=["pending", "conflict", "failed", "too_many_tags"])[:25])
    for item in sample:
        item.domain_name = names.get(item.domain_arn, item.domain_arn)
    return render(
        request,
        "backfill/plan_detail.html",
        {
            "plan": plan,
            "domains": domains,
            "sample": sample,
            "statuses": [(label, statuses.get(value, 0)) for value, label in BackfillItem.Status.choices],
            "may_approve": bool(wizard.approvable_by(plan, request.user)),
            "retryable": plan.status == BackfillPlan.Status.PARTIAL
            and plan.items.filter(status=BackfillItem.Status.FAILED, detail__startswith=wizard.THROTTLED_OUT).exists(),
            "is_admin": grants.is_admin,
        },
    )


@login_required
@require_POST
def plan_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    plan = get_object_or_404(BackfillPlan.objects.restrict(request.user), pk=pk)
    actions = {"approve": wizard.do_approve, "cancel": wizard.do_cancel, "apply": wizard.do_apply}
    if action not in actions:
        raise Http404("No such action.")
    try:
        actions[action](request.user, plan)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        done = {"approve": "Approved.", "cancel": "The plan is cancelled.", "apply": "Applying: follow it below."}
        messages.success(request, done[action])
    return redirect("backfill:plan-detail", pk=plan.pk)


# -- spend follows: cost allocation tag backfills ------------------------------------------------------------------
def _require_cost_backfillers(request: HttpRequest) -> None:
    if not may_backfill_costs(grants_for(request.user)):
        raise Http404("No such page.")


@login_required
def cost_tag_backfills(request: HttpRequest) -> HttpResponse:
    """The cost allocation tag backfill requests (platform admins and finance), and the form to make one."""
    _require_cost_backfillers(request)
    form = CostTagBackfillForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            backfill = costtags.do_request(request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"{backfill}: requested. Another platform admin or finance person approves it.")
            return redirect("backfill:cost-tag-backfills")
    backfills = CostTagBackfill.objects.restrict(request.user).select_related("payer", "requested_by", "decided_by")
    page = Paginator(backfills, 25).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "paginator": page.paginator,
        "is_paginated": page.has_other_pages(),
        "object_list": page.object_list,
        "querystring": "",
    }
    if request.headers.get("HX-Request"):  # the pagination's links swap the table only
        return render(request, "backfill/_cost_tag_backfill_rows.html", context)
    tagged_at, tagged_by = costtags.last_tagging()
    context.update({"form": form, "tagged_at": tagged_at, "tagged_by": tagged_by})
    return render(request, "backfill/cost_tag_backfills.html", context)


@login_required
@require_POST
def cost_tag_backfill_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    _require_cost_backfillers(request)
    backfill = get_object_or_404(CostTagBackfill.objects.restrict(request.user).select_related("payer"), pk=pk)
    actions = {"approve": costtags.do_approve, "reject": costtags.do_reject}
    if action not in actions:
        raise Http404("No such action.")
    try:
        actions[action](request.user, backfill, request.POST.get("note", ""))
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        done = {
            "approve": "approved; a worker asks AWS now, and this list shows its answer.",
            "reject": "rejected.",
        }
        messages.success(request, f"{backfill}: {done[action]}")
    return redirect("backfill:cost-tag-backfills")
