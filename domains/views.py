"""Pages of the domains app: AWS accounts, domains, inventory sync runs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from domains import services
from domains.filtersets import AwsAccountFilterSet, DomainFilterSet
from domains.forms import AwsAccountForm, SyncStartForm
from domains.models import AwsAccount, Domain
from domains.sync import INVENTORY_SYNC, SyncScopeError, start_inventory_sync
from portal import runs
from portal.listing import FilteredListView
from portal.models import TaskRun
from portal.run_views import progress_fragment
from portal.scoping import MANAGE, SYNC, grants_for, require_admin
from portal.validation import bad_request


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` the form posted when it stays on this site, else ``fallback`` (no open redirect)."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(fallback)


def member_count(relation: str, extra: Q | None = None) -> Coalesce:
    """A correlated count of a domain's active members (profiles, spaces, apps) without importing their app."""
    model = Domain._meta.get_field(relation).related_model
    members = model.objects.filter(domain=OuterRef("pk"), removed_at__isnull=True)
    if extra is not None:
        members = members.filter(extra)
    counted = members.order_by().values("domain").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def with_member_counts(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("account").annotate(
        profile_count=member_count("user_profiles"),
        space_count=member_count("spaces"),
        running_app_count=member_count("apps", Q(status="InService")),
    )


# -- accounts ---------------------------------------------------------------------------------------------------
class AccountListView(FilteredListView):
    model = AwsAccount
    filterset_class = AwsAccountFilterSet
    template_name = "domains/account_list.html"
    partial_template_name = "domains/_account_rows.html"

    def decorate(self, queryset: QuerySet) -> QuerySet:
        counted = queryset.annotate(domain_count=Count("domains", filter=Q(domains__removed_at__isnull=True)))
        return counted.order_by("name", "account_id")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_admin(request.user)
        return super().get(request, *args, **kwargs)


@login_required
def account_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_admin(request.user)
    account = get_object_or_404(AwsAccount.objects.restrict(request.user, MANAGE), pk=pk) if pk else None
    form = AwsAccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        try:
            if account is None:
                account = services.do_add_account(actor=request.user, **form.cleaned_data)
                messages.success(request, f"Account {account} added; access checked as {account.verified_identity}.")
            else:
                services.do_update_account(account, actor=request.user, **form.cleaned_data)
                messages.success(request, f"Account {account} saved.")
            return redirect("domains:account-list")
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except services.AccountAccessError as exc:
            form.add_error(None, str(exc))
    return render(request, "domains/account_form.html", {"form": form, "account": account})


@login_required
@require_POST
def account_verify(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    account = get_object_or_404(AwsAccount.objects.restrict(request.user, MANAGE), pk=pk)
    try:
        services.do_verify_account(account, actor=request.user)
        messages.success(request, f"Access to {account} works: {account.verified_identity}.")
    except services.AccountAccessError as exc:
        messages.error(request, str(exc))
    return redirect("domains:account-list")


# -- domains ----------------------------------------------------------------------------------------------------
class DomainListView(FilteredListView):
    model = Domain
    filterset_class = DomainFilterSet
    template_name = "domains/domain_list.html"
    partial_template_name = "domains/_domain_rows.html"

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return with_member_counts(queryset)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        grants = grants_for(self.request.user)
        context["can_sync_all"] = grants.is_admin
        context["has_accounts"] = AwsAccount.objects.exists() if grants.is_admin else True
        context["stale_minutes"] = settings.INVENTORY_STALE_MINUTES
        active_run = (
            TaskRun.objects.restrict(self.request.user)
            .filter(kind=INVENTORY_SYNC.kind, status__in=TaskRun.ACTIVE)
            .first()
        )
        context["active_run"] = active_run and runs.seen_by(active_run, self.request.user)
        return context


@login_required
def domain_detail(request: HttpRequest, pk: int) -> HttpResponse:
    domain = get_object_or_404(with_member_counts(Domain.objects.restrict(request.user)), pk=pk)
    can_sync = Domain.objects.restrict(request.user, SYNC).filter(pk=domain.pk).exists()
    return render(
        request,
        "domains/domain_detail.html",
        {
            "domain": domain,
            "can_sync": can_sync,
            "stale_minutes": settings.INVENTORY_STALE_MINUTES,
            "settings_rows": _settings_rows(domain),
        },
    )


def _settings_rows(domain: Domain) -> list[tuple[str, Any]]:
    snapshot = domain.settings_snapshot or {}
    defaults = snapshot.get("DefaultUserSettings", {})
    idle = defaults.get("JupyterLabAppSettings", {}).get("AppLifecycleManagement", {}).get("IdleSettings", {})
    portal_settings = defaults.get("StudioWebPortalSettings", {})
    return [
        ("Auth mode", domain.auth_mode),
        ("Network access", domain.network_access_type),
        ("VPC", domain.vpc_id or "-"),
        ("Subnets", ", ".join(domain.subnet_ids) or "-"),
        ("Default execution role", domain.default_execution_role or "-"),
        ("Studio experience", domain.get_studio_experience_display()),
        ("Default landing", defaults.get("DefaultLandingUri", "-")),
        (
            "Idle shutdown (JupyterLab)",
            f"{idle.get('LifecycleManagement', 'not set')}"
            + (f", {idle['IdleTimeoutInMinutes']} min" if idle.get("IdleTimeoutInMinutes") else ""),
        ),
        ("Hidden app types", ", ".join(portal_settings.get("HiddenAppTypes", [])) or "-"),
        ("Hidden ML tools", ", ".join(portal_settings.get("HiddenMlTools", [])) or "-"),
        ("Tag propagation", domain.tag_propagation or "-"),
        ("Studio URL", domain.url or "-"),
    ]


# -- sync runs (their list, detail and progress pages are portal.run_views) -------------------------------------
@login_required
@require_POST
def sync_start(request: HttpRequest) -> HttpResponse:
    """Start (or join) a sync of everything (admins), an account (admins) or a domain (its approvers)."""
    form = SyncStartForm(request.POST)
    if not form.is_valid():
        return bad_request(request, " ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()))
    domain_pk = form.cleaned_data["domain"]
    account_id = form.cleaned_data["account"] or None
    if domain_pk:
        domain = get_object_or_404(Domain.objects.restrict(request.user, SYNC), pk=domain_pk)
        scope: dict[str, Any] = {"domain_id": domain.domain_id}
    else:
        require_admin(request.user)
        scope = {"account_id": account_id, "region": form.cleaned_data["region"] or None}
    try:
        run, created = start_inventory_sync(actor=request.user, trigger=TaskRun.Trigger.USER, **scope)
    except SyncScopeError as exc:
        messages.error(request, str(exc))
        return redirect(safe_next(request, "domains:domain-list"))
    if not created:
        messages.info(request, f"A sync of {run.scope_label} was already running; you are following it.")
    if request.htmx:
        return progress_fragment(request, run, inline=True)
    return redirect(reverse("domains:syncrun-detail", args=[run.pk]))
