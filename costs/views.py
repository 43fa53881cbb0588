"""The spend dashboard and its CSV exports: rollups only, scoped to what the person may see."""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from costs import reports
from costs.forms import SpendFilterForm
from costs.models import SpendRollup
from domains.models import Domain
from portal.scoping import VIEW_COSTS, grants_for

EXPORTS = {"domains": SpendRollup.Level.DOMAIN, "profiles": SpendRollup.Level.PROFILE,
           "spaces": SpendRollup.Level.SPACE}


def scoped_rollups(request: HttpRequest, form: SpendFilterForm) -> QuerySet:
    rollups = SpendRollup.objects.restrict(request.user, VIEW_COSTS)
    data = form.cleaned_data if form.is_valid() else {}
    if data.get("account"):
        rollups = rollups.filter(domain_arn__contains=f":{data['account']}:domain/")
    if data.get("domain"):
        rollups = rollups.filter(domain_arn=data["domain"])
    return rollups


def _form(request: HttpRequest) -> SpendFilterForm:
    domains = Domain.objects.restrict(request.user, VIEW_COSTS).order_by("name").values_list("arn", "name")
    return SpendFilterForm(request.GET, domains=list(domains), today=timezone.localdate())


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    window = form.cleaned_data["window"] if form.is_valid() else reports.default_window(timezone.localdate())
    rollups = scoped_rollups(request, form)
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
    }
    context["domains_total"] = sum((row["amount"] for row in context["domains"]), Decimal(0))
    return render(request, "costs/dashboard.html", context)


def _csv(kind: str, rows: list[dict[str, Any]], window: reports.Window) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="spend-{kind}-{window.start}-{window.end}.csv"'
    writer = csv.writer(response)
    writer.writerow(["domain", "name", "arn", "amount_usd", "share_percent", "start", "end"])
    for row in rows:
        writer.writerow([row["domain"], row["name"], row["arn"], row["amount"], row["share"], window.start,
                         window.end])
    writer.writerow(["total", "", "", sum((r["amount"] for r in rows), Decimal(0)), "100.0" if rows else "0",
                     window.start, window.end])
    return response
