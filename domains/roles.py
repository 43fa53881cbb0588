"""The roles page and API: platform admins give people roles in domains (or in every domain) and take them away.

Lives in the domains app because it offers the inventory's domains to choose from; the rules and the audit are in
:mod:`portal.roles`.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError

from domains.models import Domain
from portal.api import service_call
from portal.filtering import SearchFilter
from portal.listing import FilteredListView
from portal.models import RoleAssignment
from portal.roles import do_assign_role, do_revoke_role
from portal.scoping import grants_for, require_admin


def domain_names() -> dict[str, str]:
    return dict(Domain.objects.filter(removed_at__isnull=True).values_list("arn", "name"))


class RoleAssignmentFilterSet(django_filters.FilterSet):
    q = SearchFilter(fields=("user__username", "user__email", "user__first_name", "user__last_name"))
    role = django_filters.ChoiceFilter(choices=RoleAssignment.Role.choices)
    domain = django_filters.CharFilter(field_name="domain_arn", label="Domain ARN")

    class Meta:
        model = RoleAssignment
        fields = ["q", "role", "domain"]


class RoleForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"), to_field_name="username"
    )
    role = forms.ChoiceField(choices=RoleAssignment.Role.choices)
    domain_arn = forms.ChoiceField(label="Domain", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain_arn"].choices = [
            ("", "Every domain"),
            *sorted(domain_names().items(), key=lambda item: item[1]),
        ]


class RoleListView(FilteredListView):
    model = RoleAssignment
    filterset_class = RoleAssignmentFilterSet
    template_name = "domains/role_list.html"
    partial_template_name = "domains/_role_rows.html"

    def scoped_queryset(self) -> QuerySet:
        require_admin(self.request.user)
        return RoleAssignment.objects.all()

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("user", "granted_by").order_by("user__username", "role", "domain_arn")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_admin(request.user)
        form = RoleForm(request.POST)
        if form.is_valid():
            try:
                do_assign_role(
                    form.cleaned_data["user"],
                    form.cleaned_data["role"],
                    domain_arn=form.cleaned_data["domain_arn"],
                    actor=request.user,
                )
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(
                    request,
                    f"{form.cleaned_data['user']} is now "
                    f"{RoleAssignment.Role(form.cleaned_data['role']).label.lower()}.",
                )
                return redirect("domains:role-list")
        else:
            for field, errors in form.errors.items():
                messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect("domains:role-list")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "form": RoleForm(), "domain_names": domain_names()}


@login_required
@require_POST
def role_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    assignment = get_object_or_404(RoleAssignment.objects.select_related("user"), pk=pk)
    do_revoke_role(assignment, actor=request.user)
    messages.success(request, f"Took the role {assignment.get_role_display().lower()} from {assignment.user}.")
    return redirect("domains:role-list")


class RoleAssignmentSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all())

    class Meta:
        model = RoleAssignment
        fields = ["id", "user", "role", "domain_arn", "granted_at"]
        read_only_fields = ["id", "granted_at"]


class RoleAssignmentViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Role assignments (platform admins only; everyone else gets 404)."""

    serializer_class = RoleAssignmentSerializer
    filterset_class = RoleAssignmentFilterSet
    queryset = RoleAssignment.objects.none()  # tells the schema the model; get_queryset decides what is seen

    def get_queryset(self) -> QuerySet:
        if not grants_for(self.request.user).is_admin:
            raise NotFound()
        return RoleAssignment.objects.select_related("user").order_by("user__username", "role", "domain_arn")

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self.get_queryset()  # 404 for anyone but admins, before the body says whether a user name exists
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: RoleAssignmentSerializer) -> None:
        data = serializer.validated_data
        if data.get("domain_arn") and data["domain_arn"] not in domain_names():
            raise ApiValidationError({"domain_arn": "No such domain in the inventory."})
        serializer.instance = service_call(
            do_assign_role, data["user"], data["role"], domain_arn=data.get("domain_arn", ""), actor=self.request.user
        )

    def perform_destroy(self, instance: RoleAssignment) -> None:
        do_revoke_role(instance, actor=self.request.user)
