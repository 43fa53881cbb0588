"""Pages of the IAM review: the execution roles (list and one role), and starting a review."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from domains.models import Domain
from iamaccess import access, generator, proposals, review, rollout
from iamaccess.filtersets import ExecutionRoleFilterSet
from iamaccess.forms import PolicyForm, ReviewStartForm
from iamaccess.models import ExecutionRole, RoleUse
from portal.csvexport import csv_response
from portal.listing import FilteredListView
from portal.models import TaskRun
from portal.run_views import progress_fragment
from portal.scoping import MANAGE, SYNC, domain_q, grants_for
from portal.validation import bad_request

USES_PER_PAGE = 50


def domains_by_role(user: Any, role_pks: list[int]) -> dict[int, list[tuple[str, str]]]:
    """The (id, name) of the domains (that this person manages) each role acts in: one query for a page of roles."""
    domains = grants_for(user).domains_for(MANAGE)
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    rows = (
        RoleUse.objects.filter(role_id__in=role_pks)
        .filter(domain_q(domains, "domain__arn"))
        .values_list("role_id", "domain__domain_id", "domain__name")
        .distinct()
        .order_by("role_id", "domain__name")
    )
    for role_pk, domain_id, name in rows:
        found[role_pk].append((domain_id, name))
    return found


class ExecutionRoleListView(FilteredListView):
    model = ExecutionRole
    filterset_class = ExecutionRoleFilterSet
    template_name = "iamaccess/role_list.html"
    partial_template_name = "iamaccess/_role_rows.html"
    default_sort = "name"

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("account")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rows = list(context["object_list"])
        served = domains_by_role(self.request.user, [r.pk for r in rows])
        for role in rows:
            role.domain_names = [name for _, name in served.get(role.pk, [])]
        context["object_list"] = rows
        context["may_review_all"] = access.may_review(self.request.user)
        return context


@login_required
def role_detail(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(access.roles_for(request.user).select_related("evaluation"), pk=pk)
    domains = access.visible_domains(request.user, role)
    uses = Paginator(access.visible_uses(request.user, role), USES_PER_PAGE).get_page(request.GET.get("page"))
    groups = access.probe_groups(access.probe_results(role, {d.domain_id for d in domains}))
    policies = [
        {"kind": "inline", "name": p["name"], "document": json.dumps(p["document"], indent=2)} for p in role.inline
    ]
    policies += [
        {
            "kind": "AWS managed" if p.get("aws_managed") else "customer managed",
            "name": p["name"],
            "arn": p["arn"],
            "version": p.get("version", ""),
            "document": json.dumps(p.get("document"), indent=2),
        }
        for p in role.attached
    ]
    if role.boundary:
        b = role.boundary
        policies.append(
            {
                "kind": "permissions boundary",
                "name": b["name"],
                "arn": b["arn"],
                "version": b.get("version", ""),
                "document": json.dumps(b.get("document"), indent=2),
            }
        )
    reviewable = [d for d in domains if access.may_review(request.user, d)]
    return render(
        request,
        "iamaccess/role_detail.html",
        {
            "role": role,
            "domains": domains,
            "uses": uses,
            "groups": groups,
            "policies": policies,
            "findings": access.role_findings(request.user, role, domains),
            "review_domain": reviewable[0] if len(reviewable) == 1 else None,
            "may_review_all": access.may_review(request.user),
        },
    )


@login_required
@require_POST
def review_start(request: HttpRequest) -> HttpResponse:
    """Start (or join) a review of every domain (platform admins) or of one domain (its approvers)."""
    form = ReviewStartForm(request.POST)
    if not form.is_valid():
        return bad_request(request, " ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()))
    domain = None
    if form.cleaned_data["domain"]:
        domain = get_object_or_404(
            Domain.objects.restrict(request.user, SYNC).filter(removed_at__isnull=True), pk=form.cleaned_data["domain"]
        )
    elif not access.may_review(request.user):
        raise Http404("No such page.")
    run, created = review.start_review(trigger=TaskRun.Trigger.USER, actor=request.user, domain=domain)
    if not created:
        messages.info(request, f"A review of {run.scope_label} was already running; you are following it.")
    if request.htmx:
        return progress_fragment(request, run, inline=True)
    return redirect(reverse("iamaccess:review-detail", args=[run.pk]))


DOWNLOADS = {
    "json": ("application/json", "json"),
    "terraform": ("text/plain", "tf"),
    "cloudformation": ("application/json", "cfn.json"),
}


@login_required
def role_policy(request: HttpRequest, pk: int) -> HttpResponse:
    """Generate one of the four policies for the role in one of its domains, check it, download it, and (POST)
    simulate the role's probes with it added."""
    role = get_object_or_404(access.roles_for(request.user).select_related("evaluation"), pk=pk)
    domains = access.visible_domains(request.user, role)
    data = request.POST if request.method == "POST" else request.GET
    form = PolicyForm(data or None, domains=domains)
    context: dict[str, Any] = {"role": role, "form": form, "proposal": None}
    if form.is_bound and form.is_valid():
        domain = form.cleaned_data["domain"]
        types = form.cleaned_data["instance_types"] or proposals.team_instance_types(role, domain)
        try:
            proposal = proposals.build(role, domain, form.cleaned_data["kind"], types)
        except ValidationError as exc:
            form.add_error("kind", exc)
            return render(request, "iamaccess/role_policy.html", context, status=400)
        download = request.GET.get("format")
        if download in DOWNLOADS:
            content_type, extension = DOWNLOADS[download]
            body = {"json": proposal.text + "\n", "terraform": proposal.terraform}.get(
                download, proposal.cloudformation
            )
            response = HttpResponse(body, content_type=content_type)
            name = generator.policy_name(proposal.kind, proposal.params)
            response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
            return response
        if request.method == "POST" and request.POST.get("step") == "propose":
            try:
                change_set = proposals.propose(proposal, request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    f"{change_set.ref} proposed: once another approver of {domain.name} approves it, a worker puts the "
                    f"policy on {role.name} and the role is read and simulated again.",
                )
                return redirect(change_set)
        elif request.method == "POST":
            try:
                proposal.simulation = proposals.simulate_proposal(proposal, request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
        context["proposal"] = proposal
        context["apply_blocker"] = proposals.apply_blocker(proposal, request.user)
        context["inline_name"] = proposals.inline_policy_name(proposal)
        context["querystring"] = data.urlencode() if request.method == "GET" else ""
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "iamaccess/role_policy.html", context, status=status)


