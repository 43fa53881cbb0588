"""Views that belong to the whole portal: the overview and the health endpoint."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from drf_spectacular.views import SpectacularSwaggerView

from portal.health import run_checks


@login_required
def home(request: HttpRequest) -> HttpResponse:
    healthy, checks = run_checks()
    return render(
        request,
        "portal/home.html",
        {"healthy": healthy, "checks": checks, "aws_endpoint": settings.AWS_ENDPOINT_URL},
    )


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Public health answer for load balancers: 200 when the database, broker and AWS answer, else 503."""
    healthy, checks = run_checks()
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)


_swagger = SpectacularSwaggerView.as_view(url_name="api-schema")


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
