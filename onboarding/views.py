"""Pages of onboarding: the approver inbox, request forms and timelines, persona templates and space policies,
offboarding plans. Actions post to small views that call the services and answer HTMX with the updated fragment."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from domains.models import Domain
from onboarding import services
from onboarding.filtersets import (
    OffboardingFilterSet,
    PersonaTemplateFilterSet,
    ProfileRequestFilterSet,
    SpaceRequestFilterSet,
)
from onboarding.forms import (
    DecisionForm,
    ExtendForm,
    OffboardingForm,
    PersonaTemplateForm,
    ProfileRequestForm,
    SpacePolicyForm,
    SpaceRequestForm,
    live_domains,
)
from onboarding.models import Offboarding, PersonaTemplate, ProfileRequest, Request, SpacePolicy, SpaceRequest
from portal.listing import FilteredListView
from portal.models import AuditEvent
from portal.pricing import PRICES_SOURCE
from portal.registry import registry
from portal.scoping import APPROVE, MANAGE, REQUEST_PROFILE, REQUEST_SPACE, VIEW, grants_for, require_somewhere

KINDS: dict[str, type[Request]] = {"profile": ProfileRequest, "space": SpaceRequest}
INBOX_ROWS = 50  # per kind, oldest first; the full lists are a link away


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for messages_ in exc.message_dict.values() for m in messages_]
    return exc.messages


def _form_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _related(queryset: QuerySet) -> QuerySet:
    fields = ["domain", "requested_by", "decided_by"]
    if queryset.model is ProfileRequest:
        fields += ["person", "template"]
    else:
        fields += ["owner_profile"]
    return queryset.select_related(*fields)


def _pending(user: Any, model: type[Request]) -> QuerySet:
    """What waits for this person's decision: submitted requests in their domains that are not their own."""
    queryset = model.objects.restrict(user, APPROVE).filter(status=Request.Status.SUBMITTED).exclude(requested_by=user)
    if model is ProfileRequest:
        queryset = queryset.exclude(person=user)
    return _related(queryset).order_by("created_at")


# -- inbox ------------------------------------------------------------------------------------------------------
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    grants = grants_for(user)
    mine_profiles = _related(
        ProfileRequest.objects.filter(person=user) | ProfileRequest.objects.filter(requested_by=user)
    ).order_by("-created_at")[:10]
    mine_spaces = _related(SpaceRequest.objects.filter(requested_by=user)).order_by("-created_at")[:10]
    offboardings = (
        Offboarding.objects.restrict(user, VIEW)
        .filter(status=Offboarding.Status.PLANNED)
        .exclude(requested_by=user)
        .select_related("person", "requested_by")
    )
    expired = _related(SpaceRequest.objects.restrict(user, APPROVE).filter(status=Request.Status.EXPIRED)).order_by(
        "expires_on"
    )
    pending_profiles, pending_spaces = _pending(user, ProfileRequest), _pending(user, SpaceRequest)
    leavers = list(services.proposed_leavers(user)[: INBOX_ROWS + 1])
    sections = [(s.template, c) for s in registry.inbox_sections if (c := s.context(request)) is not None]
    return render(
        request,
        "onboarding/inbox.html",
        {
            "pending_profiles": pending_profiles[:INBOX_ROWS],
            "pending_spaces": pending_spaces[:INBOX_ROWS],
            "pending_profile_count": pending_profiles.count(),
            "pending_space_count": pending_spaces.count(),
            "inbox_rows": INBOX_ROWS,
            "expired_spaces": expired,
            "pending_offboardings": offboardings,
            "leavers": leavers[:INBOX_ROWS],
            "more_leavers": len(leavers) > INBOX_ROWS,
            "is_approver": bool(grants.domains_for(APPROVE)),
            "may_request_profile": bool(grants.domains_for(REQUEST_PROFILE) or grants.domains_for(MANAGE)),
            "may_request_space": bool(grants.domains_for(REQUEST_SPACE)),
            "mine_profiles": mine_profiles,
            "mine_spaces": mine_spaces,
            "inbox_sections": sections,
        },
    )


