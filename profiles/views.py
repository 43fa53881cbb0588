"""Pages of the profiles app: user profiles, spaces and apps in the inventory."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portal.listing import FilteredListView
from profiles import services
from profiles.filtersets import AppFilterSet, SpaceFilterSet, UserProfileFilterSet
from profiles.forms import LinkPersonForm
from profiles.models import App, Space, UserProfile
from profiles.studio import StudioAccessError, studio_origin, studio_url_for


class ProfileListView(FilteredListView):
    model = UserProfile
    filterset_class = UserProfileFilterSet
    template_name = "profiles/profile_list.html"
    partial_template_name = "profiles/_profile_rows.html"

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("domain", "domain__account", "owner", "person")


class SpaceListView(FilteredListView):
    model = Space
    filterset_class = SpaceFilterSet
    template_name = "profiles/space_list.html"
    partial_template_name = "profiles/_space_rows.html"

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("domain", "domain__account", "owner_profile")


class AppListView(FilteredListView):
    model = App
    filterset_class = AppFilterSet
    template_name = "profiles/app_list.html"
    partial_template_name = "profiles/_app_rows.html"

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("domain", "domain__account", "user_profile", "space")


@login_required
def profile_detail(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(
        UserProfile.objects.restrict(request.user).select_related("domain", "domain__account", "owner", "person"),
        pk=pk,
    )
    is_mine = profile.owner_id == request.user.pk
    may_link = profile.removed_at is None and services.may_link_profile(request.user, profile)
    link_form = LinkPersonForm(user=request.user, initial={"person": profile.person_id}) if may_link else None
    response = render(
        request,
        "profiles/profile_detail.html",
        {
            "profile": profile,
            "is_mine": is_mine,
            "link_form": link_form,
            "spaces": profile.owned_spaces.restrict(request.user)
            .filter(removed_at__isnull=True)
            .select_related("domain", "owner_profile"),
            "apps": profile.apps.restrict(request.user).filter(removed_at__isnull=True).select_related("domain"),
        },
    )
    origin = studio_origin(profile) if is_mine else None
    if origin:  # the Open Studio form redirects there; without it the browser blocks the redirect (form-action)
        response._csp_update = {"form-action": [origin]}  # type: ignore[attr-defined]
    return response


@login_required
@require_POST
def link_person(request: HttpRequest, pk: int) -> HttpResponse:
    """Tie the profile to the person picked from the directory (admins and approvers of its domain; others: 404)."""
    profile = get_object_or_404(UserProfile.objects.restrict(request.user).select_related("domain", "person"), pk=pk)
    if not services.may_link_profile(request.user, profile):
        raise Http404("No such page.")
    form = LinkPersonForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect(profile)
    try:
        services.do_link_profile(profile, actor=request.user, person=form.cleaned_data["person"])
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect(profile)
    profile.refresh_from_db()
    if profile.person_id:
        messages.success(request, f"Profile {profile.name} now belongs to {profile.person}.")
    else:
        messages.success(request, f"Profile {profile.name} is back to the automatic match: no person matched it.")
    return redirect(profile)


@login_required
def space_detail(request: HttpRequest, pk: int) -> HttpResponse:
    space = get_object_or_404(
        Space.objects.restrict(request.user).select_related("domain", "domain__account", "owner_profile"), pk=pk
    )
    return render(
        request,
        "profiles/space_detail.html",
        {"space": space, "apps": space.apps.restrict(request.user).filter(removed_at__isnull=True)},
    )


@login_required
@require_POST
def open_studio(request: HttpRequest, pk: int) -> HttpResponse:
    """Open Studio on one's own profile: a presigned URL on IAM domains, the access portal on SSO domains."""
    profile = get_object_or_404(UserProfile.objects.restrict(request.user).select_related("domain__account"), pk=pk)
    try:
        url = studio_url_for(profile, request.user)
    except StudioAccessError as exc:
        messages.error(request, str(exc))
        return redirect("profiles:profile-detail", pk=profile.pk)
    return redirect(url)