LOCKOUT_CSV_HEADER = ["type", "name", "arn", "coverage", "actions denied"]


@login_required
def isolation_rollout(request: HttpRequest, pk: int) -> HttpResponse:
    """A domain's isolation rollout (its approvers): what the isolation policy would lock out if enforced now, the
    resources one by one (filter by type, CSV), and the policy for its execution roles once coverage is complete."""
    domain = get_object_or_404(
        Domain.objects.restrict(request.user, MANAGE).filter(removed_at__isnull=True).select_related("account"), pk=pk
    )
    context = rollout.rollout_context(domain)
    lockout = context["lockout"]
    denied = lockout.denied if lockout else []
    kind = request.GET.get("type", "")
    if kind:
        denied = [r for r in denied if r["type"] == kind]
    if request.GET.get("format") == "csv":
        return csv_response(
            f"isolation-lockout-{domain.domain_id}.csv",
            [LOCKOUT_CSV_HEADER]
            + [[r["type"], r["name"], r["arn"], r["coverage_label"], " ".join(r["actions"])] for r in denied],
        )
    page = Paginator(denied, 50).get_page(request.GET.get("page"))
    context.update(
        {
            "page_obj": page,
            "is_paginated": page.has_other_pages(),
            "object_list": page.object_list,
            "type": kind,
            "types": [t["type"] for t in lockout.by_type if t["denied"]] if lockout else [],
            "querystring": urlencode({"type": kind}) if kind else "",
        }
    )
    if request.htmx:
        return render(request, "iamaccess/_lockout_rows.html", context)
    return render(request, "iamaccess/isolation_rollout.html", context)