# -- lists ------------------------------------------------------------------------------------------------------
class RequestListView(FilteredListView):
    def decorate(self, queryset: QuerySet) -> QuerySet:
        return _related(queryset)


class ProfileRequestListView(RequestListView):
    model = ProfileRequest
    filterset_class = ProfileRequestFilterSet
    template_name = "onboarding/profile_request_list.html"
    partial_template_name = "onboarding/_profile_request_rows.html"


class SpaceRequestListView(RequestListView):
    model = SpaceRequest
    filterset_class = SpaceRequestFilterSet
    template_name = "onboarding/space_request_list.html"
    partial_template_name = "onboarding/_space_request_rows.html"


# -- profile requests -------------------------------------------------------------------------------------------
@login_required
def profile_request_new(request: HttpRequest) -> HttpResponse:
    form = ProfileRequestForm(
        request.POST if request.method == "POST" else None, initial=request.GET.dict(), user=request.user
    )
    if not form.fields["domain"].queryset.exists():
        raise Http404("You may not request a profile in any domain.")
    preview, sso_user, preview_error = None, "", ""
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data.get("person")
        person = chosen.portal_user if chosen is not None else request.user
        try:
            req = services.do_submit_profile_request(
                actor=request.user,
                person=person,
                domain=form.cleaned_data["domain"],
                template=form.cleaned_data["template"],
                justification=form.cleaned_data["justification"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                f"Request {req.request_id} for the profile {req.profile_name} is submitted; "
                f"the domain's approvers have been told.",
            )
            return redirect(req)
    domain = form.chosen_domain()
    if domain is not None:
        values = form.data if form.is_bound else form.initial
        # Only people the caller may request for: who manages this domain picks from the form's list (no name for
        # one not on it); anyone else previews their own name, whatever ``person`` they send.
        person: Any = request.user
        if "person" in form.fields and values.get("person") and grants_for(request.user).allows(MANAGE, domain.arn):
            chosen = form.fields["person"].queryset.filter(portal_user__username=values["person"]).first()
            person = chosen.portal_user if chosen is not None else None
        if person is not None:
            preview, sso_user, preview_error = _name_preview(request.user, person, domain)
    template = (
        "onboarding/_profile_request_form.html"
        if request.htmx and request.method == "GET"
        else "onboarding/profile_request_form.html"
    )
    return render(
        request,
        template,
        {
            "form": form,
            "preview": preview,
            "domain": domain,
            "sso_user": sso_user,
            "preview_error": preview_error,
        },
    )


def _name_preview(actor: Any, person: Any, domain: Any) -> tuple[str | None, str, str]:
    """The profile name a request would get, the SSO user it binds to (from the directory), and what is wrong."""
    try:
        sso_user = services.sso_user_identity(person, domain, on_behalf=person.pk != actor.pk)
    except ValidationError as exc:
        return None, "", " ".join(exc.messages)
    name = services.derive_profile_name(person, domain, sso_user)
    try:
        services.check_profile_name(name, f"the user name {sso_user or person.get_username()!r}")
    except ValidationError as exc:
        return name or None, sso_user, " ".join(exc.messages)
    return name, sso_user, ""


def _detail(request: HttpRequest, model: type[Request], pk: int) -> Request:
    return get_object_or_404(_related(model.objects.restrict(request.user, VIEW)), pk=pk)


def _timeline(req: Any) -> QuerySet:
    return AuditEvent.objects.filter(request_id=req.request_id).order_by("at", "pk")


@login_required
def request_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    req = _detail(request, KINDS[kind], pk)
    context = {"req": req, "kind": kind, "timeline": _timeline(req), **services.open_actions(request.user, req)}
    return render(request, f"onboarding/{kind}_request_detail.html", context)


@login_required
def request_progress(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The status fragment a request page polls while a task works on it; 286 stops the polling."""
    req = _detail(request, KINDS[kind], pk)
    response = render(
        request, "onboarding/_request_status.html", {"req": req, "kind": kind, "timeline": _timeline(req)}
    )
    if not req.is_working:
        response.status_code = 286
    return response


@login_required
@require_POST
def request_action(request: HttpRequest, kind: str, pk: int, action: str) -> HttpResponse:
    """Approve, reject, cancel, retry, extend or delete; HTMX gets the inbox row (or the status) back."""
    req = _detail(request, KINDS[kind], pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    try:
        if action == "approve":
            req = services.do_approve(req, actor=request.user)
        elif action == "reject":
            req = services.do_reject(req, actor=request.user, reason=form.cleaned_data.get("reason", ""))
        elif action == "cancel":
            req = services.do_cancel(req, actor=request.user)
        elif action == "retry":
            req = services.do_retry(req, actor=request.user)
        elif action == "retry-now":
            req = services.do_retry_now(req, actor=request.user)
        elif action == "extend" and isinstance(req, SpaceRequest):
            extend = ExtendForm(request.POST)
            if not extend.is_valid():
                raise ValidationError({"expires_on": "Give the new expiry date (YYYY-MM-DD)."})
            req = services.do_extend_space(req, actor=request.user, expires_on=extend.cleaned_data["expires_on"])
        elif action == "delete" and isinstance(req, SpaceRequest):
            req = services.do_delete_space(req, actor=request.user)
        else:
            raise Http404("No such action.")
        error = None
    except ValidationError as exc:
        error = " ".join(_errors(exc))
    req = _detail(request, KINDS[kind], pk)
    if request.htmx and request.POST.get("from") == "inbox":
        return render(request, "onboarding/_inbox_row.html", {"req": req, "kind": kind, "error": error})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _done_message(req, action))
    return redirect(req)


def _done_message(req: Request, action: str) -> str:
    """What the action did, in words: an extension is not an activation, even when the status reads "active"."""
    what = f"{req.request_id} ({req.space_name})" if isinstance(req, SpaceRequest) else req.request_id
    if action == "approve":
        return f"{what} approved: the portal is creating it in AWS."
    if action == "reject":
        return f"{what} rejected; the requester is told your reason."
    if action == "cancel":
        return f"{what} cancelled."
    if action == "retry":
        return f"{what} is queued for another attempt."
    if action == "extend":
        return f"{what} extended: the space now expires on {req.expires_on:%Y-%m-%d}."
    return f"{what}: the space is queued for deletion, apps first."


# -- shared spaces ----------------------------------------------------------------------------------------------
def _estimate(form: SpaceRequestForm, domain: Domain | None) -> tuple[dict[str, Any] | None, str | None]:
    """The monthly estimate of what the form holds so far, or why there is none: the instance type and size are
    cleaned by the form's own fields (the same bounds as the request)."""
    values = form.data if form.is_bound else form.initial
    choices = [value for value, _ in form.fields["instance_type"].choices]
    if not choices:  # a space policy that allows no instance type: nothing to estimate
        return None, None
    # An instance type the chosen domain does not offer (the domain was just changed) shows the first it offers.
    instance = values.get("instance_type") if values.get("instance_type") in choices else choices[0]
    raw_size = values.get("ebs_size_gb") or form.fields["ebs_size_gb"].initial
    region = domain.region if domain else "us-east-1"
    try:
        size = form.fields["ebs_size_gb"].clean(raw_size)
        figures = services.estimate_space(instance, size, region)
    except ValidationError as exc:
        return None, " ".join(_errors(exc))
    return {**figures, "instance_type": instance, "ebs_size_gb": size, "region": region}, None


@login_required
def space_request_new(request: HttpRequest) -> HttpResponse:
    form = SpaceRequestForm(
        request.POST if request.method == "POST" else None, initial=request.GET.dict(), user=request.user
    )
    if not form.fields["domain"].queryset.exists():
        raise Http404("You may not request a shared space in any domain.")
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            req = services.do_submit_space_request(
                actor=request.user,
                domain=values["domain"],
                space_name=values["space_name"],
                display_name=values["display_name"],
                app_type=values["app_type"],
                instance_type=values["instance_type"],
                ebs_size_gb=values["ebs_size_gb"],
                idle_timeout_minutes=values["idle_timeout_minutes"],
                expires_on=values["expires_on"],
                purpose=values["purpose"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            outcome = (
                "approved within the domain's quota and is being created"
                if req.auto_approved
                else "submitted; the domain's approvers have been told"
            )
            messages.success(request, f"Request {req.request_id} for the shared space {req.space_name} is {outcome}.")
            return redirect(req)
    domain = form.chosen_domain()
    estimate, estimate_error = _estimate(form, domain)
    context = {
        "form": form,
        "domain": domain,
        "estimate": estimate,
        "estimate_error": estimate_error,
        "prices_source": PRICES_SOURCE,
        "own_profile": None,
        "policy": form.policy,
    }
    if domain is not None:
        try:
            context["own_profile"] = services.lead_profile(request.user, domain)
        except ValidationError as exc:
            context["profile_problem"] = " ".join(exc.messages)
    template = (
        "onboarding/_space_request_form.html"
        if request.htmx and request.method == "GET"
        else "onboarding/space_request_form.html"
    )
    return render(request, template, context, status=400 if form.errors or estimate_error else 200)


@login_required
def space_estimate(request: HttpRequest) -> HttpResponse:
    """The monthly estimate shown beside the form as the lead changes instance type or size."""
    form = SpaceRequestForm(initial=request.GET.dict(), user=request.user)
    estimate, error = _estimate(form, form.chosen_domain())
    return render(
        request,
        "onboarding/_space_estimate.html",
        {"estimate": estimate, "estimate_error": error, "prices_source": PRICES_SOURCE},
        status=400 if error else 200,
    )


# -- persona templates and space policies -----------------------------------------------------------------------
class PersonaTemplateListView(FilteredListView):
    model = PersonaTemplate
    filterset_class = PersonaTemplateFilterSet
    template_name = "onboarding/persona_list.html"
    partial_template_name = "onboarding/_persona_rows.html"
    action = MANAGE

    def scoped_queryset(self) -> QuerySet:
        require_somewhere(self.request.user, MANAGE)
        return super().scoped_queryset()

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("domain")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        domains = live_domains(self.request.user, MANAGE)
        policies = {p.domain_id: p for p in SpacePolicy.objects.filter(domain__in=domains)}
        return {**super().get_context_data(**kwargs), "policy_rows": [(d, policies.get(d.pk)) for d in domains]}


def _save_form(
    request: HttpRequest, form: Any, save: Any, template: str, context: dict[str, Any], success: str
) -> HttpResponse:
    """Validate the form, save its instance through the audited service, or show the form with what is wrong."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.instance, actor=request.user)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, success.format(obj=form.instance))
            return redirect("onboarding:persona-list")
    return render(request, template, {"form": form, **context})


@login_required
def persona_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Save a persona; then warn (never block) when its execution role still allows what it hides, on the persona's
    page, with the deny statements that would enforce it."""
    instance = get_object_or_404(PersonaTemplate.objects.restrict(request.user, MANAGE), pk=pk) if pk else None
    if instance is None:
        require_somewhere(request.user, MANAGE)
    form = PersonaTemplateForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            persona = services.do_save_persona(form.instance, actor=request.user)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Persona {persona.name} of {persona.domain.name} is saved.")
            advice = services.persona_role_check(persona)
            if advice and advice["status"] == "leaks":
                messages.warning(request, advice["message"])
                return redirect("onboarding:persona-edit", pk=persona.pk)
            return redirect("onboarding:persona-list")
    advice = services.persona_role_check(instance) if instance is not None else None
    return render(
        request,
        "onboarding/persona_form.html",
        {
            "form": form,
            "object": instance,
            "role_check": advice,
            "deny_text": json.dumps(advice["deny"], indent=2) if advice and advice["deny"] else "",
        },
    )


@login_required
def space_policy_form(request: HttpRequest, domain_pk: int) -> HttpResponse:
    domain = get_object_or_404(live_domains(request.user, MANAGE), pk=domain_pk)
    instance = SpacePolicy.objects.filter(domain=domain).first() or SpacePolicy(domain=domain)
    form = SpacePolicyForm(request.POST or None, instance=instance)
    return _save_form(
        request,
        form,
        services.do_save_space_policy,
        "onboarding/space_policy_form.html",
        {"domain": domain},
        "The space policy of {obj.domain.name} is saved.",
    )


# -- offboarding ------------------------------------------------------------------------------------------------
class OffboardingListView(FilteredListView):
    model = Offboarding
    filterset_class = OffboardingFilterSet
    template_name = "onboarding/offboarding_list.html"
    partial_template_name = "onboarding/_offboarding_rows.html"

    def scoped_queryset(self) -> QuerySet:
        require_somewhere(self.request.user, APPROVE)
        return super().scoped_queryset()

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("person", "login", "requested_by", "decided_by")


@login_required
def offboarding_new(request: HttpRequest) -> HttpResponse:
    require_somewhere(request.user, APPROVE)
    form = OffboardingForm(
        request.POST if request.method == "POST" else (request.GET or None), user=request.user, initial={}
    )
    plan: list[dict[str, Any]] | None = None
    person = None
    if form.is_bound:
        form.is_valid()
        person = form.cleaned_data.get("person")
        for name in ("reason",) if request.method == "GET" else ():
            form.errors.pop(name, None)  # the preview asks for the person only
    if request.method == "POST" and form.is_valid():
        close_login = form.cleaned_data.get("close_login", True)
        try:
            offboarding = services.do_plan_offboarding(
                actor=request.user,
                person=person,
                reason=form.cleaned_data["reason"],
                close_login=close_login if "close_login" in form.fields else True,
                keep_login_reason=form.cleaned_data.get("keep_login_reason", ""),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Plan {offboarding.request_id} is ready; another approver must approve it.")
            return redirect(offboarding)
    if person is not None:
        plan = services.offboarding_plan(request.user, person)
    return render(request, "onboarding/offboarding_form.html", {"form": form, "plan": plan, "person": person})


def _offboarding(request: HttpRequest, pk: int) -> Offboarding:
    return get_object_or_404(
        Offboarding.objects.restrict(request.user, VIEW)
        .select_related("person", "login", "requested_by", "decided_by")
        .prefetch_related("steps"),
        pk=pk,
    )


@login_required
def offboarding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    offboarding = _offboarding(request, pk)
    return render(
        request,
        "onboarding/offboarding_detail.html",
        {
            "offboarding": offboarding,
            "steps": offboarding.steps.all(),
            "timeline": _timeline(offboarding),
            **services.offboarding_actions(request.user, offboarding),
        },
    )


@login_required
def offboarding_progress(request: HttpRequest, pk: int) -> HttpResponse:
    offboarding = _offboarding(request, pk)
    response = render(
        request, "onboarding/_offboarding_status.html", {"offboarding": offboarding, "steps": offboarding.steps.all()}
    )
    if not offboarding.is_working:
        response.status_code = 286
    return response


@login_required
@require_POST
def offboarding_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    offboarding = _offboarding(request, pk)
    actions = {
        "approve": services.do_approve_offboarding,
        "cancel": services.do_cancel_offboarding,
        "resume": services.do_resume_offboarding,
        "retry-now": services.do_retry_now,
    }
    if action not in actions:
        raise Http404("No such action.")
    try:
        offboarding = actions[action](offboarding, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        done = {
            "approve": "approved: the steps run now",
            "cancel": "cancelled",
            "resume": "resumes after its last finished step",
        }
        messages.success(request, f"{offboarding.request_id} {done[action]}.")
    return redirect(offboarding)
