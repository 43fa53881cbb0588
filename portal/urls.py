"""The portal's URLconf: its own pages, then every app's pages and API as the apps registered them."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from portal import audit_views, mail_views, sso, token_views, views
from portal.api import ApiRootView
from portal.registry import registry
from portal.throttling import obtain_auth_token

portal_patterns = [
    path("audit/", audit_views.AuditListView.as_view(), name="audit-list"),
    path("tokens/", token_views.MyTokensView.as_view(), name="token-list"),
    path("tokens/all/", token_views.AllTokensView.as_view(), name="token-admin-list"),
    path("tokens/<int:pk>/revoke/", token_views.revoke_token, name="token-revoke"),
]
oidc_patterns = [
    path("authenticate/", sso.SSOLoginView.as_view(), name="oidc_authentication_init"),
    path("callback/", sso.SSOCallbackView.as_view(), name="oidc_authentication_callback"),
]
audit_api = DefaultRouter(trailing_slash=True)
audit_api.include_root_view = False
audit_api.register("audit", audit_views.AuditEventViewSet, basename="api-audit")
audit_api.register("mail", mail_views.OutgoingMailViewSet, basename="api-mail")
audit_api.register("tokens", token_views.ApiTokenViewSet, basename="api-token-item")

handler404 = "portal.views.not_found"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("health/", views.readiness, name="readiness"),
    path("api/health/", views.readiness_api, name="api-readiness"),
    path("login/", views.PortalLoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", ApiRootView.as_view(), name="api-root"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", views.api_docs, name="api-docs"),
    path("api/auth/", include("rest_framework.urls")),
    path("api/auth/token/", obtain_auth_token, name="api-token"),
    *[path("api/", include(module)) for module in registry.api_urls],
    path("api/", include(audit_api.urls)),
    path("", include((portal_patterns, "portal"))),
    path("oidc/", include(oidc_patterns)),
    *[path(prefix, include(module)) for prefix, module in registry.urls],
]
