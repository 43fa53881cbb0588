"""Views that belong to the whole portal: the overview, the liveness probe and the readiness page for admins."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from portal import sso
from portal.health import run_checks, run_liveness
from portal.scoping import grants_for

SSO_MESSAGES = {
    "failed": "The identity provider did not log you in (the sign-in was cancelled, took too long or did not match "
    "this browser's session). Try again.",
    "inactive": "Your portal login is deactivated. Ask a platform admin if you think this is wrong.",
    "unavailable": "The identity provider cannot be reached just now. Try again in a moment; platform admins can "
    "still log in with a local account below.",
}


class PortalLoginView(auth_views.LoginView):
    """The password form (local accounts, e.g. a break-glass admin) and, when an identity provider is configured,
    "Log in with SSO"; a refused SSO login comes back here with ``?sso=failed|inactive``."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sso_enabled"] = sso.is_configured()
        context["sso_name"] = settings.OIDC_PROVIDER_NAME
        context["sso_message"] = SSO_MESSAGES.get(self.request.GET.get("sso", ""))
        return context


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"is_admin": grants_for(request.user).is_admin})


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and orchestrators, anonymous: 200 when this process and its database answer,
    503 otherwise. It says nothing else and reaches neither AWS nor the broker (see the readiness page for those)."""
    alive, checks = run_liveness()
    return JsonResponse({"status": "ok" if alive else "fail", "checks": checks}, status=200 if alive else 503)


def _require_platform_admin(user: object) -> None:
    if not grants_for(user).is_admin:
        raise Http404("Only platform admins see the portal's readiness.")


@login_required
@require_GET
@never_cache
def readiness(request: HttpRequest) -> HttpResponse:
    """Platform admins: the database, broker, AWS (cached a minute) and workers, with their details."""
    _require_platform_admin(request.user)
    ready, checks = run_checks()
    return render(
        request,
        "portal/health.html",
        {"healthy": ready, "checks": checks, "aws_endpoint": settings.AWS_ENDPOINT_URL},
    )


@extend_schema(responses={200: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT}, tags=["health"])
@api_view(["GET"])
def readiness_api(request: Request) -> Response:
    """The readiness page as JSON (platform admins): 200 when the database, broker and AWS answer, else 503."""
    _require_platform_admin(request.user)
    ready, checks = run_checks()
    response = Response({"status": "ok" if ready else "fail", "checks": checks}, status=200 if ready else 503)
    response["Cache-Control"] = "no-store"
    return response


_swagger = SpectacularSwaggerSplitView.as_view(url_name="api-schema")


def api_docs(request: HttpRequest) -> HttpResponse:
    """The browsable API docs; a visitor who is not logged in is sent to the login page unless the schema is
    public (``API_SCHEMA_PUBLIC``)."""
    if not settings.API_SCHEMA_PUBLIC and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _swagger(request)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for an address no route matches: JSON under ``/api/`` (what API clients parse), the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
