"""The identity provider's groups -> portal roles mapping: a page and an API for platform admins.

Lives in the domains app (like the roles page) because it offers the inventory's domains to choose from; the
rules, the audit and the login-time re-evaluation are in :mod:`portal.sso`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError

from domains.roles import domain_names
from portal import sso
from portal.api import service_call
from portal.filtering import GroupRoleMappingFilterSet
from portal.listing import FilteredListView
from portal.models import GroupRoleMapping, RoleAssignment
from portal.scoping import grants_for, require_admin


class MappingForm(forms.Form):
    group = forms.CharField(max_length=200, help_text="Exactly as the identity provider sends it, e.g. sagemaker-risk.")
    role = forms.ChoiceField(choices=RoleAssignment.Role.choices)
    domain_arns = forms.MultipleChoiceField(
        label="Domains",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="None: every domain (platform admin, finance, domain approver only).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = domain_names()
        self.fields["domain_arns"].choices = sorted(names.items(), key=lambda item: item[1])


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


class MappingListView(FilteredListView):
    """Every mapping, with the form that adds one (a POST that fails re-renders it with its errors, keeping the
    input)."""

    model = GroupRoleMapping
    filterset_class = GroupRoleMappingFilterSet
    template_name = "domains/sso_group_list.html"
    partial_template_name = "domains/_sso_group_rows.html"
    default_sort = "group"

    def scoped_queryset(self) -> QuerySet:
        require_admin(self.request.user)
        return GroupRoleMapping.objects.all()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", MappingForm())
        context["domain_names"] = domain_names()
        context["sso_configured"] = sso.is_configured()
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_admin(request.user)
        form = MappingForm(request.POST)
        if form.is_valid():
            try:
                mapping = sso.do_save_mapping(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"Members of {mapping.group} get the role {mapping.get_role_display()} "
                    "from their next login through the identity provider.",
                )
                return redirect("domains:sso-group-list")
        self.object_list = self.get_queryset()
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = 400
        return response

    def get_template_names(self) -> list[str]:
        return [self.template_name] if self.request.method == "POST" else super().get_template_names()


@login_required
def mapping_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    mapping = get_object_or_404(GroupRoleMapping, pk=pk)
    initial = {"group": mapping.group, "role": mapping.role, "domain_arns": mapping.domain_arns}
    form = MappingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            sso.do_save_mapping(actor=request.user, mapping=mapping, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"Mapping of {mapping.group} changed; it applies from each member's next login.")
            return redirect("domains:sso-group-list")
    status = 400 if request.method == "POST" else 200
    return render(request, "domains/sso_group_form.html", {"form": form, "mapping": mapping}, status=status)


@login_required
@require_POST
def mapping_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user)
    mapping = get_object_or_404(GroupRoleMapping, pk=pk)
    sso.do_delete_mapping(mapping, actor=request.user)
    messages.success(request, f"Mapping of {mapping.group} removed: its roles go at each member's next login.")
    return redirect("domains:sso-group-list")


class GroupRoleMappingSerializer(serializers.ModelSerializer):
    domain_arns = serializers.ListField(
        child=serializers.CharField(max_length=400), required=False, help_text="Empty: every domain."
    )

    class Meta:
        model = GroupRoleMapping
        fields = ["id", "group", "role", "domain_arns", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list[Any] = []  # the service says which group already gives the role

    def save(self, **kwargs: Any) -> GroupRoleMapping:
        data = {**self.validated_data}
        if self.instance is not None:  # a PATCH changes what it names and keeps the rest
            data = {
                "group": self.instance.group,
                "role": self.instance.role,
                "domain_arns": self.instance.domain_arns,
                **data,
            }
        unknown = sorted(set(data.get("domain_arns") or []) - set(domain_names()))
        if unknown:
            raise ApiValidationError({"domain_arns": f"No such domain in the inventory: {', '.join(unknown)}."})
        self.instance = service_call(
            sso.do_save_mapping,
            actor=self.context["request"].user,
            mapping=self.instance,
            group=data["group"],
            role=data["role"],
            domain_arns=data.get("domain_arns") or [],
        )
        return self.instance


class GroupRoleMappingViewSet(viewsets.ModelViewSet):
    """Identity provider group -> portal role mappings (platform admins only; everyone else gets 404). Each change
    is audited and applies from each member's next login through the identity provider."""

    serializer_class = GroupRoleMappingSerializer
    filterset_class = GroupRoleMappingFilterSet
    queryset = GroupRoleMapping.objects.none()  # tells the schema the model; get_queryset decides what is seen

    def get_queryset(self) -> QuerySet:
        if not grants_for(self.request.user).is_admin:
            raise NotFound()
        return GroupRoleMapping.objects.all()

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self.get_queryset()  # a non-admin gets the 404 before any word about the body
        return super().create(request, *args, **kwargs)

    def perform_destroy(self, instance: GroupRoleMapping) -> None:
        sso.do_delete_mapping(instance, actor=self.request.user)
