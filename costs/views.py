"""The spend dashboard and its CSV exports: rollups only, scoped to what the person may see."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from costs import budgets, reports
from costs.forms import BudgetForm, SpendFilterForm
from costs.ingest import IngestionScopeError, start_cost_ingestion
from costs.models import Budget, BudgetAlert, CostTagStatus, SpendRollup
from costs.tag_check import start_tag_check
from domains.models import Domain
from portal.csvexport import SafeCsvWriter
from portal.models import TaskRun
from portal.run_views import progress_fragment
from portal.scoping import ALL_DOMAINS, MANAGE, VIEW_COSTS, grants_for
from profiles.models import Space, UserProfile

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
    domain_rows = form.domain_rows(request.user)
    export = request.GET.get("export")
    if export in EXPORTS:
        return _csv(export, reports.totals(rollups, window, EXPORTS[export], domain_rows=domain_rows), window)
    grants = grants_for(request.user)
    filters = {
        "start": window.start,
        "end": window.end,
        **{name: form.cleaned_data.get(name) if form.is_valid() else "" for name in ("account", "domain")},
    }
    readable = grants.domains_for(VIEW_COSTS)
    tag_statuses = (
        list(CostTagStatus.objects.select_related("payer").order_by("payer__account_id", "tag_key")) if readable else []
    )

    def figures_html() -> dict[str, Any]:
        figures = reports.cached_figures(grants, filters, lambda: _figures(rollups, window, domain_rows))
        return {
            "html": render_to_string("costs/_figures.html", _figures_context(request, grants, figures, window)),
            "data_through": figures["month"]["data_through"],
        }

    # The query string is in the key: the export links repeat it.
    rendered = reports.cached_rendering(grants, {**filters, "query": request.GET.urlencode()}, figures_html)
    context: dict[str, Any] = {
        "form": form,
        "figures_html": mark_safe(rendered["html"]),  # rendered by our template, escaped there
        "data_through": rendered["data_through"],
        "inactive_tags": [status for status in tag_statuses if status.status != "Active"],
        "can_ingest": readable is ALL_DOMAINS,
        "tag_statuses": tag_statuses,
    }
    return render(request, "costs/dashboard.html", context)


def _figures_context(
    request: HttpRequest, grants: Any, figures: dict[str, Any], window: reports.Window
) -> dict[str, Any]:
    """The figures with today's names, links and budgets: what ``costs/_figures.html`` renders."""
    reports.relabel(figures)
    domains, profiles, spaces = figures["domains"], figures["profiles"], figures["spaces"]
    links = _links(domains, profiles, spaces)
    for row in [*domains, *profiles, *spaces]:
        row["url"] = links.get(row["arn"])
        row["domain_url"] = links.get(row["domain_arn"])
    in_view = [row["domain_arn"] for row in domains if row["domain_arn"]]
    by_arn = {
        s["budget"].domain.arn: s
        for s in budgets.statuses(
            Budget.objects.restrict(request.user, VIEW_COSTS).filter(domain__arn__in=in_view), timezone.localdate()
        ).values()
    }
    readable = grants.domains_for(VIEW_COSTS)
    for row in domains:
        row["budget"] = by_arn.get(row["domain_arn"])
        # A data scientist's row is their own spend in the domain; its budget is not theirs to see.
        row["budget_hidden"] = readable is not ALL_DOMAINS and row["domain_arn"] not in readable
    return {
        "window": window,
        **{name: value for name, value in figures.items() if name != "series_arns"},
        "querystring": request.GET.urlencode(),
    }


def _figures(rollups: Any, window: reports.Window, domain_rows: Any) -> dict[str, Any]:
    """The dashboard's spend figures: what the cache keeps per scope, filters and ingestion (no links, budgets)."""
    domains = reports.totals(rollups, window, SpendRollup.Level.DOMAIN, domain_rows=domain_rows)
    domains_total = sum((row["amount"] for row in domains), Decimal(0))
    profiles = reports.totals(rollups, window, SpendRollup.Level.PROFILE, limit=10, of=domains_total)
    spaces = reports.totals(rollups, window, SpendRollup.Level.SPACE, limit=10, of=domains_total)
    series = reports.series_by_domain(rollups, window, domain_rows=domain_rows)
    return {
        "series": {"labels": series["labels"], "datasets": series["datasets"]},
        "series_arns": series["arns"],
        "domains": domains,
        "domains_total": domains_total,
        "profiles": profiles,
        "spaces": spaces,
        "profiles_other": reports.other_row(
            profiles, domains_total, "other profiles, and spend not tied to any profile (jobs, endpoints...)"
        ),
        "spaces_other": reports.other_row(
            spaces, domains_total, "other spaces, and spend outside spaces (jobs, endpoints, apps without a space...)"
        ),
        "month": reports.month_figures(rollups, timezone.localdate(), domain_rows=domain_rows),
        "untagged": reports.untagged_share(rollups, window, domain_rows=domain_rows),
    }


def _links(*tables: list[dict[str, Any]]) -> dict[str, str]:
    """The inventory page of each domain, profile and space the tables name, by ARN (three queries in all)."""
    rows = [row for table in tables for row in table]
    domain_arns = {row["domain_arn"] for row in rows if row["domain_arn"]}
    member_arns = {row["arn"] for row in rows if row["arn"]} - domain_arns
    links = {arn: reverse("domains:domain-detail", args=[pk]) for arn, pk in reports.domain_pks(domain_arns).items()}
    for arn, pk in UserProfile.objects.filter(arn__in=member_arns).values_list("arn", "pk"):
        links[arn] = reverse("profiles:profile-detail", args=[pk])
    for arn, pk in Space.objects.filter(arn__in=member_arns).values_list("arn", "pk"):
        links[arn] = reverse("profiles:space-detail", args=[pk])
    return links


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


def _require_cost_reader(user: Any) -> None:
    """Platform admins and finance for every domain read Cost Explorer on demand; others get 404."""
    grants = grants_for(user)
    if not (grants.is_admin or grants.domains_for(VIEW_COSTS) is ALL_DOMAINS):
        raise Http404("No such page.")


@login_required
@require_POST
def ingest_start(request: HttpRequest) -> HttpResponse:
    """Read Cost Explorer now (platform admins and finance for every domain): starts or joins an ingestion."""
    _require_cost_reader(request.user)
    try:
        run, created = start_cost_ingestion(actor=request.user, trigger=TaskRun.Trigger.USER)
    except IngestionScopeError as exc:
        messages.error(request, str(exc))
        return redirect("costs:dashboard")
    if not created:
        messages.info(request, "An ingestion was already running; you are following it.")
    if request.htmx:
        return progress_fragment(request, run, inline=True)
    return redirect(run.get_absolute_url())


@login_required
@require_POST
def tag_check_start(request: HttpRequest) -> HttpResponse:
    """Check now whether the SageMaker tags are active cost allocation tags (otherwise checked once a day)."""
    _require_cost_reader(request.user)
    run, created = start_tag_check(actor=request.user, trigger=TaskRun.Trigger.USER)
    if not created:
        messages.info(request, "A check of the tags was already running; you are following it.")
    if request.htmx:
        return progress_fragment(request, run, inline=True)
    return redirect(run.get_absolute_url())
