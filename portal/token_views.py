"""API tokens: "My tokens" (create, with the key shown once; list; revoke), every token for platform admins, and
the same through the API. Writes go through :mod:`portal.apitokens`, which audits them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from portal import apitokens
from portal.api import ScopedViewSetMixin, service_call
from portal.filtering import ApiTokenFilterSet
from portal.listing import FilteredListView
from portal.models import ApiToken
from portal.scoping import grants_for, require_admin


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. 'nightly cost report' or 'my laptop CLI'.")
    expires_in_days = forms.IntegerField(
        label="Lasts (days)", min_value=1, help_text="The token stops working after this many days."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["expires_in_days"]
        field.max_value = settings.API_TOKEN_MAX_DAYS
        field.widget.attrs["max"] = settings.API_TOKEN_MAX_DAYS
        field.initial = min(settings.API_TOKEN_DEFAULT_DAYS, settings.API_TOKEN_MAX_DAYS)
        field.validators.append(_max_days)


def _max_days(value: int) -> None:
    if value > settings.API_TOKEN_MAX_DAYS:
        raise ValidationError(f"A token lasts at most {settings.API_TOKEN_MAX_DAYS} days.")


class MyTokensView(FilteredListView):
    """The person's own tokens, with the form that creates one. The new key is shown on the answer to the POST
    only: it is never stored, so it can never be shown again."""

    model = ApiToken
    filterset_class = ApiTokenFilterSet
    template_name = "portal/token_list.html"
    partial_template_name = "portal/_token_rows.html"
    default_sort = "-created"

    def scoped_queryset(self) -> QuerySet:
        return ApiToken.objects.filter(user=self.request.user)

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("user", "revoked_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", TokenForm())
        context["mine"] = True
        context["is_admin"] = grants_for(self.request.user).is_admin
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = TokenForm(request.POST)
        context: dict[str, Any] = {"form": form}
        if form.is_valid():
            try:
                token, key = apitokens.do_create_token(
                    request.user,
                    name=form.cleaned_data["name"],
                    expires_in_days=form.cleaned_data["expires_in_days"],
                    actor=request.user,
                )
            except ValidationError as exc:
                for field, errors in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                context = {"form": TokenForm(), "new_token": token, "new_key": key}
        self.object_list = self.get_queryset()
        response = self.render_to_response(self.get_context_data(**context))
        response["Cache-Control"] = "no-store"  # the page may carry a key
        if form.errors:
            response.status_code = 400
        return response

    def get_template_names(self) -> list[str]:
        if self.request.method == "POST":
            return [self.template_name]
        return super().get_template_names()


class AllTokensView(FilteredListView):
    """Platform admins: every person's tokens, to find and revoke them."""

    model = ApiToken
    filterset_class = ApiTokenFilterSet
    template_name = "portal/token_admin_list.html"
    partial_template_name = "portal/_token_rows.html"
    default_sort = "-created"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            require_admin(request.user)
        return super().dispatch(request, *args, **kwargs)

    def decorate(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("user", "revoked_by")


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one token (its owner, or a platform admin); the form asks for confirmation first."""
    token = get_object_or_404(ApiToken.objects.restrict(request.user, "view").select_related("user"), pk=pk)
    try:
        apitokens.do_revoke_token(token, actor=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The token {token.name} ({token.prefix}…) is revoked: it no longer opens the API.")
    back = request.POST.get("next", "")
    return redirect(back if back in ("/tokens/", "/tokens/all/") else "portal:token-list")


class ApiTokenSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)
    state = serializers.ChoiceField(choices=apitokens.TOKEN_STATES, read_only=True)
    revoked_by = serializers.CharField(source="revoked_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "user",
            "name",
            "prefix",
            "state",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "revoked_by",
            "revoke_reason",
        ]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_in_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="The token's key: shown this once, never again.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
        read_only_fields = fields


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ApiTokenViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """API tokens: everyone lists, creates and revokes their own; platform admins list and revoke everyone's
    (``?user=`` narrows to one person, ``?state=active``). Only a digest of each key is kept."""

    serializer_class = ApiTokenSerializer
    filterset_class = ApiTokenFilterSet
    sort_fields = ApiTokenFilterSet.sort_fields
    default_sort = "-created"

    def base_queryset(self) -> QuerySet:
        return ApiToken.objects.select_related("user", "revoked_by")

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request: Request) -> Response:
        """Create a token for yourself; the answer holds its key, shown this once."""
        data = ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = service_call(
            apitokens.do_create_token,
            request.user,
            name=data.validated_data["name"],
            expires_in_days=data.validated_data.get("expires_in_days"),
            actor=request.user,
        )
        token.key = key
        answer = Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)
        answer["Cache-Control"] = "no-store"
        return answer

    @extend_schema(request=RevokeSerializer, responses={200: ApiTokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Revoke a token (your own, or anyone's for a platform admin); it stops opening the API at once."""
        token = self.get_object()
        data = RevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = service_call(
            apitokens.do_revoke_token, token, actor=request.user, reason=data.validated_data.get("reason", "")
        )
        return Response(ApiTokenSerializer(token).data)


class PasswordTokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, write_only=True)
    password = serializers.CharField(write_only=True, style={"input_type": "password"}, trim_whitespace=False)
    name = serializers.CharField(max_length=100, required=False, help_text="Default: 'API login'.")
    expires_in_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)


password_token_schema = extend_schema(
    request=PasswordTokenRequestSerializer,
    responses={
        200: inline_serializer(
            "PasswordToken",
            {
                "token": serializers.CharField(),
                "name": serializers.CharField(),
                "expires_at": serializers.DateTimeField(),
            },
        )
    },
)
