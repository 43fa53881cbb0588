"""The spend dashboard and its CSV exports: rollups only, scoped to what the person may see."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from costs import budgets, reports
from costs.forms import BudgetForm, SpendFilterForm
from costs.ingest import IngestionScopeError, start_cost_ingestion
from costs.models import Budget, BudgetAlert, SpendRollup
from domains.models import Domain
from portal.csvexport import SafeCsvWriter
from portal.models import TaskRun
from portal.scoping import ALL_DOMAINS, MANAGE, VIEW_COSTS, grants_for

EXPORTS = {
    "domains": SpendRollup.Level.DOMAIN,
    "profiles": SpendRollup.Level.PROFILE,
    "spaces": SpendRollup.Level.SPACE,
}


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form = SpendFilterForm.for_user(request.user, request.GET)
    window = form.cleaned_data["window"] if form.is_valid() else reports.default_window(timezone.localdate())
    rollups = form.rollups(request.user)
    export = request.GET.get("export")
    if export in EXPORTS:
        return _csv(export, reports.totals(rollups, window, EXPORTS[export]), window)
    context: dict[str, Any] = {
        "form": form,
        "window": window,
        "series": reports.series_by_domain(rollups, window),
        "domains": reports.totals(rollups, window, SpendRollup.Level.DOMAIN),
        "profiles": reports.totals(rollups, window, SpendRollup.Level.PROFILE, limit=10),
        "spaces": reports.totals(rollups, window, SpendRollup.Level.SPACE, limit=10),
        "month": reports.month_figures(rollups, timezone.localdate()),
        "untagged": reports.untagged_share(rollups, window),
        "inactive_tags": reports.inactive_tags() if grants_for(request.user).domains_for(VIEW_COSTS) else [],
        "querystring": request.GET.urlencode(),
        "can_ingest": grants_for(request.user).domains_for(VIEW_COSTS) is ALL_DOMAINS,
    }
    context["domains_total"] = sum((row["amount"] for row in context["domains"]), Decimal(0))
    in_view = [row["domain_arn"] for row in context["domains"] if row["domain_arn"]]
    by_arn = {
        s["budget"].domain.arn: s
        for s in budgets.statuses(
            Budget.objects.restrict(request.user, VIEW_COSTS).filter(domain__arn__in=in_view), timezone.localdate()
        ).values()
    }
    for row in context["domains"]:
        row["budget"] = by_arn.get(row["domain_arn"])
    return render(request, "costs/dashboard.html", context)


def _csv(kind: str, rows: list[dict[str, Any]], window: reports.Window) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="spend-{kind}-{window.start}-{window.end}.csv"'
    writer = SafeCsvWriter(response)
    writer.writerow(["domain", "name", "arn", "amount_usd", "share_percent", "start", "end"])
    for row in rows:
        writer.writerow([row["domain"], row["name"], row["arn"], row["amount"], row["share"], window.start, window.end])
    writer.writerow(
        [
            "total",
            "",
            "",
            sum((r["amount"] for r in rows), Decimal(0)),
            "100.0" if rows else "0",
            window.start,
            window.end,
        ]
    )
    return response


@login_required
def budget_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    domains = (
        Domain.objects.restrict(request.user, VIEW_COSTS)
        .filter(removed_at__isnull=True)
        .select_related("account")
        .order_by("name")
    )
    manageable = set(Domain.objects.restrict(request.user, MANAGE).values_list("pk", flat=True))
    by_domain = budgets.statuses(Budget.objects.filter(domain__in=domains), today)
    rows = [{"domain": d, "status": by_domain.get(d.pk), "can_manage": d.pk in manageable} for d in domains]
    alerts = BudgetAlert.objects.filter(budget__domain__in=domains).select_related("budget__domain")[:20]
    return render(request, "costs/budget_list.html", {"rows": rows, "alerts": alerts, "month": today})


@login_required
def budget_form(request: HttpRequest, domain_pk: int) -> HttpResponse:
    domain = get_object_or_404(Domain.objects.restrict(request.user, MANAGE), pk=domain_pk)
    budget = Budget.objects.filter(domain=domain).first()
    initial = (
        {"monthly_amount": budget.monthly_amount, "thresholds": ", ".join(map(str, budget.thresholds))}
        if budget
        else None
    )
    form = BudgetForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if request.POST.get("delete") and budget is not None:
            budgets.do_delete_budget(budget, actor=request.user)
            messages.success(request, f"The budget of {domain.name} was removed.")
            return redirect("costs:budget-list")
        if form.is_valid():
            try:
                budgets.do_set_budget(domain, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Budget of {domain.name} saved.")
                return redirect("costs:budget-list")
    return render(request, "costs/budget_form.html", {"form": form, "domain": domain, "budget": budget})


@login_required
@require_POST
def ingest_start(request: HttpRequest) -> HttpResponse:
    """Read Cost Explorer now (platform admins and finance for every domain): starts or joins an ingestion."""
    grants = grants_for(request.user)
    if not (grants.is_admin or grants.domains_for(VIEW_COSTS) is ALL_DOMAINS):
        raise Http404("No such page.")
    try:
        run, created = start_cost_ingestion(actor=request.user, trigger=TaskRun.Trigger.USER)
    except IngestionScopeError as exc:
        messages.error(request, str(exc))
        return redirect("costs:dashboard")
    if not created:
        messages.info(request, "An ingestion was already running; you are following it.")
    if request.htmx:
        return render(request, "portal/_run_progress.html", {"run": run, "inline": True})
    return redirect(run.get_absolute_url())
